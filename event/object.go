package event

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/regalkit/regalkit/internal/jsonvalue"
)

// Errors of Object's JSON methods.
var (
	// ErrDuplicateKey: an Object with the same key twice cannot be written or read.
	ErrDuplicateKey = errors.New("event: duplicate key in object")
	// ErrInvalidValue: a member's value is not valid JSON.
	ErrInvalidValue = errors.New("event: member value is not valid JSON")
)

// AppendJSON appends o as a JSON object, each member's value as it is. A nil Object is
// written as null. It checks each value and refuses a value that is not valid JSON
// (ErrInvalidValue) or a key present twice (ErrDuplicateKey).
func (o Object) AppendJSON(dst []byte) ([]byte, error) {
	if o == nil {
		return append(dst, "null"...), nil
	}
	if o.hasDuplicate() {
		return dst, ErrDuplicateKey
	}
	for _, m := range o {
		if err := jsonvalue.Check(m.Value); err != nil {
			return dst, errors.Join(ErrInvalidValue, err)
		}
	}
	return o.appendText(dst), nil
}

// appendText writes o as a JSON object without checking its values.
func (o Object) appendText(dst []byte) []byte {
	dst = append(dst, '{')
	for i, m := range o {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonvalue.AppendString(dst, m.Key)
		dst = append(dst, ':')
		dst = append(dst, m.Value...)
	}
	return append(dst, '}')
}

func (o Object) hasDuplicate() bool {
	if len(o) <= 16 {
		for i := range o {
			for j := range i {
				if o[i].Key == o[j].Key {
					return true
				}
			}
		}
		return false
	}
	seen := make(map[string]struct{}, len(o))
	for _, m := range o {
		if _, dup := seen[m.Key]; dup {
			return true
		}
		seen[m.Key] = struct{}{}
	}
	return false
}

// MarshalJSON writes o as a JSON object (see [Object.AppendJSON]).
func (o Object) MarshalJSON() ([]byte, error) { return o.AppendJSON(nil) }

// UnmarshalJSON reads a JSON object into o, members in input order, values as compact
// raw JSON. null gives a nil Object. A duplicate key, invalid JSON, or a value that is
// not an object or null is an error.
func (o *Object) UnmarshalJSON(b []byte) error {
	if jsonvalue.IsNull(b) {
		*o = nil
		return nil
	}
	b = bytes.Clone(b) // the members keep slices of it
	out := Object{}
	err := jsonvalue.EachMember(b, func(key string, value []byte) error {
		out = append(out, Member{Key: key, Value: json.RawMessage(value)})
		return nil
	})
	if errors.Is(err, jsonvalue.ErrDuplicateKey) {
		return errors.Join(ErrDuplicateKey, err)
	}
	if err != nil {
		return errors.Join(ErrInvalidValue, err)
	}
	*o = out
	return nil
}
