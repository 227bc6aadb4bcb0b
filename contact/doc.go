// Package contact is regalkit's model of a person, as a [Contact] the Processor
// (regalkit.New, then its Process, ProcessBytes or ProcessStream) builds from Segment
// messages, and the contract of the [Store] that keeps contacts.
//
// # Reading a contact
//
// A [Contact] offers reads: its External ID and former ones, anonymous IDs and their
// links (Rules I1–I5), standard traits (Rules T1–T7: first and last name, email, age,
// gender, address; the time zone, Rule G3), custom properties exactly as sent (Rule
// T2), phones in E.164 with one primary (Rules T8, T9), the consent ledger and each
// phone's state per channel (Rules C5, C7, A2), and whether it is in the audience (Rule
// A1). Only the
// Processor changes a contact: what a message does to it (the last-writer-wins
// registers of Rule T4, held anonymous messages, merges, deletes) lives in the
// module-internal package internal/contactcore, whose package doc also shows how a new
// standard trait is added. Every field is order-independent: the same messages in any
// order, any number of times, give the same contact (Rule S3).
//
// # Export
//
// json.Marshal of a *Contact writes the people format of RULES.md, X, and [Export]
// adds the contact's events. It is for showing a contact and holds no merge state:
// json.Unmarshal reads it back as one message at the zero time.
//
// # Storage
//
// A durable Store keeps a contact with [EncodeStorage] and reads it back with
// [DecodeStorage]: one documented, versioned encoding ([StorageVersion]) of the whole
// merge state (every register with the stamp that set it, removed fields included, in
// the key "clocks"), which every Store can rely on to read back exactly what it wrote,
// and which keeps merging exactly as the original would (Rule S3).
//
// # Stores
//
// Contacts live in a [Store]: an interface whose doc comment is the contract, with an
// in-memory implementation in contact/memstore, a PostgreSQL one in contact/pgstore,
// and a conformance kit in contact/storetest that any implementation can run. A Store
// treats a contact as a value: it indexes it by [Contact.Keys], keeps the contact Put
// gives it (or its storage encoding), hands out copies made with [Contact.Clone] (or
// the storage codec), and never looks inside.
//
// # Outbox
//
// A Store that also implements [Outbox] (both stores of this module do) lets the
// Processor, with regalkit.Options.Outbox, record in each message's own transaction
// what must reach Regal (Rule O1): an [OutboxEntry] per contact whose Regal view
// changed, written through the transaction's [OutboxTx]. regalkit.Forwarder claims the
// entries, sends them and acknowledges them (Rules O2–O4); storetest checks an Outbox
// as it checks a Store.
package contact
