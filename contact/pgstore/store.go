package pgstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
)

// DefaultMaxAttempts is how many times Update runs a transaction that keeps failing
// on conflicts, when Options.MaxAttempts is zero.
const DefaultMaxAttempts = 50

// Options configure a Store. The zero Options are the defaults.
type Options struct {
	// MaxAttempts bounds the runs of one Update: after this many serialization
	// failures, deadlocks or lost insert races in a row, Update returns an error
	// matching contact.ErrConflict. Zero means DefaultMaxAttempts.
	MaxAttempts int
}

// Store is a contact.Store in PostgreSQL. It is safe for concurrent use, by goroutines
// and by processes sharing one database.
type Store struct {
	pool        *pgxpool.Pool
	maxAttempts int
	// beforeCommit, when a test sets it, queues statements into every commit batch
	// just before the COMMIT (to widen the window between a write and its commit).
	beforeCommit func(b *pgx.Batch)
}

var _ contact.Store = (*Store)(nil)

// Errors of the store's own.
var (
	errNilPool    = errors.New("pgstore: nil pool")
	errNilFunc    = errors.New("pgstore: nil transaction function")
	errClosed     = errors.New("pgstore: transaction used after its Update returned")
	errNilContact = errors.New("pgstore: nil contact")
	errNoID       = errors.New("pgstore: contact has no id")
)

// New returns a Store that keeps its contacts in the database pool connects to. It
// reads the schema version: a database that [Store.Migrate] has not yet brought to
// [SchemaVersion] is fine (call Migrate before using the store), but one at a newer
// version is an error matching [ErrSchema]. The pool stays the caller's to close.
func New(ctx context.Context, pool *pgxpool.Pool, opts *Options) (*Store, error) {
	if pool == nil {
		return nil, errNilPool
	}
	s := &Store{pool: pool, maxAttempts: DefaultMaxAttempts}
	if opts != nil && opts.MaxAttempts > 0 {
		s.maxAttempts = opts.MaxAttempts
	}
	v, err := s.version(ctx)
	if err != nil {
		return nil, err
	}
	if v > SchemaVersion {
		return nil, &SchemaError{Found: v, Want: SchemaVersion}
	}
	return s, nil
}

func notFound(id string) error {
	return fmt.Errorf("pgstore: contact %q: %w", id, contact.ErrNotFound)
}

func existsError(id string) error {
	return fmt.Errorf("pgstore: contact %q: %w", id, contact.ErrExists)
}

// retryable reports whether err means that the transaction lost a race and would run
// differently from a fresh start: a serialization failure, a deadlock, or a unique
// violation. The store checks every row before it inserts it, so a unique violation
// always means that a concurrent transaction inserted the same row first.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "40001", "40P01", "23505":
		return true
	}
	return false
}

// backoff is the wait before attempt+1: random, doubling from 0.2ms to at most about
// 25ms, so that transactions that keep colliding spread out.
func backoff(attempt int) time.Duration {
	limit := 200 * time.Microsecond << min(attempt-1, 7)
	return rand.N(limit) + limit/4
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Update implements contact.Store. fn runs in a SERIALIZABLE transaction whose reads go
// to the database as fn makes them, and whose writes wait in memory until fn returns
// nil; then they are sent together with the COMMIT, in one round trip. A serialization
// failure, deadlock or unique violation, during fn or at the commit, rolls the
// transaction back and runs fn again from a fresh BEGIN, after a short random wait; after
// Options.MaxAttempts runs, Update returns an error matching contact.ErrConflict that
// wraps the last failure.
func (s *Store) Update(ctx context.Context, fn func(tx contact.Tx) error) error {
	if fn == nil {
		return errNilFunc
	}
	var last error
	for attempt := 1; attempt <= s.maxAttempts; attempt++ {
		if attempt > 1 {
			if err := sleep(ctx, backoff(attempt-1)); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		err := s.attempt(ctx, fn)
		if err == nil || !retryable(err) {
			return err
		}
		last = err
	}
	return fmt.Errorf("pgstore: gave up after %d attempts: %w (last: %w)", s.maxAttempts, contact.ErrConflict, last)
}

// attempt runs fn once in a transaction and commits it.
func (s *Store) attempt(ctx context.Context, fn func(tx contact.Tx) error) error {
	t := newTx(s, ctx)
	defer t.release()
	err := fn(t)
	t.closed = true
	switch {
	case t.err != nil:
		// A statement failed, so PostgreSQL has aborted the transaction whatever fn
		// made of the error. A lost race is run again; anything else is the answer.
		t.rollback()
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if retryable(t.err) || err == nil {
			return t.err
		}
		return err
	case err != nil:
		t.rollback()
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return err
	}
	if err := ctx.Err(); err != nil {
		t.rollback()
		return err
	}
	if err := t.commit(); err != nil {
		t.rollback()
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return err
	}
	return nil
}

// Contact implements contact.Store.
func (s *Store) Contact(ctx context.Context, id string) (*contact.Contact, error) {
	var doc []byte
	err := s.pool.QueryRow(ctx, sqlContact, []byte(id)).Scan(&doc)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, notFound(id)
	case err != nil:
		return nil, readError(ctx, err)
	}
	c, err := decodeContact(doc)
	if err == nil && c.Hidden() { // a hidden contact is the transactions' alone (contact.Store)
		return nil, notFound(id)
	}
	return c, err
}

// readError returns ctx's error when ctx is done, err wrapped otherwise.
func readError(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return fmt.Errorf("pgstore: %w", err)
}

// Find implements contact.Store. One statement reads the index and the contacts it
// names, so it sees them as one transaction left them.
func (s *Store) Find(ctx context.Context, key identity.Key) ([]*contact.Contact, error) {
	rows, err := s.pool.Query(ctx, sqlContactFound, int16(key.Kind), []byte(key.Value))
	if err != nil {
		return nil, readError(ctx, err)
	}
	out := []*contact.Contact{}
	for rows.Next() {
		var id, doc []byte
		if err := rows.Scan(&id, &doc); err != nil {
			rows.Close()
			return nil, readError(ctx, err)
		}
		c, err := decodeContact(doc)
		if err != nil {
			rows.Close()
			return nil, err
		}
		if !c.Hidden() { // the transactions' alone (contact.Store)
			out = append(out, c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, readError(ctx, err)
	}
	return out, nil
}

// Events implements contact.Store. One statement reads the matching records; they are
// yielded after it ends.
func (s *Store) Events(ctx context.Context, contactID string, q contact.EventQuery) iter.Seq2[event.Record, error] {
	return func(yield func(event.Record, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(event.Record{}, err)
			return
		}
		sql, args := eventsQuery(contactID, q, q.Limit)
		recs, err := collectRecords(ctx, s.pool, sql, args)
		if err != nil {
			yield(event.Record{}, readError(ctx, err))
			return
		}
		for _, r := range recs {
			if err := ctx.Err(); err != nil {
				yield(event.Record{}, err)
				return
			}
			if !yield(r.Record, nil) {
				return
			}
		}
	}
}

// querier is what reads need of a pool, a connection or a pgx transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// collectRecords runs an events query (see eventColumns) and decodes its rows.
func collectRecords(ctx context.Context, q querier, sql string, args []any) ([]contact.ContactEvent, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []contact.ContactEvent
	for rows.Next() {
		var row recordRow
		var cid []byte
		if err := rows.Scan(&cid, &row.messageID, &row.sec, &row.nsec, &row.kind, &row.name, &row.category,
			&row.groupID, &row.properties, &row.traits, &row.context, &row.receivedSec, &row.receivedNsec); err != nil {
			return nil, err
		}
		r, err := row.record()
		if err != nil {
			return nil, err
		}
		out = append(out, contact.ContactEvent{ContactID: string(cid), Record: r})
	}
	return out, rows.Err()
}

// eventFilter appends to where the conditions of q's filters (all but Limit), with
// their arguments.
func eventFilter(where *strings.Builder, args []any, q contact.EventQuery) []any {
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Kind != 0 {
		where.WriteString(" AND kind = " + arg(int16(q.Kind)))
	}
	if q.Name != "" {
		where.WriteString(" AND name = " + arg([]byte(q.Name)))
	}
	if !q.Since.IsZero() {
		sec, nsec := splitTime(q.Since)
		where.WriteString(" AND (time_s, time_ns) >= (" + arg(sec) + ", " + arg(nsec) + ")")
	}
	if !q.Until.IsZero() {
		sec, nsec := splitTime(q.Until)
		where.WriteString(" AND (time_s, time_ns) < (" + arg(sec) + ", " + arg(nsec) + ")")
	}
	return args
}

// eventsQuery is the statement listing a contact's records that match q, in event
// order, at most limit of them (all for zero or less).
func eventsQuery(contactID string, q contact.EventQuery, limit int) (string, []any) {
	var b strings.Builder
	b.WriteString(`SELECT ` + eventColumns + ` FROM regalkit_events WHERE contact_id = $1`)
	args := eventFilter(&b, []any{[]byte(contactID)}, q)
	b.WriteString(` ORDER BY time_s, time_ns, message_id`)
	if limit > 0 {
		args = append(args, int64(limit))
		b.WriteString(` LIMIT $` + strconv.Itoa(len(args)))
	}
	return b.String(), args
}

// pageSize is how many rows Contacts and Recent read per statement.
const pageSize = 500

// snapshot begins the read-only REPEATABLE READ transaction in which Contacts and
// Recent read their pages: one state of the database, however long the caller takes
// between items.
func (s *Store) snapshot(ctx context.Context) (pgx.Tx, error) {
	return s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
}

func endSnapshot(tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = tx.Rollback(ctx) // read-only: nothing to keep; a failure closes the connection
}

// Recent implements contact.Store. It reads pages of pageSize records, newest first,
// in one read-only snapshot.
func (s *Store) Recent(ctx context.Context, q contact.EventQuery) iter.Seq2[contact.ContactEvent, error] {
	return s.timeline(ctx, q, true)
}

// Named implements contact.Store (Rule J2). It reads pages of pageSize records named
// q.Name, oldest first, in one read-only snapshot, through the index on (name, time).
func (s *Store) Named(ctx context.Context, q contact.EventQuery) iter.Seq2[contact.ContactEvent, error] {
	if q.Name == "" {
		return func(func(contact.ContactEvent, error) bool) {}
	}
	return s.timeline(ctx, q, false)
}

// timeline yields the records of all contacts that match q in timeline order (event
// time, then messageId, then contact id), newest first when desc, in pages of pageSize
// read in one read-only snapshot.
func (s *Store) timeline(ctx context.Context, q contact.EventQuery, desc bool) iter.Seq2[contact.ContactEvent, error] {
	cmpOp, order := ">", ` ORDER BY time_s, time_ns, message_id, contact_id`
	if desc {
		cmpOp, order = "<", ` ORDER BY time_s DESC, time_ns DESC, message_id DESC, contact_id DESC`
	}
	return func(yield func(contact.ContactEvent, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(contact.ContactEvent{}, err)
			return
		}
		tx, err := s.snapshot(ctx)
		if err != nil {
			yield(contact.ContactEvent{}, readError(ctx, err))
			return
		}
		defer endSnapshot(tx)
		var after *contact.ContactEvent
		left := q.Limit
		for {
			n := pageSize
			if q.Limit > 0 {
				n = min(n, left)
			}
			var b strings.Builder
			b.WriteString(`SELECT ` + eventColumns + ` FROM regalkit_events WHERE true`)
			args := eventFilter(&b, nil, q)
			if after != nil {
				sec, nsec := splitTime(after.Record.Time)
				args = append(args, sec, nsec, []byte(after.Record.MessageID), []byte(after.ContactID))
				k := len(args)
				fmt.Fprintf(&b, " AND (time_s, time_ns, message_id, contact_id) %s ($%d, $%d, $%d, $%d)", cmpOp, k-3, k-2, k-1, k)
			}
			args = append(args, int64(n))
			b.WriteString(order + ` LIMIT $` + strconv.Itoa(len(args)))
			page, err := collectRecords(ctx, tx, b.String(), args)
			if err != nil {
				yield(contact.ContactEvent{}, readError(ctx, err))
				return
			}
			for _, ce := range page {
				if err := ctx.Err(); err != nil {
					yield(contact.ContactEvent{}, err)
					return
				}
				if !yield(ce, nil) {
					return
				}
			}
			left -= len(page)
			if len(page) < n || (q.Limit > 0 && left <= 0) {
				return
			}
			after = &page[len(page)-1]
		}
	}
}

// Contacts implements contact.Store. It reads pages of pageSize contacts, by id, in one
// read-only snapshot.
func (s *Store) Contacts(ctx context.Context) iter.Seq2[*contact.Contact, error] {
	return func(yield func(*contact.Contact, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		tx, err := s.snapshot(ctx)
		if err != nil {
			yield(nil, readError(ctx, err))
			return
		}
		defer endSnapshot(tx)
		after := []byte{}
		for {
			page, last, err := contactsPage(ctx, tx, after)
			if err != nil {
				yield(nil, readError(ctx, err))
				return
			}
			for _, c := range page {
				if err := ctx.Err(); err != nil {
					yield(nil, err)
					return
				}
				if c.Hidden() { // the transactions' alone (contact.Store)
					continue
				}
				if !yield(c, nil) {
					return
				}
			}
			if len(page) < pageSize {
				return
			}
			after = last
		}
	}
}

func contactsPage(ctx context.Context, tx pgx.Tx, after []byte) ([]*contact.Contact, []byte, error) {
	rows, err := tx.Query(ctx, `SELECT id, doc FROM regalkit_contacts WHERE id > $1 ORDER BY id LIMIT `+strconv.Itoa(pageSize), after)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var page []*contact.Contact
	var last []byte
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&last, &doc); err != nil {
			return nil, nil, err
		}
		c, err := decodeContact(doc)
		if err != nil {
			return nil, nil, err
		}
		page = append(page, c)
	}
	return page, last, rows.Err()
}
