package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// migrations are the schema's versions, in order: migrations[i] takes the schema from
// version i to version i+1. A released migration is never edited; a change to the
// schema is a new entry.
//
// Strings (ids, keys, messageIds, names) are bytea, not text: PostgreSQL text can hold
// neither NUL nor invalid UTF-8, both of which a Go string (and a Segment payload) can,
// and bytea sorts byte by byte, as Go compares strings, whatever the database's
// collation. A contact is the contact package's storage codec, byte for byte.
//
// Contacts are rewritten by every message: their table leaves half of each page free, so
// that the new version of a row usually fits beside the old one and its index entry
// stays (a HOT update). An update that moves the row adds an index entry, and under
// serializable isolation an index insert conflicts with every transaction that read
// the same index page.
var migrations = []string{
	// 1: contacts, lookup keys, events, processed messageIds, tombstones.
	`
CREATE TABLE IF NOT EXISTS regalkit_contacts (
	id  bytea PRIMARY KEY,
	doc bytea NOT NULL
) WITH (fillfactor = 50);
CREATE TABLE IF NOT EXISTS regalkit_contact_keys (
	kind       smallint NOT NULL,
	value      bytea    NOT NULL,
	contact_id bytea    NOT NULL,
	PRIMARY KEY (kind, value, contact_id)
);
CREATE INDEX IF NOT EXISTS regalkit_contact_keys_by_contact ON regalkit_contact_keys (contact_id);
CREATE TABLE IF NOT EXISTS regalkit_events (
	contact_id bytea    NOT NULL,
	message_id bytea    NOT NULL,
	time_s     bigint   NOT NULL,
	time_ns    integer  NOT NULL,
	kind       smallint NOT NULL,
	name       bytea    NOT NULL,
	category   bytea    NOT NULL,
	group_id   bytea    NOT NULL,
	properties bytea,
	traits     bytea,
	context    bytea,
	received_s  bigint,
	received_ns integer,
	PRIMARY KEY (contact_id, message_id)
);
CREATE INDEX IF NOT EXISTS regalkit_events_by_contact_time ON regalkit_events (contact_id, time_s, time_ns, message_id);
CREATE INDEX IF NOT EXISTS regalkit_events_by_time ON regalkit_events (time_s, time_ns, message_id, contact_id);
CREATE INDEX IF NOT EXISTS regalkit_events_by_name_time ON regalkit_events (name, time_s, time_ns, message_id, contact_id);
CREATE TABLE IF NOT EXISTS regalkit_processed (
	message_id bytea PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS regalkit_tombstones (
	user_id    bytea PRIMARY KEY,
	time_s     bigint,  -- NULL: no delete; the row is there for transactions to lock
	time_ns    integer,
	message_id bytea
);`,
	// 2: the transactional outbox (see outbox.go). due_at is when a pending entry may
	// next be claimed: -infinity until its first claim, then the end of its lease or
	// the time Retry names. The event columns are those of regalkit_events, NULL when
	// the entry has no event (ev_kind tells). Sent and dead entries stay, for the counts.
	`
CREATE TABLE IF NOT EXISTS regalkit_outbox (
	seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	contact_id   bytea       NOT NULL,
	message_id   bytea       NOT NULL,
	created_at   timestamptz NOT NULL,
	state        smallint    NOT NULL DEFAULT 0, -- 0 pending, 1 sent, 2 dead
	attempts     integer     NOT NULL DEFAULT 0,
	due_at       timestamptz NOT NULL DEFAULT '-infinity',
	next_attempt timestamptz,
	lease        text,
	lease_until  timestamptz,
	reason       bytea       NOT NULL DEFAULT '',
	settled_at   timestamptz,
	ev_message_id  bytea,
	ev_time_s      bigint,
	ev_time_ns     integer,
	ev_kind        smallint,
	ev_name        bytea,
	ev_category    bytea,
	ev_group_id    bytea,
	ev_properties  bytea,
	ev_traits      bytea,
	ev_context     bytea,
	ev_received_s  bigint,
	ev_received_ns integer
);
CREATE INDEX IF NOT EXISTS regalkit_outbox_due ON regalkit_outbox (due_at, seq) WHERE state = 0;
CREATE INDEX IF NOT EXISTS regalkit_outbox_pending_by_contact ON regalkit_outbox (contact_id, seq) WHERE state = 0;
CREATE INDEX IF NOT EXISTS regalkit_outbox_dead ON regalkit_outbox (seq) WHERE state = 2;`,
}

// SchemaVersion is the schema version this package reads and writes: the version
// [Store.Migrate] brings a database to.
const SchemaVersion = 2

const sqlVersionTable = `CREATE TABLE IF NOT EXISTS regalkit_schema_version (
	version    integer PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// ErrSchema: the database's schema is not the one this package knows: Migrate was not
// run, or a newer version of the package migrated it.
var ErrSchema = errors.New("pgstore: schema version mismatch")

// SchemaError reports the schema version found and the one wanted. It matches ErrSchema.
type SchemaError struct {
	Found, Want int
}

// Error says which versions differ and what to do.
func (e *SchemaError) Error() string {
	hint := "run Store.Migrate first"
	if e.Found > e.Want {
		hint = "a newer regalkit migrated it: run that version"
	}
	return fmt.Sprintf("pgstore: database schema is at version %d, this package uses version %d: %s", e.Found, e.Want, hint)
}

// Unwrap returns ErrSchema.
func (e *SchemaError) Unwrap() error { return ErrSchema }

// Migrate brings the database's schema to [SchemaVersion], applying each missing
// version in a transaction of its own that also records it. It is idempotent: on an
// up-to-date database it changes nothing. Replicas may run it at the same time: of
// two that apply one version together, one records it and the other, failing on the
// record, reads the versions again and finds nothing left to do. A database at a newer
// version than the package's is an error matching [ErrSchema], and is left alone.
func (s *Store) Migrate(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, sqlVersionTable); err != nil && !raced(err) {
		return fmt.Errorf("pgstore: creating the schema version table: %w", err)
	}
	for attempt := 1; ; attempt++ {
		err := s.migrateOnce(ctx)
		if err == nil || !raced(err) || attempt >= 10 {
			return err
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return err
		}
	}
}

// raced reports whether err is what a concurrent migration makes one fail with: a
// version (or a catalog entry) recorded by the other, or a serialization failure.
func raced(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "42P07" || pe.Code == "42710" || pe.Code == "40001" || pe.Code == "40P01")
}

func (s *Store) migrateOnce(ctx context.Context) error {
	version, err := s.version(ctx)
	if err != nil {
		return err
	}
	if version > SchemaVersion {
		return &SchemaError{Found: version, Want: SchemaVersion}
	}
	for v := version; v < SchemaVersion; v++ {
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO regalkit_schema_version (version) VALUES ($1)`, v+1)
			return err
		})
		if err != nil {
			return fmt.Errorf("pgstore: migrating to schema version %d: %w", v+1, err)
		}
	}
	return nil
}

// version returns the schema version the database records: 0 before the first
// migration.
func (s *Store) version(ctx context.Context) (int, error) {
	var v int
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM regalkit_schema_version`).Scan(&v)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // no version table: nothing migrated
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pgstore: reading the schema version: %w", err)
	}
	return v, nil
}
