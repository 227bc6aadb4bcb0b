package trigger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/jsonvalue"
	"github.com/regalkit/regalkit/optin"
)

// The JSON form of a trigger (Rule J1):
//
//	{"name": "approved-not-signed",
//	 "entry": {"event": "Loan Application Approved",
//	           "where": [{"property": "amount", "op": ">=", "value": 10000}],
//	           "count": {"atLeast": 3, "within": "720h"}},
//	 "exit": [{"event": "Loan Signed", "within": "48h"}],
//	 "delay": "2h",
//	 "require": {"inAudience": true, "subscribed": "voice",
//	             "trait": {"property": "plan", "op": "==", "value": "gold"}}}
//
// Durations are in time.ParseDuration's form; entry and exit take an optional "kind"
// (track, the default, page or screen); where, count, exit, delay and require are
// optional.
type triggerJSON struct {
	Name    string       `json:"name"`
	Entry   *entryJSON   `json:"entry"`
	Exit    []exitJSON   `json:"exit"`
	Delay   *string      `json:"delay"`
	Require *requireJSON `json:"require"`
}

type entryJSON struct {
	Kind  string          `json:"kind"`
	Event string          `json:"event"`
	Where []conditionJSON `json:"where"`
	Count *countJSON      `json:"count"`
}

type countJSON struct {
	AtLeast int     `json:"atLeast"`
	Within  *string `json:"within"`
}

type exitJSON struct {
	Kind   string  `json:"kind"`
	Event  string  `json:"event"`
	Within *string `json:"within"`
}

type requireJSON struct {
	InAudience bool           `json:"inAudience"`
	Subscribed string         `json:"subscribed"`
	Trait      *conditionJSON `json:"trait"`
}

type conditionJSON struct {
	Property string          `json:"property"`
	Op       string          `json:"op"`
	Value    json.RawMessage `json:"value"`
}

// Decode reads one trigger in its JSON form from r and checks it (see
// [Trigger.Validate]). Every error names the field at fault: a *FieldError, or a JSON
// syntax error with its offset.
func Decode(r io.Reader) (*Trigger, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("trigger: reading: %w", err)
	}
	var t Trigger
	if err := t.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return &t, nil
}

// UnmarshalJSON reads a trigger in its JSON form and checks it (see [Decode]). Unknown
// fields are refused, so that a misspelt one is not silently ignored.
//
// The text must be one JSON value, and its keys must be the form's to the letter:
// encoding/json alone would take "Exit" for "exit", and the last of two "exit" keys.
func (t *Trigger) UnmarshalJSON(data []byte) error {
	var sc jsonvalue.Scanner
	compact, err := sc.Compact(nil, data)
	if err != nil {
		var je *jsonvalue.Error
		if errors.As(err, &je) && errors.Is(err, jsonvalue.ErrSyntax) {
			return fmt.Errorf("%w: JSON syntax error at byte %d: %w", ErrInvalid, je.Offset, err)
		}
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := triggerShape.check("", compact); err != nil {
		return err
	}
	var w triggerJSON
	dec := json.NewDecoder(bytes.NewReader(compact))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return decodeError(err)
	}
	out, err := w.trigger()
	if err != nil {
		return err
	}
	if err := out.Validate(); err != nil {
		return err // a condition's value that repeats a key names its field (Condition.check)
	}
	if p := sc.Problem(); p != nil { // anywhere else: the form's own keys are checked above
		return fmt.Errorf("%w: %w", ErrInvalid, p)
	}
	*t = out
	return nil
}

// shape is what the JSON form allows at one place: a kind (KindInvalid for any
// value), whole numbers only, an object's members or an array's items.
type shape struct {
	kind   jsonvalue.Kind
	whole  bool
	fields map[string]*shape
	items  *shape
}

var (
	anyValue     = &shape{}
	stringValue  = &shape{kind: jsonvalue.KindString}
	boolValue    = &shape{kind: jsonvalue.KindBool}
	wholeNumber  = &shape{kind: jsonvalue.KindNumber, whole: true}
	conditionDoc = &shape{kind: jsonvalue.KindObject, fields: map[string]*shape{"property": stringValue, "op": stringValue, "value": anyValue}}

	// triggerShape is the JSON form of a trigger (see triggerJSON).
	triggerShape = &shape{kind: jsonvalue.KindObject, fields: map[string]*shape{
		"name": stringValue,
		"entry": {kind: jsonvalue.KindObject, fields: map[string]*shape{
			"kind": stringValue, "event": stringValue,
			"where": {kind: jsonvalue.KindArray, items: conditionDoc},
			"count": {kind: jsonvalue.KindObject, fields: map[string]*shape{"atLeast": wholeNumber, "within": stringValue}},
		}},
		"exit": {kind: jsonvalue.KindArray, items: &shape{kind: jsonvalue.KindObject, fields: map[string]*shape{
			"kind": stringValue, "event": stringValue, "within": stringValue,
		}}},
		"delay": stringValue,
		"require": {kind: jsonvalue.KindObject, fields: map[string]*shape{
			"inAudience": boolValue, "subscribed": stringValue, "trait": conditionDoc,
		}},
	}}
)

// check reports the first place where the compact JSON value v, at path field,
// departs from the shape: a value of another kind, a key the form does not have (to the
// letter), a key twice. null stands for an absent member anywhere.
func (sh *shape) check(field string, v []byte) error {
	k := jsonvalue.KindOf(v)
	if sh.kind == jsonvalue.KindInvalid || k == jsonvalue.KindNull {
		return nil
	}
	if k != sh.kind {
		return fieldError(field, "must be a JSON %s, not %s", sh.kind, k)
	}
	switch {
	case sh.whole:
		if bytes.ContainsAny(v, ".eE") {
			return fieldError(field, "must be a whole number, not %s", v)
		}
	case sh.fields != nil:
		seen := make(map[string]bool, len(sh.fields))
		it := jsonvalue.NewIter(v, 0)
		for it.Next() {
			start, end, escaped := it.Key()
			key := string(v[start:end])
			if escaped {
				key = string(jsonvalue.AppendUnescaped(nil, v[start:end]))
			}
			path := key
			if field != "" {
				path = field + "." + key
			}
			sub, ok := sh.fields[key]
			switch {
			case !ok:
				return fieldError(path, "unknown field")
			case seen[key]:
				return fieldError(path, "appears twice")
			}
			seen[key] = true
			if err := sub.check(path, it.ValueBytes()); err != nil {
				return err
			}
		}
	case sh.items != nil:
		it := jsonvalue.NewIter(v, 0)
		for i := 0; it.Next(); i++ {
			if err := sh.items.check(fmt.Sprintf("%s[%d]", field, i), it.ValueBytes()); err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeError turns an encoding/json error into one naming the field.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fieldError(te.Field, "must be a JSON %s, not %s", goKind(te.Type.Kind().String()), te.Value)
	case errors.As(err, &se):
		return fmt.Errorf("%w: JSON syntax error at byte %d: %w", ErrInvalid, se.Offset, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fieldError("", "no JSON value, or an incomplete one")
	}
	if _, name, ok := strings.Cut(err.Error(), "unknown field "); ok {
		return fieldError(strings.Trim(name, `"`), "unknown field")
	}
	return fmt.Errorf("%w: %w", ErrInvalid, err)
}

func goKind(k string) string {
	switch k {
	case "int", "int64":
		return "number"
	case "slice":
		return "array"
	case "struct", "ptr":
		return "object"
	case "bool":
		return "boolean"
	}
	return k
}

func (w *triggerJSON) trigger() (Trigger, error) {
	t := Trigger{Name: w.Name}
	if w.Entry == nil {
		return t, fieldError("entry", "is required")
	}
	var err error
	if t.Entry.Kind, err = parseKind("entry.kind", w.Entry.Kind); err != nil {
		return t, err
	}
	t.Entry.Event = w.Entry.Event
	for i, c := range w.Entry.Where {
		t.Entry.Where = append(t.Entry.Where, c.condition(fmt.Sprintf("entry.where[%d]", i)))
	}
	if c := w.Entry.Count; c != nil {
		if c.AtLeast < 1 {
			return t, fieldError("entry.count.atLeast", "must be at least 1")
		}
		t.Entry.Count.AtLeast = c.AtLeast
		if t.Entry.Count.Within, err = parseDuration("entry.count.within", c.Within); err != nil {
			return t, err
		}
	}
	for i, x := range w.Exit {
		field := fmt.Sprintf("exit[%d]", i)
		e := Exit{Event: x.Event}
		if e.Kind, err = parseKind(field+".kind", x.Kind); err != nil {
			return t, err
		}
		if e.Within, err = parseDuration(field+".within", x.Within); err != nil {
			return t, err
		}
		t.Exit = append(t.Exit, e)
	}
	if t.Delay, err = parseDuration("delay", w.Delay); err != nil {
		return t, err
	}
	if r := w.Require; r != nil {
		t.Require.InAudience = r.InAudience
		if r.Subscribed != "" {
			ch, ok := optin.ParseChannel(r.Subscribed)
			if !ok {
				return t, fieldError("require.subscribed", "unknown channel %q (sms, voice or email)", r.Subscribed)
			}
			t.Require.Subscribed = ch
		}
		if r.Trait != nil {
			c := r.Trait.condition("require.trait")
			t.Require.Trait = &c
		}
	}
	return t, nil
}

func (c conditionJSON) condition(string) Condition {
	return Condition{Property: c.Property, Op: Op(c.Op), Value: bytes.Clone(c.Value)}
}

func parseKind(field, s string) (event.Kind, error) {
	if s == "" {
		return 0, nil
	}
	k, ok := event.ParseKind(s)
	if !ok || (k != event.Track && k != event.Page && k != event.Screen) {
		return 0, fieldError(field, "must be track, page or screen, not %q", s)
	}
	return k, nil
}

func parseDuration(field string, s *string) (time.Duration, error) {
	if s == nil {
		return 0, nil
	}
	d, err := time.ParseDuration(*s)
	if err != nil {
		return 0, fieldError(field, "%q is not a duration such as \"48h\" or \"90m\"", *s)
	}
	if d < 0 {
		return 0, fieldError(field, "must not be negative")
	}
	return d, nil
}
