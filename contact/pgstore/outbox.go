package pgstore

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/regalkit/regalkit/contact"
)

var (
	_ contact.Outbox   = (*Store)(nil)
	_ contact.OutboxTx = (*tx)(nil)

	errOutboxEntry = errors.New("pgstore: outbox entry needs a contact id and a messageId")
)

// The statements of the outbox (see the package documentation, "Outbox").
const (
	outboxColumns = `o.seq, o.contact_id, o.message_id, o.created_at, o.state, o.attempts, o.next_attempt, o.lease, o.lease_until, o.reason,
	o.ev_message_id, o.ev_time_s, o.ev_time_ns, o.ev_kind, o.ev_name, o.ev_category, o.ev_group_id, o.ev_properties, o.ev_traits, o.ev_context, o.ev_received_s, o.ev_received_ns`

	// The lock a commit takes, per contact, before it enqueues the contact's entries:
	// commits that enqueue for one contact do so one after the other, so that Seqs
	// follow commit order.
	sqlOutboxLock   = `SELECT pg_advisory_xact_lock($1::integer, $2::integer)`
	sqlOutboxInsert = `INSERT INTO regalkit_outbox (contact_id, message_id, created_at,
	ev_message_id, ev_time_s, ev_time_ns, ev_kind, ev_name, ev_category, ev_group_id, ev_properties, ev_traits, ev_context, ev_received_s, ev_received_ns)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`

	// Claim: $1 the caller's now, $2 now + lease, $3 max, $4 the claim's fresh token.
	// The due entries that are their contact's first pending one, earliest due first,
	// locked FOR UPDATE SKIP LOCKED (a concurrent claim passes over them instead of
	// waiting), then leased. A row another claim leased and committed since this
	// statement's snapshot is checked again when it is locked, and dropped: its due_at
	// is no longer due.
	sqlOutboxClaim = `WITH due AS (
	SELECT o.seq, o.due_at FROM regalkit_outbox o
	WHERE o.state = 0 AND o.due_at <= $1
	  AND NOT EXISTS (SELECT 1 FROM regalkit_outbox p WHERE p.contact_id = o.contact_id AND p.state = 0 AND p.seq < o.seq)
	ORDER BY o.due_at, o.seq
	LIMIT $3
	FOR UPDATE OF o SKIP LOCKED
)
UPDATE regalkit_outbox o SET attempts = o.attempts + 1, lease = $4 || ':' || o.seq, lease_until = $2, due_at = $2
FROM due WHERE o.seq = due.seq
RETURNING due.due_at, ` + outboxColumns

	// Settling: zero rows means the lease is lost.
	sqlOutboxAck   = `UPDATE regalkit_outbox SET state = 1, lease = NULL, lease_until = NULL, settled_at = now() WHERE seq = $1 AND state = 0 AND lease = $2`
	sqlOutboxRetry = `UPDATE regalkit_outbox SET lease = NULL, lease_until = NULL, due_at = $3, next_attempt = $3, reason = $4 WHERE seq = $1 AND state = 0 AND lease = $2`
	sqlOutboxPark  = `UPDATE regalkit_outbox SET state = 2, lease = NULL, lease_until = NULL, reason = $3, settled_at = now() WHERE seq = $1 AND state = 0 AND lease = $2`

	sqlOutboxStats = `SELECT count(*) FILTER (WHERE state = 0), count(*) FILTER (WHERE state = 1), count(*) FILTER (WHERE state = 2),
	min(created_at) FILTER (WHERE state = 0) FROM regalkit_outbox`
	sqlOutboxDead = `SELECT ` + outboxColumns + ` FROM regalkit_outbox o WHERE o.state = 2 ORDER BY o.seq`
)

// outboxLockClass is the first key of the advisory locks the outbox takes ("RGKO"), so
// that they do not collide with an application's own single-key locks.
const outboxLockClass = 0x52474b4f

// outboxLockKey is the second key of a contact's advisory lock: a hash of its id. Two
// contacts that share a hash only wait for each other more than they need to.
func outboxLockKey(contactID string) int32 {
	h := fnv.New32a()
	h.Write([]byte(contactID))
	return int32(h.Sum32())
}

// queuedEntry is an entry Enqueue took, as the insert's arguments: copied out of the
// caller's memory when it is enqueued.
type queuedEntry struct {
	contactID string
	args      []any
}

// Enqueue implements contact.OutboxTx. The entry is kept in the transaction and
// inserted by its commit, after the contact's advisory lock.
func (t *tx) Enqueue(e contact.OutboxEntry) error {
	if err := t.usable(); err != nil {
		return err
	}
	if e.ContactID == "" || e.MessageID == "" {
		return errOutboxEntry
	}
	args := make([]any, 15)
	args[0], args[1], args[2] = []byte(e.ContactID), []byte(e.MessageID), e.Created
	if e.Event != nil {
		row, err := toRow(e.Event)
		if err != nil {
			return err
		}
		args[3], args[4], args[5], args[6], args[7], args[8], args[9] = row.messageID, row.sec, row.nsec, row.kind, row.name, row.category, row.groupID
		args[10], args[11], args[12], args[13], args[14] = row.properties, row.traits, row.context, row.receivedSec, row.receivedNsec
	}
	t.outbox = append(t.outbox, queuedEntry{contactID: e.ContactID, args: args})
	return nil
}

// queueOutbox queues the transaction's entries: first the advisory lock of each of
// their contacts, in key order (so that two commits do not deadlock over them), then
// the inserts, in the order enqueued. It comes last before the COMMIT: a commit that
// holds one of these locks waits for nothing but other such locks.
func (t *tx) queueOutbox(b *pgx.Batch) {
	if len(t.outbox) == 0 {
		return
	}
	keys := make([]int32, 0, len(t.outbox))
	for _, q := range t.outbox {
		keys = append(keys, outboxLockKey(q.contactID))
	}
	slices.Sort(keys)
	for _, k := range slices.Compact(keys) {
		b.Queue(sqlOutboxLock, int32(outboxLockClass), k)
	}
	for _, q := range t.outbox {
		b.Queue(sqlOutboxInsert, q.args...)
	}
}

// token returns a fresh claim token: 128 random bits. Each entry's lease is the token
// and its Seq, so that no two leases are ever equal.
func token() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// scanEntry reads an entry's columns (outboxColumns) from row, after any in pre.
func scanEntry(row pgx.Row, pre ...any) (contact.OutboxEntry, error) {
	var (
		e                contact.OutboxEntry
		cid, mid, reason []byte
		state            int16
		next, until      pgtype.Timestamptz
		lease            *string
		ev               struct {
			messageID, name, category, groupID, properties, traits, context []byte
			sec, receivedSec                                                *int64
			nsec, receivedNsec                                              *int32
			kind                                                            *int16
		}
	)
	dest := append(pre, &e.Seq, &cid, &mid, &e.Created, &state, &e.Attempts, &next, &lease, &until, &reason,
		&ev.messageID, &ev.sec, &ev.nsec, &ev.kind, &ev.name, &ev.category, &ev.groupID, &ev.properties, &ev.traits, &ev.context, &ev.receivedSec, &ev.receivedNsec)
	if err := row.Scan(dest...); err != nil {
		return e, err
	}
	e.ContactID, e.MessageID, e.Reason = string(cid), string(mid), string(reason)
	e.State = contact.OutboxState(state)
	if next.Valid && next.InfinityModifier == pgtype.Finite {
		e.NextAttempt = next.Time
	}
	if until.Valid && until.InfinityModifier == pgtype.Finite {
		e.LeaseUntil = until.Time
	}
	if lease != nil {
		e.Lease = *lease
	}
	if ev.kind != nil && ev.sec != nil && ev.nsec != nil {
		r := recordRow{sec: *ev.sec, nsec: *ev.nsec, kind: *ev.kind, name: ev.name, category: ev.category, groupID: ev.groupID,
			messageID: ev.messageID, properties: ev.properties, traits: ev.traits, context: ev.context,
			receivedSec: ev.receivedSec, receivedNsec: ev.receivedNsec}
		rec, err := r.record()
		if err != nil {
			return e, err
		}
		e.Event = &rec
	}
	return e, nil
}

// Claim implements contact.Outbox with one statement (see sqlOutboxClaim): claims by
// several Stores, in one process or many, on one database share the due entries
// without waiting for each other. The entries come back in the order the contract
// names: untried ones by Seq, then by when they became due, then by Seq.
func (s *Store) Claim(ctx context.Context, now time.Time, lease time.Duration, max int) ([]contact.OutboxEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if max <= 0 {
		return nil, nil
	}
	until := now.Add(lease)
	rows, err := s.pool.Query(ctx, sqlOutboxClaim, now, ceilMicro(until), max, token())
	if err != nil {
		return nil, readError(ctx, err)
	}
	defer rows.Close()
	type claimed struct {
		was contact.OutboxEntry
		due pgtype.Timestamptz
	}
	var got []claimed
	for rows.Next() {
		var c claimed
		if c.was, err = scanEntry(rows, &c.due); err != nil {
			return nil, readError(ctx, err)
		}
		c.was.LeaseUntil = until // as the caller gave it, to the nanosecond
		got = append(got, c)
	}
	if err := rows.Err(); err != nil {
		return nil, readError(ctx, err)
	}
	rank := func(d pgtype.Timestamptz) int { // -infinity (never claimed) first
		if d.InfinityModifier == pgtype.NegativeInfinity {
			return 0
		}
		return 1
	}
	slices.SortFunc(got, func(a, b claimed) int {
		if c := cmp.Compare(rank(a.due), rank(b.due)); c != 0 {
			return c
		}
		if c := a.due.Time.Compare(b.due.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.was.Seq, b.was.Seq)
	})
	out := make([]contact.OutboxEntry, len(got))
	for i, c := range got {
		out[i] = c.was
	}
	return out, nil
}

// settle runs a settling statement and turns zero rows into ErrLeaseLost. A token no
// claim can have given (NUL or invalid UTF-8, which a text column cannot even hold) has
// lost its lease without a query, as on the memory store.
func (s *Store) settle(ctx context.Context, seq int64, token, sql string, args ...any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !utf8.ValidString(token) || strings.IndexByte(token, 0) >= 0 {
		return fmt.Errorf("pgstore: outbox entry %d: %w", seq, contact.ErrLeaseLost)
	}
	tag, err := s.pool.Exec(ctx, sql, args...)
	if err != nil {
		return readError(ctx, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: outbox entry %d: %w", seq, contact.ErrLeaseLost)
	}
	return nil
}

// Ack implements contact.Outbox. The row stays, as sent, for the counts.
func (s *Store) Ack(ctx context.Context, seq int64, token string) error {
	return s.settle(ctx, seq, token, sqlOutboxAck, seq, token)
}

// Retry implements contact.Outbox.
func (s *Store) Retry(ctx context.Context, seq int64, token string, next time.Time, reason string) error {
	return s.settle(ctx, seq, token, sqlOutboxRetry, seq, token, ceilMicro(next), []byte(reason))
}

// Park implements contact.Outbox.
func (s *Store) Park(ctx context.Context, seq int64, token string, reason string) error {
	return s.settle(ctx, seq, token, sqlOutboxPark, seq, token, []byte(reason))
}

// OutboxStats implements contact.Outbox. It counts the table's rows: its cost grows
// with the entries ever sent.
func (s *Store) OutboxStats(ctx context.Context) (contact.OutboxStats, error) {
	if err := ctx.Err(); err != nil {
		return contact.OutboxStats{}, err
	}
	var st contact.OutboxStats
	var oldest pgtype.Timestamptz
	if err := s.pool.QueryRow(ctx, sqlOutboxStats).Scan(&st.Pending, &st.Sent, &st.Dead, &oldest); err != nil {
		return st, readError(ctx, err)
	}
	if oldest.Valid && oldest.InfinityModifier == pgtype.Finite {
		st.OldestPending = oldest.Time
	}
	return st, nil
}

// DeadEntries implements contact.Outbox.
func (s *Store) DeadEntries(ctx context.Context) ([]contact.OutboxEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, sqlOutboxDead)
	if err != nil {
		return nil, readError(ctx, err)
	}
	defer rows.Close()
	var out []contact.OutboxEntry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, readError(ctx, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, readError(ctx, err)
	}
	return out, nil
}

// ceilMicro rounds t up to the microsecond, the precision of timestamptz: a lease or a
// backoff stored so ends no earlier than the caller said (a claim up to 999 ns before
// LeaseUntil took the entry again when the time was truncated).
func ceilMicro(t time.Time) time.Time {
	if c := t.Truncate(time.Microsecond); c.Before(t) {
		return c.Add(time.Microsecond)
	}
	return t
}
