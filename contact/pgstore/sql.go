package pgstore

// The statements of the store. Each runs as a prepared statement, cached per
// connection by pgx.
const (
	eventColumns = `contact_id, message_id, time_s, time_ns, kind, name, category, group_id, properties, traits, context, received_s, received_ns`

	// A transaction: SERIALIZABLE, and index scans wherever there is an index, so that
	// a read locks the index entries it looks at rather than the whole table (see the
	// package documentation).
	sqlBegin        = `BEGIN ISOLATION LEVEL SERIALIZABLE`
	sqlNoSeqScan    = `SET LOCAL enable_seqscan = off`
	sqlCommit       = `COMMIT`
	sqlRollback     = `ROLLBACK`
	sqlContact      = `SELECT doc FROM regalkit_contacts WHERE id = $1`
	sqlContactFound = `SELECT c.id, c.doc FROM regalkit_contact_keys k JOIN regalkit_contacts c ON c.id = k.contact_id WHERE k.kind = $1 AND k.value = $2 ORDER BY c.id`
	sqlFoundEvents  = `SELECT e.contact_id, e.message_id FROM regalkit_contact_keys k JOIN regalkit_events e ON e.contact_id = k.contact_id AND e.message_id = ANY($3::bytea[]) WHERE k.kind = $1 AND k.value = $2`
	sqlHasEvent     = `SELECT EXISTS (SELECT 1 FROM regalkit_events WHERE contact_id = $1 AND message_id = $2)`
	sqlStoredEvents = `SELECT message_id FROM regalkit_events WHERE contact_id = $1 AND message_id = ANY($2::bytea[])`
	// Processed claims a messageId (see tx.Processed): a row when it was not there.
	sqlClaimProcessed   = `INSERT INTO regalkit_processed (message_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING true`
	sqlUnclaimProcessed = `DELETE FROM regalkit_processed WHERE message_id = ANY($1::bytea[])`
	sqlTombstone        = `SELECT time_s, time_ns, message_id FROM regalkit_tombstones WHERE user_id = $1`

	// The writes of a commit.
	sqlInsertContact   = `INSERT INTO regalkit_contacts (id, doc) VALUES ($1, $2)`
	sqlUpdateContact   = `UPDATE regalkit_contacts SET doc = $2 WHERE id = $1`
	sqlDeleteContact   = `DELETE FROM regalkit_contacts WHERE id = $1`
	sqlDeleteAllKeys   = `DELETE FROM regalkit_contact_keys WHERE contact_id = $1`
	sqlDeleteAllEvents = `DELETE FROM regalkit_events WHERE contact_id = $1`
	sqlDeleteKeys      = `DELETE FROM regalkit_contact_keys WHERE contact_id = $1 AND (kind, value) IN (SELECT * FROM unnest($2::smallint[], $3::bytea[]))`
	sqlInsertKeys      = `INSERT INTO regalkit_contact_keys (kind, value, contact_id) SELECT k, v, $1 FROM unnest($2::smallint[], $3::bytea[]) AS u(k, v) ON CONFLICT DO NOTHING`
	sqlDeleteEvents    = `DELETE FROM regalkit_events WHERE contact_id = $1 AND message_id = ANY($2::bytea[])`
	sqlInsertEvent     = `INSERT INTO regalkit_events (` + eventColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`
	sqlMarkProcessed   = `INSERT INTO regalkit_processed (message_id) SELECT unnest($1::bytea[]) ON CONFLICT DO NOTHING`
	// Of two deletes of one userId the later stands (Rule I7): by time, then messageId.
	sqlPutTombstone = `INSERT INTO regalkit_tombstones AS t (user_id, time_s, time_ns, message_id) VALUES ($1, $2, $3, $4)
ON CONFLICT (user_id) DO UPDATE SET time_s = excluded.time_s, time_ns = excluded.time_ns, message_id = excluded.message_id
WHERE t.time_s IS NULL OR (excluded.time_s, excluded.time_ns, excluded.message_id) > (t.time_s, t.time_ns, t.message_id)`
)

// The tombstone guards of a commit (see tx.queueTombstones).
const (
	sqlGuardTombstone = `SELECT 1 FROM regalkit_tombstones WHERE user_id = $1 FOR SHARE`
	sqlGuardAbsent    = `INSERT INTO regalkit_tombstones (user_id) VALUES ($1) ON CONFLICT DO NOTHING`
)
