package contactcore

import (
	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/internal/intern"
	"github.com/regalkit/regalkit/internal/jsonvalue"
)

// A field is one of a contact's scalar standard fields: a single last-writer-wins
// register (Rule T4) in state.fields. The table [fields] says everything the package
// knows about each one; apply, merge (join), hold, erase, the export and the storage
// codec all loop over it, so a field cannot be forgotten by one of them.
//
// The standard traits with more structure are handled beside the table: phones (a log,
// Rules T8, T9, C5), the address (its parts, Rule T5: see address.go), consent (a
// ledger, package optin), custom properties (keyed registers, Rule T2) and `name`,
// which writes firstName and lastName (Rule T1).
type field uint8

// The fields, in the order of the table: the order the export lists them in, and the
// order Changes reports them in after a merge.
const (
	fieldEmail field = iota
	fieldFirstName
	fieldLastName
	fieldAge
	fieldGender
	fieldTimeZone
	numFields
)

// fieldKind is how a field's value is read and refused, and how the export writes it.
type fieldKind uint8

const (
	// kindText: a non-empty string, kept as given (trait.invalid otherwise). Exported as
	// a JSON string.
	kindText fieldKind = iota
	// kindEmail: an email, normalized (Rule T7; email.invalid otherwise). Exported as a
	// JSON string.
	kindEmail
	// kindAge: a whole number 0–150 from a number or a numeric string (Rule T6;
	// trait.invalid otherwise), kept as its decimal digits. Exported as a JSON number.
	kindAge
	// kindZone: the shape of an IANA time zone name (Rule G3; trait.invalid otherwise).
	// Exported as a JSON string.
	kindZone
)

// fieldSpec is one row of the table.
type fieldSpec struct {
	// name is the field's name everywhere it is named: its path in Changes, its key in
	// the export (RULES.md, X) and its clock's name in the storage codec. Renaming it
	// changes the storage format (see [StorageVersion]).
	name string
	// keys are the trait keys that write the field, normalized as in Rule T1 (every
	// non-alphanumeric character dropped, ASCII letters lowercased).
	keys []string
	// context, when not empty, is the key of the message's context (context.<key>,
	// outside context.traits) that writes the field instead of a trait: such a field
	// is not a trait (Rule T3 does not apply to it) and is exported after the address.
	context string
	kind    fieldKind
}

//go:generate go test -run TestStandardFieldSwitch -update .

// fields is the table of scalar standard fields. To add one:
//
//  1. add its constant before numFields above, and its row here (its name is an ASCII
//     identifier: the export writes it unquoted);
//  2. if none of the kinds fits, add a kind, its case in applier.scalar and its sample
//     in TestFieldsTable;
//  3. add a read to Contact, and its forwarder to package contact;
//  4. run go generate, which writes the row's keys into the switch of
//     standardfield_gen.go (TestStandardFieldSwitch fails until it is done).
//
// Apply, merge, hold, erase, the export and the storage codec need no change, and
// TestFieldsTable checks every row through each of them.
var fields = [numFields]fieldSpec{
	fieldEmail:     {name: "email", keys: []string{"email"}, kind: kindEmail},
	fieldFirstName: {name: "firstName", keys: []string{"firstname"}, kind: kindText},
	fieldLastName:  {name: "lastName", keys: []string{"lastname"}, kind: kindText},
	fieldAge:       {name: "age", keys: []string{"age"}, kind: kindAge},
	fieldGender:    {name: "gender", keys: []string{"gender"}, kind: kindText},
	fieldTimeZone:  {name: "timezone", context: "timezone", kind: kindZone},
}

// fieldBit is the stdField bit of a table field; the bits of the other standard traits
// follow them (see traits.go).
func fieldBit(f field) stdField { return 1 << f }

// fieldByName returns the field named name, and false when there is none.
func fieldByName(name string) (field, bool) {
	for f := range numFields {
		if fields[f].name == name {
			return f, true
		}
	}
	return 0, false
}

// scalar applies a trait's raw JSON value to a table field: null removes it (Rule T4),
// a valid value sets it, and another value is refused with the kind's code.
func (a *applier) scalar(f field, raw []byte, path fieldPath) {
	spec := &fields[f]
	switch spec.kind {
	case kindText:
		a.stringField(&a.c.fields[f], spec.name, raw, path)
	case kindEmail:
		a.emailField(raw, path)
	case kindAge:
		a.ageField(raw, path)
	case kindZone:
		a.zoneField(&a.c.fields[f], spec.name, raw, path)
	}
}

// contextFields applies the table fields read from the message's context: a null or
// absent value changes nothing.
func (a *applier) contextFields() {
	for f := range numFields {
		if key := fields[f].context; key != "" {
			if raw, ok := a.m.Context.Extra.Get(key); ok && jsonvalue.KindOf(raw) != jsonvalue.KindNull {
				a.scalar(f, raw, fieldPath{base: "context.", key: key})
			}
		}
	}
}

// zoneField applies a time zone name (Rule G3): a string of letters, digits and
// "/_+-", such as "America/Argentina/Buenos_Aires".
func (a *applier) zoneField(r *register, name string, raw []byte, path fieldPath) {
	s, ok := jsonvalue.String(raw)
	if !ok || !zoneName(s) {
		a.refuse(diag.TraitInvalid, path, name+" must be an IANA time zone name such as America/New_York")
		return
	}
	a.changed(name, r.set(intern.String(s), a.st))
}

// allStdKeys returns every standard trait key, normalized as in Rule T1, with its bit:
// the keys of the table's fields, then those of the traits handled beside it. The
// switch in standardfield_gen.go is made from it (see TestStandardFieldSwitch).
func allStdKeys() []stdKey {
	var keys []stdKey
	for f := range numFields {
		for _, k := range fields[f].keys {
			keys = append(keys, stdKey{k, fieldBit(f)})
		}
	}
	return append(keys, otherStdKeys[:]...)
}

type stdKey struct {
	key string
	f   stdField
}
