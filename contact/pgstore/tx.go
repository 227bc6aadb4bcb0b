package pgstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
)

// tx is the store's contact.Tx. Reads go to the database at once, in the SERIALIZABLE
// transaction, and are remembered; writes are kept in memory, and every later read
// answers with them applied. The BEGIN travels with the first read, and the writes
// with the COMMIT, so that a transaction costs its reads' round trips and one more.
type tx struct {
	s   *Store
	ctx context.Context

	conn   *pgxpool.Conn // acquired by the first statement
	began  bool          // BEGIN has been sent
	err    error         // the first failed statement: PostgreSQL has aborted the transaction
	closed bool          // Update has returned

	contacts   map[string]*entry         // every contact read or written, by id
	found      map[identity.Key][]string // the stored ids each key found
	order      []*entry                  // written contacts, in the order first written
	processed  map[string]bool           // messageIds asked about: processed before or not
	claims     []string                  // messageIds Processed inserted
	hasEvent   map[eventKey]bool         // whether stored contacts have events, as read
	marks      []string                  // messageIds marked processed
	tombstones map[string]tombRead       // userIds' stored tombstones read
	tombAsked  []string                  // userIds whose tombstone fn asked for
	putTombs   []contact.Tombstone       // the latest put of each userId
	outbox     []queuedEntry             // outbox entries enqueued, in order (see outbox.go)
}

// eventKey names a contact's event by messageId.
type eventKey struct{ contactID, messageID string }

// entry is one contact as the transaction sees it.
type entry struct {
	id      string
	base    *contact.Contact // as stored when read; nil when absent. Never changed.
	cur     *contact.Contact // as the transaction leaves it; nil when absent. Never changed.
	written bool             // cur was set by Insert or Put
	reset   bool             // the stored contact was deleted: its events and keys go
	dirty   bool             // in tx.order
	added   []event.Record   // events added (owned copies), in the order added
	removed []string         // messageIds of stored events removed (never when reset)
}

func newTx(s *Store, ctx context.Context) *tx {
	return &tx{s: s, ctx: ctx}
}

var _ contact.Tx = (*tx)(nil)

func (t *tx) usable() error {
	switch {
	case t.closed:
		return errClosed
	case t.err != nil:
		return t.err
	}
	return t.ctx.Err()
}

// batch returns a batch for the transaction's next statements, starting with the
// BEGIN when it has not been sent yet.
func (t *tx) batch() *pgx.Batch {
	b := &pgx.Batch{}
	if !t.began {
		b.Queue(sqlBegin)
		b.Queue(sqlNoSeqScan)
	}
	return b
}

// send sends b in one round trip and calls read with its results (past the BEGIN). A
// failure is remembered: the transaction can do nothing more.
func (t *tx) send(b *pgx.Batch, read func(br pgx.BatchResults) error) error {
	if t.conn == nil {
		c, err := t.s.pool.Acquire(t.ctx)
		if err != nil {
			return t.fail(err)
		}
		t.conn = c
	}
	br := t.conn.SendBatch(t.ctx, b)
	var err error
	if !t.began {
		t.began = true
		for range 2 {
			if _, err = br.Exec(); err != nil {
				break
			}
		}
	}
	if err == nil && read != nil {
		err = read(br)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return t.fail(err)
	}
	return nil
}

func (t *tx) fail(err error) error {
	if t.err == nil {
		if cerr := t.ctx.Err(); cerr != nil {
			err = cerr
		} else if !strings.HasPrefix(err.Error(), "pgstore: ") {
			err = fmt.Errorf("pgstore: %w", err)
		}
		t.err = err
	}
	return t.err
}

// release returns the connection to the pool, which closes it if it is still in a
// transaction.
func (t *tx) release() {
	if t.conn != nil {
		t.conn.Release()
		t.conn = nil
	}
}

// rollback ends the transaction, if one began, even when ctx is done.
func (t *tx) rollback() {
	if t.conn == nil || !t.began || t.conn.Conn().PgConn().TxStatus() == 'I' {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), 5*time.Second)
	defer cancel()
	if _, err := t.conn.Exec(ctx, sqlRollback); err != nil {
		// The connection is unusable; closing it ends the transaction on the server.
		_ = t.conn.Conn().Close(ctx)
	}
}

// load returns the entry of the contact with the id, reading the contact if the
// transaction has not.
func (t *tx) load(id string) (*entry, error) {
	if e, ok := t.contacts[id]; ok {
		return e, nil
	}
	var doc []byte
	b := t.batch()
	b.Queue(sqlContact, []byte(id))
	err := t.send(b, func(br pgx.BatchResults) error {
		err := br.QueryRow().Scan(&doc)
		if errors.Is(err, pgx.ErrNoRows) {
			doc, err = nil, nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	e := &entry{id: id}
	if doc != nil {
		c, err := decodeContact(doc)
		if err != nil {
			return nil, t.fail(err)
		}
		e.base, e.cur = c, c
	}
	t.remember(e)
	return e, nil
}

func (t *tx) remember(e *entry) {
	if t.contacts == nil {
		t.contacts = make(map[string]*entry, 2)
	}
	t.contacts[e.id] = e
}

// write marks the entry as changed by the transaction.
func (t *tx) write(e *entry) {
	if !e.dirty {
		e.dirty = true
		t.order = append(t.order, e)
	}
}

// Contact implements contact.Tx.
func (t *tx) Contact(id string) (*contact.Contact, error) {
	if err := t.usable(); err != nil {
		return nil, err
	}
	e, err := t.load(id)
	if err != nil {
		return nil, err
	}
	if e.cur == nil {
		return nil, notFound(id)
	}
	return e.cur.Clone(), nil
}

// Find implements contact.Tx. A userId's lookup also reads the userId's tombstone, in
// the same round trip: the Processor asks for it next.
func (t *tx) Find(key identity.Key) ([]*contact.Contact, error) {
	ids, err := t.FindIDs(key)
	if err != nil {
		return nil, err
	}
	out := make([]*contact.Contact, len(ids))
	for i, id := range ids {
		out[i] = t.contacts[id].cur.Clone()
	}
	return out, nil
}

// FindIDs implements [contact.IDFinder]: Find's ids, without copying the contacts. The
// slice is the caller's.
func (t *tx) FindIDs(key identity.Key) ([]string, error) {
	if err := t.usable(); err != nil {
		return nil, err
	}
	stored, err := t.storedIDs(key)
	if err != nil {
		return nil, err
	}
	// The stored matches, and the contacts this transaction changed that match now.
	ids := slices.Clone(stored)
	for _, e := range t.order {
		ids = append(ids, e.id)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := ids[:0]
	for _, id := range ids {
		if e := t.contacts[id]; e.cur != nil && e.cur.HasKey(key) {
			out = append(out, id)
		}
	}
	return out, nil
}

// storedIDs returns the ids of the stored contacts key finds, reading them (and the
// contacts) the first time the transaction asks: the transaction's snapshot gives the
// same answer every time.
func (t *tx) storedIDs(key identity.Key) ([]string, error) {
	if ids, ok := t.found[key]; ok {
		return ids, nil
	}
	b := t.batch()
	b.Queue(sqlContactFound, int16(key.Kind), []byte(key.Value))
	_, tombKnown := t.tombstones[key.Value]
	prefetch := key.Kind == identity.UserID && !tombKnown
	if prefetch {
		b.Queue(sqlTombstone, []byte(key.Value))
	}
	// Whether the contacts found have events with the messageIds claimed: the
	// Processor records the message's event on a contact it found, and asks first.
	var claimed [][]byte
	for _, m := range t.claims {
		claimed = append(claimed, []byte(m))
	}
	if len(claimed) > 0 {
		b.Queue(sqlFoundEvents, int16(key.Kind), []byte(key.Value), claimed)
	}
	var ids []string
	err := t.send(b, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, doc []byte
			if err := rows.Scan(&id, &doc); err != nil {
				rows.Close()
				return err
			}
			sid := string(id)
			ids = append(ids, sid)
			if _, ok := t.contacts[sid]; ok {
				continue // read before: the transaction's own version stands
			}
			c, err := decodeContact(doc)
			if err != nil {
				rows.Close()
				return err
			}
			t.remember(&entry{id: sid, base: c, cur: c})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if prefetch {
			if err := t.readTombstone(br, key.Value); err != nil {
				return err
			}
		}
		if len(claimed) > 0 {
			return t.readFoundEvents(br, ids)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if t.found == nil {
		t.found = make(map[identity.Key][]string, 2)
	}
	t.found[key] = ids
	return ids, nil
}

// readFoundEvents reads which of the contacts ids have events with the claimed
// messageIds, from a batch's next result, and remembers every answer.
func (t *tx) readFoundEvents(br pgx.BatchResults, ids []string) error {
	if t.hasEvent == nil {
		t.hasEvent = make(map[eventKey]bool, len(ids)*len(t.claims))
	}
	for _, id := range ids {
		for _, m := range t.claims {
			t.hasEvent[eventKey{id, m}] = false
		}
	}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, m []byte
		if err := rows.Scan(&id, &m); err != nil {
			return err
		}
		t.hasEvent[eventKey{string(id), string(m)}] = true
	}
	return rows.Err()
}

// tombRead is a userId's row of the tombstone table as a transaction read it.
type tombRead struct {
	row bool               // the row exists (maybe without a delete)
	ts  *contact.Tombstone // the delete it records; nil for none
}

// readTombstone reads a userId's tombstone from a batch's next result and remembers it.
func (t *tx) readTombstone(br pgx.BatchResults, userID string) error {
	var sec *int64
	var nsec *int32
	var mid []byte
	err := br.QueryRow().Scan(&sec, &nsec, &mid)
	if t.tombstones == nil {
		t.tombstones = make(map[string]tombRead, 1)
	}
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		t.tombstones[userID] = tombRead{}
	case err != nil:
		return err
	case sec == nil || nsec == nil:
		t.tombstones[userID] = tombRead{row: true}
	default:
		t.tombstones[userID] = tombRead{row: true, ts: &contact.Tombstone{UserID: userID, Time: joinTime(*sec, *nsec), MessageID: string(mid)}}
	}
	return nil
}

// Insert implements contact.Tx.
func (t *tx) Insert(c *contact.Contact) error {
	if err := t.usable(); err != nil {
		return err
	}
	if c == nil {
		return errNilContact
	}
	if c.ID() == "" {
		return errNoID
	}
	e, err := t.load(c.ID())
	if err != nil {
		return err
	}
	if e.cur != nil {
		return existsError(c.ID())
	}
	e.cur, e.written = c, true // kept, not copied: the caller no longer changes c (contact.Store, "Copies")
	t.write(e)
	return nil
}

// Put implements contact.Tx.
func (t *tx) Put(c *contact.Contact) error {
	if err := t.usable(); err != nil {
		return err
	}
	if c == nil {
		return errNilContact
	}
	e, err := t.load(c.ID())
	if err != nil {
		return err
	}
	if e.cur == nil {
		return notFound(c.ID())
	}
	e.cur, e.written = c, true // kept, not copied: the caller no longer changes c (contact.Store, "Copies")
	t.write(e)
	return nil
}

// Delete implements contact.Tx.
func (t *tx) Delete(id string) error {
	if err := t.usable(); err != nil {
		return err
	}
	e, err := t.load(id)
	if err != nil {
		return err
	}
	if e.cur == nil {
		return notFound(id)
	}
	e.cur, e.written, e.added, e.removed = nil, false, nil, nil
	e.reset = e.base != nil
	t.write(e)
	return nil
}

// stored reports which of the messageIds the stored contact has events with. The
// caller has checked that they are not the transaction's own.
func (t *tx) stored(e *entry, messageIDs []string) ([]string, error) {
	if e.base == nil || e.reset || len(messageIDs) == 0 {
		return nil, nil
	}
	if len(messageIDs) == 1 {
		if has, ok := t.hasEvent[eventKey{e.id, messageIDs[0]}]; ok {
			if has {
				return messageIDs, nil
			}
			return nil, nil
		}
	}
	b := t.batch()
	if len(messageIDs) == 1 {
		var has bool
		b.Queue(sqlHasEvent, []byte(e.id), []byte(messageIDs[0]))
		err := t.send(b, func(br pgx.BatchResults) error { return br.QueryRow().Scan(&has) })
		if err != nil || !has {
			return nil, err
		}
		return messageIDs, nil
	}
	b.Queue(sqlStoredEvents, []byte(e.id), byteArrays(messageIDs))
	var out []string
	err := t.send(b, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m []byte
			if err := rows.Scan(&m); err != nil {
				return err
			}
			out = append(out, string(m))
		}
		return rows.Err()
	})
	return out, err
}

func addedIndex(e *entry, messageID string) int {
	return slices.IndexFunc(e.added, func(r event.Record) bool { return r.MessageID == messageID })
}

// AddEvent implements contact.Tx.
func (t *tx) AddEvent(id string, r event.Record) (bool, error) {
	if err := t.usable(); err != nil {
		return false, err
	}
	e, err := t.load(id)
	if err != nil {
		return false, err
	}
	if e.cur == nil {
		return false, notFound(id)
	}
	if addedIndex(e, r.MessageID) >= 0 {
		return false, nil
	}
	if !slices.Contains(e.removed, r.MessageID) {
		has, err := t.stored(e, []string{r.MessageID})
		if err != nil || len(has) > 0 {
			return false, err
		}
	}
	e.added = append(e.added, r.Clone())
	t.write(e)
	return true, nil
}

// DeleteEvents implements contact.Tx.
func (t *tx) DeleteEvents(id string, messageIDs ...string) (int, error) {
	if err := t.usable(); err != nil {
		return 0, err
	}
	e, err := t.load(id)
	if err != nil {
		return 0, err
	}
	if e.cur == nil {
		return 0, notFound(id)
	}
	n := 0
	var ask []string
	for _, m := range messageIDs {
		if i := addedIndex(e, m); i >= 0 {
			e.added = slices.Delete(e.added, i, i+1)
			t.write(e)
			n++
			continue
		}
		if !slices.Contains(e.removed, m) && !slices.Contains(ask, m) {
			ask = append(ask, m)
		}
	}
	has, err := t.stored(e, ask)
	if err != nil {
		return 0, err
	}
	if len(has) > 0 {
		e.removed = append(e.removed, has...)
		t.write(e)
		n += len(has)
	}
	return n, nil
}

// Events implements contact.Tx. The records are read when the iteration starts.
func (t *tx) Events(id string, q contact.EventQuery) iter.Seq2[event.Record, error] {
	return func(yield func(event.Record, error) bool) {
		recs, err := t.events(id, q)
		if err != nil {
			yield(event.Record{}, err)
			return
		}
		for _, r := range recs {
			if err := t.usable(); err != nil {
				yield(event.Record{}, err)
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}

func (t *tx) events(id string, q contact.EventQuery) ([]event.Record, error) {
	if err := t.usable(); err != nil {
		return nil, err
	}
	e, err := t.load(id)
	if err != nil || e.cur == nil {
		return nil, err
	}
	var out []event.Record
	if e.base != nil && !e.reset {
		own := len(e.added) > 0 || len(e.removed) > 0
		limit := q.Limit
		if own {
			limit = 0 // the transaction's changes may move the cut
		}
		sql, args := eventsQuery(id, q, limit)
		b := t.batch()
		b.Queue(sql, args...)
		err := t.send(b, func(br pgx.BatchResults) error {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var row recordRow
				var cid []byte
				if err := rows.Scan(&cid, &row.messageID, &row.sec, &row.nsec, &row.kind, &row.name, &row.category,
					&row.groupID, &row.properties, &row.traits, &row.context, &row.receivedSec, &row.receivedNsec); err != nil {
					return err
				}
				if own && slices.Contains(e.removed, string(row.messageID)) {
					continue
				}
				r, err := row.record()
				if err != nil {
					return err
				}
				out = append(out, r)
			}
			return rows.Err()
		})
		if err != nil {
			return nil, err
		}
	}
	if len(e.added) > 0 {
		for i := range e.added {
			if q.Match(&e.added[i]) {
				out = append(out, e.added[i].Clone())
			}
		}
		slices.SortFunc(out, func(a, b event.Record) int { return contact.CompareEvents(&a, &b) })
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// Processed implements contact.Tx. It does not read the messageId: it claims it, by
// inserting it unless it is there, in the transaction. An insert probes the index
// without the predicate lock a read takes, so that transactions processing different
// messageIds never conflict over them, even when the ids share an index page; two
// transactions claiming one messageId conflict as two inserts do (the second waits for
// the first, and fails with a serialization failure if it commits). A claim fn does not
// confirm with MarkProcessed is deleted at the commit.
func (t *tx) Processed(messageID string) (bool, error) {
	if err := t.usable(); err != nil {
		return false, err
	}
	if slices.Contains(t.marks, messageID) {
		return true, nil
	}
	if done, ok := t.processed[messageID]; ok {
		return done, nil
	}
	claimed := false
	b := t.batch()
	b.Queue(sqlClaimProcessed, []byte(messageID))
	err := t.send(b, func(br pgx.BatchResults) error {
		err := br.QueryRow().Scan(&claimed)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // there already: processed
		}
		return err
	})
	if err != nil {
		return false, err
	}
	if t.processed == nil {
		t.processed = make(map[string]bool, 1)
	}
	t.processed[messageID] = !claimed
	if claimed {
		t.claims = append(t.claims, messageID)
	}
	return !claimed, nil
}

// MarkProcessed implements contact.Tx.
func (t *tx) MarkProcessed(messageID string) error {
	if err := t.usable(); err != nil {
		return err
	}
	if !slices.Contains(t.marks, messageID) {
		t.marks = append(t.marks, messageID)
	}
	return nil
}

// Tombstone implements contact.Tx.
func (t *tx) Tombstone(userID string) (contact.Tombstone, bool, error) {
	if err := t.usable(); err != nil {
		return contact.Tombstone{}, false, err
	}
	if !slices.Contains(t.tombAsked, userID) {
		t.tombAsked = append(t.tombAsked, userID)
	}
	stored, ok := t.tombstones[userID]
	if !ok {
		b := t.batch()
		b.Queue(sqlTombstone, []byte(userID))
		if err := t.send(b, func(br pgx.BatchResults) error { return t.readTombstone(br, userID) }); err != nil {
			return contact.Tombstone{}, false, err
		}
		stored = t.tombstones[userID]
	}
	var ts contact.Tombstone
	found := stored.ts != nil
	if found {
		ts = *stored.ts
	}
	for _, p := range t.putTombs {
		if p.UserID == userID && (!found || p.After(ts)) {
			ts, found = p, true
		}
	}
	return ts, found, nil
}

// PutTombstone implements contact.Tx. It reads nothing: the commit keeps the later of
// the stored delete and this one.
func (t *tx) PutTombstone(ts contact.Tombstone) error {
	if err := t.usable(); err != nil {
		return err
	}
	for i, p := range t.putTombs {
		if p.UserID == ts.UserID {
			if ts.After(p) {
				t.putTombs[i] = ts
			}
			return nil
		}
	}
	t.putTombs = append(t.putTombs, ts)
	return nil
}

// byteArrays returns ss as a bytea[] argument.
func byteArrays(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func keyArrays(keys []identity.Key) ([]int16, [][]byte) {
	kinds := make([]int16, len(keys))
	values := make([][]byte, len(keys))
	for i, k := range keys {
		kinds[i], values[i] = int16(k.Kind), []byte(k.Value)
	}
	return kinds, values
}

// queueWrites queues the statements that store what the transaction did to e: removals
// first, so that a row removed and added back is not added twice.
func queueWrites(b *pgx.Batch, e *entry) error {
	id := []byte(e.id)
	var before []identity.Key
	if e.base != nil && !e.reset {
		before = e.base.Keys()
	}
	if e.reset {
		b.Queue(sqlDeleteAllEvents, id)
		b.Queue(sqlDeleteAllKeys, id)
		if e.cur == nil {
			b.Queue(sqlDeleteContact, id)
			return nil
		}
	}
	if e.cur == nil {
		return nil // inserted and deleted in the transaction
	}
	if len(e.removed) > 0 {
		b.Queue(sqlDeleteEvents, id, byteArrays(e.removed))
	}
	if e.written {
		doc, err := encodeContact(e.cur)
		if err != nil {
			return err
		}
		if e.base == nil {
			b.Queue(sqlInsertContact, id, doc)
		} else {
			b.Queue(sqlUpdateContact, id, doc)
		}
		after := e.cur.Keys()
		var gone, added []identity.Key
		for _, k := range before {
			if !slices.Contains(after, k) {
				gone = append(gone, k)
			}
		}
		for _, k := range after {
			if !slices.Contains(before, k) {
				added = append(added, k)
			}
		}
		if len(gone) > 0 {
			kinds, values := keyArrays(gone)
			b.Queue(sqlDeleteKeys, id, kinds, values)
		}
		if len(added) > 0 {
			kinds, values := keyArrays(added)
			b.Queue(sqlInsertKeys, id, kinds, values)
		}
	}
	for i := range e.added {
		row, err := toRow(&e.added[i])
		if err != nil {
			return err
		}
		b.Queue(sqlInsertEvent, id, row.messageID, row.sec, row.nsec, row.kind, row.name, row.category,
			row.groupID, row.properties, row.traits, row.context, row.receivedSec, row.receivedNsec)
	}
	return nil
}

// commit sends the transaction's writes and the COMMIT in one batch. A transaction that
// neither read nor wrote has nothing to commit.
func (t *tx) commit() error {
	if !t.began && len(t.order) == 0 && len(t.marks) == 0 && len(t.putTombs) == 0 && len(t.outbox) == 0 {
		return nil
	}
	b := t.batch()
	// Contacts in id order: two commits that lock the same contacts lock them in the
	// same order, and do not deadlock.
	slices.SortFunc(t.order, func(a, b *entry) int { return strings.Compare(a.id, b.id) })
	for _, e := range t.order {
		if err := queueWrites(b, e); err != nil {
			return err
		}
	}
	var mark, unclaim [][]byte
	for _, m := range t.marks {
		if !slices.Contains(t.claims, m) {
			mark = append(mark, []byte(m))
		}
	}
	for _, m := range t.claims {
		if !slices.Contains(t.marks, m) {
			unclaim = append(unclaim, []byte(m))
		}
	}
	if len(mark) > 0 {
		b.Queue(sqlMarkProcessed, mark)
	}
	if len(unclaim) > 0 {
		b.Queue(sqlUnclaimProcessed, unclaim)
	}
	t.queueTombstones(b, len(t.order) > 0 || len(t.marks) > 0 || len(t.putTombs) > 0 || len(t.outbox) > 0)
	t.queueOutbox(b)
	if t.s.beforeCommit != nil {
		t.s.beforeCommit(b)
	}
	b.Queue(sqlCommit)
	return t.send(b, nil)
}

// queueTombstones queues the tombstones put, and, when guard is set (the transaction
// writes), a guard for every other tombstone fn read: a statement that fails with a
// serialization failure if a transaction that committed since this one began changed
// it, and that makes one that commits later wait for this one. Serializable isolation
// alone would let this transaction commit after such a delete, serialized before it
// (it only read the tombstone); the store's contract wants the later commit to see the
// earlier one (Rule I7: a message does not slip past a delete committed beside it).
//
// The userId's row is locked FOR SHARE, which fails on a row changed since the
// snapshot. A userId without a row gets one, without a delete: the insert fails on a
// row inserted since the snapshot, and the row is there to lock next time. Locking
// takes no predicate lock and inserts nothing into the index other transactions read,
// so transactions of different users do not conflict over their tombstones. The rows
// are taken in userId order, so that two commits do not deadlock over them.
func (t *tx) queueTombstones(b *pgx.Batch, guard bool) {
	users := slices.Clone(t.tombAsked)
	for _, p := range t.putTombs {
		users = append(users, p.UserID)
	}
	slices.Sort(users)
	for _, u := range slices.Compact(users) {
		if i := slices.IndexFunc(t.putTombs, func(p contact.Tombstone) bool { return p.UserID == u }); i >= 0 {
			// The put writes the row, and conflicts as a write does.
			ts := t.putTombs[i]
			sec, nsec := splitTime(ts.Time)
			b.Queue(sqlPutTombstone, []byte(ts.UserID), sec, nsec, []byte(ts.MessageID))
			continue
		}
		switch {
		case !guard:
		case t.tombstones[u].row:
			b.Queue(sqlGuardTombstone, []byte(u))
		default:
			b.Queue(sqlGuardAbsent, []byte(u))
		}
	}
}
