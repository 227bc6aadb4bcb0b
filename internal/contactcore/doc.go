// Package contactcore is the implementation of package contact's Contact: what Segment
// messages do to a person's profile, with every step the Processor takes (apply traits,
// hold and release anonymous messages, link, merge, erase, alias). It is pure: no I/O,
// no context.
//
// Package contact declares its Contact as this package's Contact (type Contact
// contactcore.Contact): the same struct, with only the reads, a copy and the encodings
// as methods. So users and Store implementers see a contact they cannot break, and the
// Processor (the root package) converts a *contact.Contact to a *contactcore.Contact at
// no cost to change it. Both live in one module, so the mutators here are not a public
// API and can change with the Processor.
//
// # Traits
//
// [Contact.ApplyTraits] applies an identify message's traits (Rule T3: its traits, then
// its context.traits where those do not name the same field). Standard traits are
// recognized after dropping every non-alphanumeric character and lowercasing the key
// (Rule T1: "first_name", "FirstName" and "First Name" are all firstName); `name` fills
// firstName and lastName when the message names neither. Every other trait is a custom
// property under its original key, its value kept exactly as JSON (Rule T2). Addresses
// are read from Segment's, Regal's and the seed's key families into one canonical form
// (Rule T5); age is a whole number 0–150 (T6); emails are normalized (T7); phones are
// validated with libphonenumber and kept as E.164 (T8), several to a contact with one
// primary (T9); a message carries at most 300 traits with keys of at most 255 characters
// (T10).
//
// # Standard fields: one table
//
// The scalar standard fields (email, firstName, lastName, age, gender, and timezone from
// context.timezone) are one table, fields in fields.go: for each, its name (its path
// in [Changes], its export key, its clock in the storage codec), the trait keys that
// write it as matched under Rule T1, and its kind (how it is parsed and refused, and
// how the export writes it). Its register is state.fields[f]. Apply, merge (join),
// hold, erase, the export and the storage codec loop over the table, so a new
// standard trait is one entry plus a test. To add, say, a `title` trait:
//
//	const (
//		...
//		fieldTimeZone
//		fieldTitle // new: before numFields
//		numFields
//	)
//
//	fieldTitle: {name: "title", keys: []string{"title", "jobtitle"}, kind: kindText},
//
// then a read, func (c *Contact) Title() string { return c.shown().fields[fieldTitle].val },
// with its forwarder in package contact, and go generate, which writes the new keys
// into standardField's switch (a switch, because it runs for every trait of every
// message; TestStandardFieldSwitch fails while it is stale). TestFieldsTable runs
// every row through apply, the export, the storage codec, merge, hold and erase; a
// row that needs a new way of parsing gets a kind, with its case in applier.scalar
// and a sample in the test. The address parts are a table of the same kind
// (addressParts in address.go). Phones, the address as a whole, consent and custom
// properties have structure of their own and are handled beside the tables.
//
// # Order independence
//
// Segment delivers out of order and re-delivers. Every field of a contact is a
// last-writer-wins register stamped with the (event time, messageId) of the write that
// set it, and a write only wins with a larger stamp (Rule T4); JSON null removes a field
// with its own stamp, so a late, older value cannot bring it back. Phone writes are kept
// as a log from which the current phones, the primary phone, and the primary phone at
// any past moment (Rule C5) are derived. Consent records are a grow-only set (package
// optin). So applying the same messages in any order, any number of times, gives the
// same contact, and [Contact.Merge] of two contacts is the contact of both their
// messages (Rule S3).
//
// # Identity
//
// A contact has an External ID ([Contact.UserID], with former ones after an alias) and
// anonymous IDs: linked ones, each with the stamp of the earliest message that linked
// it ([Contact.LinkAs], Rules I3, I4), or, for an anonymous contact, its own. Messages that
// carried only an anonymous ID are held whole ([Held], [Contact.Hold]) apart from the
// contact's own state, because a late link may attribute them to another contact
// ([Contact.Release]); the contact shows its own state joined with what it holds.
// [Contact.Erase] removes what a delete covers (Rule I7). The root Processor decides
// where messages go; this package keeps the result order-independent.
//
// # Stores
//
// This package knows no store. Contacts live in a contact.Store (package contact holds
// the contract, contact/memstore and contact/pgstore implement it, contact/storetest
// checks it); a durable one keeps each contact with [EncodeStorage], below.
//
// # Refusals
//
// A refused field never aborts a message: [Changes.Diagnostics] names each one with its
// code (trait.invalid, trait.limit, email.invalid, phone.invalid, optin.*) and field
// path, and the rest of the message applies. Diagnostic messages never hold a whole
// phone number or email address.
//
// # Audience
//
// A contact is in the audience when it has a valid phone ([Contact.InAudience], Rule
// A1); its subscription state per channel is its primary phone's ([Contact.Subscription],
// Rule A2).
//
// # Export
//
// json.Marshal of a *Contact writes the people format of RULES.md, X, and [Export]
// adds the contact's events. It holds no merge state: json.Unmarshal reads it back as
// one message at the zero time. (export.go)
//
// # Storage
//
// A durable Store keeps a contact with [EncodeStorage] and reads it back with
// [DecodeStorage]: one documented, versioned encoding ([StorageVersion]) of the whole
// merge state, which every Store can rely on to read back exactly what it wrote.
// (storage.go)
package contactcore
