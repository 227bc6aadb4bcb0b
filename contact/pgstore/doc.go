// Package pgstore is a [contact.Store] in PostgreSQL: contacts that survive a restart,
// shared by every replica of a service that points at one database. It passes the
// whole of package contact/storetest.
//
//	pool, err := pgxpool.New(ctx, dsn)
//	...
//	store, err := pgstore.New(ctx, pool, nil)
//	...
//	err = store.Migrate(ctx) // creates or upgrades the tables; idempotent
//	p := regalkit.New(store, nil)
//
// The package is a Go module of its own, so that importing regalkit never pulls in a
// database driver. It uses pgx v5 through a *pgxpool.Pool that stays the caller's.
//
// # Schema
//
// [Store.Migrate] applies the versions the database lacks, each in a transaction that
// records it in regalkit_schema_version; replicas may run it at once. The tables, in
// the connection's search_path:
//
//   - regalkit_contacts: each contact as the contact package's storage codec writes it
//     (the export document of RULES.md, X with its merge clocks, links, held messages and
//     consent ledger), byte for byte, so that a contact read back merges exactly as the
//     one written would. Consent history stays with the contact, as the codec has it.
//   - regalkit_contact_keys: one row per key of [contact.Contact.Keys] (Rule I6), unique
//     per kind, value and contact, so that one key may find several contacts (Rule I4).
//   - regalkit_events: the event records (Rules E1, E2), unique per contact and
//     messageId, indexed by contact and event time for Events and by event time for
//     Recent. Times are kept as Unix seconds and nanoseconds: exact for every instant.
//   - regalkit_processed: the messageIds marked processed (Rule E2).
//   - regalkit_tombstones: the latest delete of each userId (Rule I7).
//   - regalkit_outbox (version 2): the transactional outbox (Rules O1, O3; see Outbox
//     below), one row per entry: seq (an identity column, the entry's Seq), contact
//     and messageId, Created, state (0 pending, 1 sent, 2 dead), attempts, due_at,
//     next_attempt, lease and lease_until, reason, and the entry's event in the columns
//     of regalkit_events, prefixed ev_ (NULL when it has none). Two partial indexes
//     over the pending rows: (due_at, seq) for Claim, (contact_id, seq) for the
//     first pending entry of a contact. Sent and dead rows stay, for the counts.
//
// Text is kept as bytea: a Go string may hold NUL or invalid UTF-8, which text cannot,
// and bytea sorts byte by byte, as Go compares strings, whatever the collation.
//
// # Transactions
//
// Update runs fn in a SERIALIZABLE transaction. Reads go to the database when fn makes
// them, and each is answered once: the contacts a lookup finds are kept, so that
// reading them again costs nothing. Two answers travel with a lookup before they are
// asked for: a userId's lookup reads the userId's tombstone, and every lookup reads
// whether the contacts it finds have events with the messageIds the transaction claimed
// (see Processed below), which is what the Processor asks next. Writes wait in
// memory, and reads answer with them applied; when fn returns nil they are sent in one
// pgx.Batch that ends with the COMMIT. The BEGIN travels in the same batch as the first
// read. So a transaction costs one round trip per read that fn needs answered, plus
// one.
//
// Why SERIALIZABLE and not row locks: the Processor decides from what is not there as
// much as from what is, a messageId not yet processed, a userId no contact has, no
// delete of the user, and a row lock cannot lock a row that does not exist (a store
// built on locks would need an advisory lock per key, which CockroachDB and its kin do
// not have). Serializable isolation notices when a transaction read something a
// concurrent one changed, present or absent, and fails one of them with SQLSTATE 40001.
// No lock is held while fn runs, and fn may read contacts in any order without risking
// a deadlock. The price is false conflicts: PostgreSQL tracks reads of an index by page,
// so two transactions that read and write keys that share an index page conflict even
// when the keys differ, and one of them runs again.
//
// Update runs the whole transaction again, from a fresh BEGIN, never from a savepoint,
// after a serialization failure (40001), a deadlock (40P01) or a unique violation
// (23505: every insert is of a row the transaction saw absent, so a violation means a
// concurrent transaction inserted it first), with a short random wait that grows with
// each attempt. After [Options.MaxAttempts] runs (50 by default) it returns an error
// matching contact.ErrConflict. That loop is also what CockroachDB asks of its clients.
//
// Two ways the store keeps the false conflicts down. Processed does not read the
// messageId: it claims it, inserting it unless it is there (a claim fn does not confirm
// with MarkProcessed is deleted at the commit). An insert probes the index without a
// predicate lock, so transactions of different messages never conflict over their
// messageIds, and two transactions of one messageId conflict as two inserts do: the
// second waits for the first. And the contacts table leaves half of each page free, so
// that rewriting a contact usually adds no index entry (a HOT update).
//
// One thing serializable isolation alone does not give: a transaction that only read a
// userId's tombstone may commit after a delete of that user committed, serialized
// before it. The store's contract wants the later commit to see the earlier one, so a
// transaction that writes locks the tombstone rows it read (FOR SHARE, in the commit
// batch): that fails on a row changed since the transaction began, and makes a later
// delete wait. A userId gets a row without a delete the first time a transaction reads
// its tombstone, so that there is a row to lock.
//
// Every statement runs under fn's context. When the context ends during fn, or before
// the commit, the transaction is rolled back and Update returns the context's error.
// When it ends while the COMMIT is on its way, the server may have committed before it
// heard of the cancellation: Update returns the context's error, and the transaction
// may have been kept, as with any database. A connection that was in the middle of a
// statement is closed, not reused.
//
// Statements use index scans only (enable_seqscan is off inside the transaction), so
// that a read of one key is tracked as a read of its index page, not of the table.
//
// # Outbox
//
// The Store implements [contact.Outbox], and its transactions [contact.OutboxTx], so
// that regalkit.Forwarders on several machines share one outbox: each entry goes to
// one of them at a time, and a contact's entries go one at a time, in order.
//
// Enqueue keeps the entry in the transaction, as the other writes; the commit batch
// inserts it, last before the COMMIT, after an advisory lock of its contact
// (pg_advisory_xact_lock, keyed by a hash of the contact id, taken in key order). Two
// commits that enqueue for one contact thus take their Seqs one after the other: the
// second waits until the first has committed, so Seqs follow commit order, and a
// claim never sees a contact's later entry without its earlier one. The lock is the
// last thing a commit waits for, so it adds no deadlock; two contacts whose ids share
// a hash only wait for each other. The outbox is never read by a processing
// transaction, so it adds no serialization failure either.
//
// Claim is one statement, under READ COMMITTED: it selects the pending entries that
// are due at the caller's now (due_at is -infinity until the first claim, then the end
// of the lease, or the time Retry names) and that are their contact's first pending
// entry, earliest due first, then by seq, up to max; locks them FOR UPDATE SKIP LOCKED,
// so that a concurrent claim passes over them instead of waiting; and sets their lease
// (a fresh random token and the seq), lease_until and due_at to now + lease. A claim
// whose snapshot predates another's commit meets the rows that one leased either
// locked (skipped) or, once committed, re-checked against the new row (no longer due:
// dropped); a contact's next entry stays behind its first, which is still pending in
// any snapshot. So no entry is returned twice under live leases, and no contact has
// two entries out. Ack, Retry and Park are an UPDATE of the row that matches its seq,
// state pending and the token; no row means [contact.ErrLeaseLost]. The times are the
// caller's (the Forwarder's clock, or a test's), not the server's, and keep
// microseconds, as timestamptz does; a returned LeaseUntil is now + lease exactly.
//
// OutboxStats counts the table's rows by state: its cost grows with the entries ever
// sent. Nothing prunes sent rows yet; deleting them by hand only lowers the Sent count.
//
// What a claim costs: it walks the due index from its start and stops after max rows,
// so its cost is the rows it steps over, the pending entries that are not their
// contact's first (each found so by one probe of the contact index). While Regal
// answers, a contact rarely has more than one entry pending and a claim reads little
// more than what it returns; during an outage every contact's first entry waits for
// its retry and a claim steps over the whole backlog behind them. BenchmarkOutboxClaim,
// 20,000 entries for 100 contacts (on the machine and load of the figures below, load
// average 2 to 4): a claim that finds nothing behind 100 leased first entries, 61 ms;
// claims of 16 entries, each acknowledged, by one claimer, about 4,000 entries/s
// (`.ci/postgres go test -run '^$' -bench OutboxClaim -benchtime 200x .`). A table of
// each contact's first entry, kept by Enqueue and the settling statements, would bound
// the first figure; it is not built.
//
// # Reads outside transactions
//
// Contact, Find and Events are one statement each: one committed state. Contacts and
// Recent read pages of 500 rows in a READ ONLY REPEATABLE READ transaction, so that the
// whole iteration sees one state however long the caller takes; the iteration holds a
// connection of the pool until it ends.
//
// # Round trips
//
// Counted by a pgx tracer and on the wire (TestRoundTrips), with the statements
// prepared; each row is one message, after the ones above it:
//
//	identify, new user        7  the known user's three, and the anonymousId's, the new id's and the keys' reads
//	identify, known user      3  BEGIN+messageId, userId+tombstone+event, writes+COMMIT
//	track, known user         3  the same: the lookup also says whether the contact has the event
//	page, known user          3
//	group, known user         3
//	track, anonymous only     5
//	alias                    12
//	duplicate                 2  BEGIN+messageId, COMMIT
//	delete                   16  with the lookups of ghost links and aliases (Rule I7): the deleted user's key, the anonymous ID's own contact, the alias group
//
// TestRoundTrips logs the counts (.ci/postgres go test -run TestRoundTrips -v .) and
// fails when one differs from this table.
//
// # Figures
//
// Measured on the development machine: 2 shared vCPUs (AMD EPYC) running PostgreSQL
// 15 on loopback as .ci/postgres starts it (fsync and synchronous_commit off), while
// other builds kept the load average between 9 and 13, so that the figures are the
// order of magnitude, not a tuned ceiling. The in-memory store is measured the same way,
// at the same time.
//
// storetest.Benchmark, time per operation and allocations (B/op, allocs/op):
//
//	                 pgstore                  memstore
//	Contact          116 µs  16.5 KB  268     4.9 µs  1.3 KB   6
//	Find             119 µs  16.6 KB  271     4.9 µs  1.9 KB   8
//	Apply            381 µs  36.0 KB  555    10.3 µs  3.5 KB  20
//	AddEvent         343 µs  24.2 KB  445     7.7 µs  1.6 KB   8
//	Events           414 µs  80.7 KB  878    48.8 µs  6.8 KB  49
//	Recent           626 µs  81.8 KB  892   100   µs 22.4 KB  57
//	ParallelApply    494 µs  36.5 KB  563    19.0 µs  3.5 KB  20
//	ParallelFind     140 µs  16.6 KB  271     8.5 µs  1.9 KB   8
//
// A read costs a loopback round trip and the decoding of the contact's document; a
// write transaction two or three round trips and the server's commit.
//
// A second run, at a load average of 17, measured up to four times these times for
// single reads (Contact 480 µs, Events 760 µs) and about the same for writes.
//
// Processor throughput (BenchmarkProcessor): 20,000 generated messages for 2,000 users,
// every kind but delete, in no time order, into an empty schema; the range of three
// runs of the final design, at a load average of 9 to 11:
//
//	workers   messages/s    transactions run again
//	1         1,430–1,620    0%
//	2         1,280–1,730    1.1–2.4%
//	8         2,040–2,360   11–12%
//
// With 8 workers the client has a transaction waiting on the server while it works on
// others, and the aim of 2,000 messages/s is reached; 2 workers gain little over 1 on
// two cores that also run the server. The client spends most of its time in the network
// calls of its round trips (pprof); the rest is the server's. The transactions run
// again are almost all serialization failures between transactions of different users
// whose keys, contact ids or tombstone rows share an index page (BenchmarkProcessor
// logs them by SQLSTATE). Earlier designs measured on the way: a guard row inserted
// into the tombstone index by every message, 48% run again and 890 messages/s with 8
// workers; reading processed messageIds instead of claiming them, 17–21% and 1,210–1,820;
// the event check in a round trip of its own, 1,190–1,290.
//
// Reproduce, from the repository root:
//
//	.ci/postgres go test -run '^$' -bench Store -benchmem .
//	go test -run '^$' -bench Store -benchmem ./contact/memstore
//	.ci/postgres go test -run '^$' -bench Processor -benchtime 1x .
//	.ci/postgres go test -run TestRoundTrips -v .
package pgstore
