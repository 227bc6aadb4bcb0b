package contact

import "github.com/regalkit/regalkit/internal/jsonvalue"

// The helpers in this file read values of an event.Object, which hold compact JSON (as
// the decoder makes them). They never panic: a hand-built value that is not compact JSON
// reads as invalid, and the trait holding it gets a diagnostic.

const (
	kindInvalid = jsonvalue.KindInvalid
	kindNull    = jsonvalue.KindNull
	kindNumber  = jsonvalue.KindNumber
	kindString  = jsonvalue.KindString
	kindObject  = jsonvalue.KindObject
)

func kindOf(raw []byte) jsonvalue.Kind { return jsonvalue.KindOf(raw) }

// unquote returns the text of a JSON string, its escapes resolved.
func unquote(raw []byte) (string, bool) { return jsonvalue.String(raw) }

// eachMember calls fn for each member of the compact JSON object raw, in order, with
// the key's JSON text (quoted, escapes unresolved) and the value's. It reports false if
// raw is not a compact JSON object.
func eachMember(raw []byte, fn func(key, value []byte)) bool {
	if kindOf(raw) != kindObject {
		return false
	}
	it := jsonvalue.NewIter(raw, 0)
	for it.Next() {
		ks, ke, _ := it.Key()
		fn(raw[ks-1:ke+1], it.ValueBytes())
	}
	return it.Err() == nil
}
