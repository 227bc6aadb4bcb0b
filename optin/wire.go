package optin

import (
	"strings"
	"sync"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/internal/jsonvalue"
	"github.com/regalkit/regalkit/internal/validate"
)

// This file reads the JSON of consent records with the module's one JSON scanner
// (internal/jsonvalue) and checks their shape with its one validator (internal/validate).
// The scanner checks and compacts the input into one string; every member of a record is
// a substring of it, so a record's strings cost nothing more. TestWire_matchesEncodingJSON
// and FuzzWire_matchesEncodingJSON hold the reading to encoding/json's.

// wireRecord is the shape of a consent record as sent (Rule C2) that the shared
// validator checks: the channel and the record's own IP, once read from the record's
// members. It is checked by value: small, so that checking allocates once.
type wireRecord struct {
	// Channel is the record's channel, trimmed and lowercased, or the channel its
	// position names (smsOptIn is sms) (Rule C1).
	Channel string `json:"channel" validate:"required,oneof=sms voice email"`
	// IP is the record's own IP address, trimmed; empty when it has none (Rule C4).
	IP string `json:"ip" validate:"omitempty,ip"`
}

// wireMembers holds the compact JSON text of each member of a consent record, "" when
// absent. Keys match case-insensitively, the last of equal keys winning, as
// encoding/json matches struct fields. subscribed and timestamp are read leniently by
// hand (a boolean or "true"; any D4 form), the rest as text.
type wireMembers struct {
	channel, subscribed, timestamp, ip, source, text string
	// phones are the values of the "phone" (or "phoneNumber") keys the record names,
	// null ones left out.
	phones []string
	// others are the keys of the record's other members, which a record has no place
	// for: reported, never dropped silently.
	others []string
}

// wireText is one compact JSON value as bytes, which a jsonvalue.Iter walks, and as a
// string, which the fields of a wireRecord slice: the same text, so positions match.
type wireText struct {
	b []byte // scratch; valid until the parse ends
	s string
}

// maxWireDepth is as deep as encoding/json reads: records are checked as json.Valid
// would check them, the segmentio decoder having applied Segment's own limits before.
const maxWireDepth = 10000

type wireScratch struct {
	sc  jsonvalue.Scanner
	buf []byte
}

var wireScratches = sync.Pool{New: func() any { return &wireScratch{sc: jsonvalue.Scanner{MaxDepth: maxWireDepth}} }}

// readWire checks that raw is one JSON value and calls f with it compacted. It reports
// false, without calling f, for anything else. A duplicate key or a long number is no
// fault here: readRecord takes the last of equal keys, as encoding/json does.
func readWire(raw []byte, f func(t wireText)) bool {
	ws := wireScratches.Get().(*wireScratch)
	defer wireScratches.Put(ws)
	out, err := ws.sc.Compact(ws.buf[:0], raw)
	ws.buf = out
	if err != nil || len(out) == 0 {
		return false
	}
	f(wireText{b: out, s: string(out)})
	if cap(ws.buf) > 64<<10 {
		ws.buf = nil // a hostile input may have grown it
	}
	return true
}

// readRecord reads the members of the object at t.b[pos:].
func readRecord(t wireText, pos int) wireMembers {
	var w wireMembers
	it := jsonvalue.NewIter(t.b, pos)
	for it.Next() {
		ks, ke, escaped := it.Key()
		key := t.s[ks:ke]
		if escaped {
			key, _ = jsonvalue.String(t.b[ks-1 : ke+1])
		}
		vs, ve := it.Value()
		value := t.s[vs:ve]
		switch {
		case strings.EqualFold(key, "channel"):
			w.channel = value
		case strings.EqualFold(key, "subscribed"):
			w.subscribed = value
		case strings.EqualFold(key, "timestamp"):
			w.timestamp = value
		case strings.EqualFold(key, "ip"):
			w.ip = value
		case strings.EqualFold(key, "source"):
			w.source = value
		case strings.EqualFold(key, "text"):
			w.text = value
		case strings.EqualFold(key, "phone"), strings.EqualFold(key, "phoneNumber"), strings.EqualFold(key, "phone_number"):
			if value != "null" {
				w.phones = append(w.phones, value)
			}
		default:
			w.others = append(w.others, key)
		}
	}
	return w
}

// elements calls f with the position and text of each element of the array that
// starts t.
func elements(t wireText, f func(i, pos int, elem string)) {
	it := jsonvalue.NewIter(t.b, 0)
	for n := 0; it.Next(); n++ {
		vs, ve := it.Value()
		f(n, vs, t.s[vs:ve])
	}
}

// check runs the shared validator over the record's channel and IP and returns what
// fails, each as a diagnostic at field (such as "traits.optIn[0].channel") with the code
// of the rule it breaks: a channel Rule C1's, an IP the generic optin.invalid (the IP
// is left out and the record goes on).
func (w wireRecord) check(field fieldAt) []diag.Diagnostic {
	fails := validate.Struct(w)
	if len(fails) == 0 {
		return nil
	}
	out := make([]diag.Diagnostic, len(fails))
	for i, fe := range fails {
		code := diag.OptinInvalid
		if fe.StructField() == "Channel" {
			code = diag.OptinUnknownChannel
		}
		path := fe.Field()
		if f := field.String(); f != "" {
			path = f + "." + path
		}
		out[i] = diag.Diagnostic{Code: code, Field: path, Message: fe.Field() + " " + validate.Describe(fe)}
	}
	return out
}

// isPresentText reports whether v is a JSON value other than null.
func isPresentText(v string) bool { return v != "" && v != "null" }

// unquote returns the contents of the JSON string v, checked by the scanner: a substring
// of v when it has no escapes.
func unquote(v string) string {
	if len(v) < 2 || v[0] != '"' {
		return ""
	}
	inner := v[1 : len(v)-1]
	if strings.IndexByte(inner, '\\') < 0 {
		return inner
	}
	s, _ := jsonvalue.String([]byte(v))
	return s
}

// stringOf reads a JSON value as text: a string's contents, nothing for null or an
// absent value, and any other value's compact JSON text (so that evidence such as a
// numeric source is kept, not lost). isString reports whether it was a JSON string.
func stringOf(v string) (s string, isString bool) {
	switch {
	case !isPresentText(v):
		return "", false
	case v[0] == '"':
		return unquote(v), true
	}
	return v, false
}
