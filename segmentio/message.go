package segmentio

import (
	"bytes"
	"slices"
	"strings"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/jsonvalue"
)

// message reads one message out of its own compact buffer. str is the same bytes as a
// string (made with unsafe.String; buf is never written once decoding starts): every
// string without escapes is a substring of it, so a message costs one copy of its
// text, not one allocation per field.
type message struct {
	s   *decodeState
	buf []byte
	str string
	err error // the first field error
	// nested says that the scanner's Nested spans are the members of top's object
	// values (a lone message, whose document is buf): they need no walk of their own.
	nested bool
}

// decodeMessage fills m from the compact message object at buf[0] and the envelope
// parts appended after it (Rules D1, D3), computes its time (Rule D5) and validates it
// (Rule D6).
//
// top lists the message's top-level members, positions in buf.
func (s *decodeState) decodeMessage(m *event.Message, buf []byte, str string, top []jsonvalue.Span, env envelope, nested bool) error {
	d := message{s: s, buf: buf, str: str, nested: nested}
	if s.arena != nil && nested {
		s.sizeArena(str, top)
	}
	typ, hasType := "", false
	var ctx, integrations span
	ctxAt := -1                          // the index of context in top
	var emptyCtx, emptyIntegrations bool // sent as [], read as {}
	extra := s.extra[:0]
	for i, sp := range top {
		key := d.keyAt(sp.KeyStart, sp.KeyEnd, sp.KeyEscaped)
		vs, ve := sp.Start, sp.End
		switch key {
		case "type":
			typ, hasType = d.string(key, vs, ve), true
		case "messageId":
			m.MessageID = d.text(key, vs, ve)
		case "userId":
			m.UserID = d.text(key, vs, ve)
		case "anonymousId":
			m.AnonymousID = d.text(key, vs, ve)
		case "previousId":
			m.PreviousID = d.text(key, vs, ve)
		case "groupId":
			m.GroupID = d.text(key, vs, ve)
		case "event":
			m.Event = d.string(key, vs, ve)
		case "name":
			m.Name = d.string(key, vs, ve)
		case "category":
			m.Category = d.string(key, vs, ve)
		case "channel":
			m.Channel = d.string(key, vs, ve)
		case "version":
			m.Version = d.text(key, vs, ve)
		case "timestamp":
			m.Timestamps.Timestamp = d.raw(vs, ve)
		case "originalTimestamp":
			m.Timestamps.OriginalTimestamp = d.raw(vs, ve)
		case "sentAt":
			m.Timestamps.SentAt = d.raw(vs, ve)
		case "receivedAt":
			m.Timestamps.ReceivedAt = d.raw(vs, ve)
		case "traits":
			m.Traits = d.object(key, vs, i)
		case "properties":
			m.Properties = d.object(key, vs, i)
		case "context":
			if d.isObject(key, vs) {
				if d.buf[vs] == '[' {
					emptyCtx = true
				} else {
					ctx, ctxAt = span{vs, ve}, i
				}
			}
		case "integrations":
			if d.isObject(key, vs) {
				if d.buf[vs] == '[' {
					emptyIntegrations = true
				} else {
					integrations = span{vs, ve}
				}
			}
		default:
			extra = append(extra, event.Member{Key: key, Value: buf[vs:ve:ve]})
		}
	}
	detach(&m.MessageID, &m.UserID, &m.AnonymousID, &m.PreviousID, &m.GroupID)
	if len(extra) > 0 {
		m.Extra = append(event.Object(nil), extra...)
	}
	s.extra = extra[:0]
	if ctx.end > 0 || env.context.end > 0 || emptyCtx {
		// The buffer is never written once decoding starts: the context's strings are
		// read in place, like the message's own.
		m.Context = event.NewContextShared(d.merge(ctx, ctxAt, env.context))
	}
	if integrations.end > 0 || env.integrations.end > 0 || emptyIntegrations {
		m.Integrations = append(event.Object{}, d.merge(integrations, -1, env.integrations)...)
	}
	if m.Timestamps.SentAt == nil && env.sentAt.end > 0 {
		m.Timestamps.SentAt = d.raw(env.sentAt.start, env.sentAt.end)
	}
	m.Time, m.Diagnostics = m.Timestamps.EventTime()
	for i := range m.Diagnostics {
		m.Diagnostics[i].MessageID = m.MessageID
	}

	if d.err != nil {
		return d.err
	}
	if !hasType {
		if s.kind == 0 {
			return &UnsupportedTypeError{} // Rule D2: no type is not one of the seven
		}
		m.Kind = s.kind
		return m.Validate()
	}
	kind, ok := event.ParseKind(typ)
	if !ok {
		typ = diag.Mask(typ) // not a known type: it may be anything, an email included (RULES.md, X)
		if len(typ) > 32 {
			typ = strings.ToValidUTF8(typ[:32], "")
		}
		return &UnsupportedTypeError{Type: typ}
	}
	m.Kind = kind
	return m.Validate()
}

func (d *message) fail(field, reason string) {
	if d.err == nil {
		d.err = &FieldError{Field: field, Reason: reason}
	}
}

// key returns the current key of it as a string, without allocating unless it has
// escapes.
func (d *message) key(it *jsonvalue.Iter) string {
	return d.keyAt(it.Key())
}

// keyAt returns the key whose content is buf[start:end].
func (d *message) keyAt(start, end int, escaped bool) string {
	if escaped {
		return string(jsonvalue.AppendUnescaped(nil, d.buf[start:end]))
	}
	return d.str[start:end]
}

// content returns the string value at buf[vs:ve] (quotes included).
func (d *message) content(vs, ve int) string {
	if bytes.IndexByte(d.buf[vs+1:ve-1], '\\') < 0 {
		return d.str[vs+1 : ve-1]
	}
	return string(jsonvalue.AppendUnescaped(nil, d.buf[vs+1:ve-1]))
}

// string reads a string field; null is empty.
func (d *message) string(field string, vs, ve int) string {
	switch d.buf[vs] {
	case '"':
		return d.content(vs, ve)
	case 'n':
		return ""
	}
	d.fail(field, "want a string")
	return ""
}

// text reads an identifier (Rule D3): a string, a number kept digit for digit, or null
// for none.
func (d *message) text(field string, vs, ve int) string {
	switch c := d.buf[vs]; {
	case c == '"':
		if field != "version" && bytes.IndexByte(d.buf[vs+1:ve-1], '\\') >= 0 && jsonvalue.HasLoneSurrogate(d.buf[vs+1:ve-1]) {
			// It would read as U+FFFD, the same as another identifier that differs
			// there: two users would be one, a message a duplicate of another.
			d.fail(field, "holds half a UTF-16 surrogate pair (a lone \\ud800 to \\udfff), which names no character")
			return ""
		}
		return d.content(vs, ve)
	case c == '-' || (c >= '0' && c <= '9'):
		return d.str[vs:ve]
	case c == 'n':
		return ""
	}
	d.fail(field, "want a string or a number")
	return ""
}

// raw returns a value as it is; null is absent.
func (d *message) raw(vs, ve int) []byte {
	if d.buf[vs] == 'n' {
		return nil
	}
	return d.buf[vs:ve:ve]
}

// isObject reports whether the value at vs is an object; null is not, and is fine; an
// empty array is one, empty (PHP's json_encode writes {} as []); anything else is a
// field error.
func (d *message) isObject(field string, vs int) bool {
	switch d.buf[vs] {
	case '{':
		return true
	case 'n':
		return false
	case '[':
		if d.buf[vs+1] == ']' { // the buffer is compact
			return true
		}
	}
	d.fail(field, "want an object")
	return false
}

// object reads an object field, the value at vs of top-level member i; null is absent.
func (d *message) object(field string, vs, i int) event.Object {
	if !d.isObject(field, vs) {
		return nil
	}
	if d.buf[vs] == '[' {
		return event.Object{}
	}
	if d.nested {
		spans := d.s.scanner.Nested(i)
		return d.fillNested(d.s.objectOf(len(spans)), spans)
	}
	members := d.members(d.s.members[:0], vs)
	o := d.s.objectOf(len(members))
	copy(o, members)
	d.s.members = members[:0]
	return o
}

// objectOf returns an object of n members for the message to keep (to be filled),
// exactly n long and n in capacity: an append to it by whoever gets the message
// copies it elsewhere. Empty, it is not nil: {} was sent. It is taken from the arena
// when there is one with room left, and allocated otherwise.
func (s *decodeState) objectOf(n int) event.Object {
	if n == 0 {
		return event.Object{}
	}
	if a := s.arena; a != nil && cap(*a)-len(*a) >= n {
		l := len(*a)
		*a = (*a)[:l+n]
		return (*a)[l : l+n : l+n]
	}
	return make(event.Object, n)
}

// sizeArena gives the arena room for the traits and properties of the lone message
// whose top-level members are top, whose members the document pass found
// (Scanner.Nested): one allocation for both when the recycled arena is too small.
func (s *decodeState) sizeArena(str string, top []jsonvalue.Span) {
	a := s.arena
	need := 0
	for i, sp := range top {
		if sp.KeyEscaped || str[sp.Start] != '{' {
			continue
		}
		if k := str[sp.KeyStart:sp.KeyEnd]; k == "traits" || k == "properties" {
			need += len(s.scanner.Nested(i))
		}
	}
	if cap(*a) < need {
		*a = make([]event.Member, 0, need)
	}
}

// fillNested sets the members of dst, len(spans) long, to those of spans.
func (d *message) fillNested(dst event.Object, spans []jsonvalue.Span) event.Object {
	for j, sp := range spans {
		dst[j] = event.Member{Key: d.keyAt(sp.KeyStart, sp.KeyEnd, sp.KeyEscaped), Value: d.buf[sp.Start:sp.End:sp.End]}
	}
	return dst
}

// nestedMembers appends to dst the members of the object of top-level member i, as the
// document pass found them (Scanner.Nested).
func (d *message) nestedMembers(dst event.Object, i int) event.Object {
	spans := d.s.scanner.Nested(i)
	n := len(dst)
	dst = slices.Grow(dst, len(spans))[:n+len(spans)]
	d.fillNested(dst[n:], spans)
	return dst
}

// members appends the members of the object at buf[at] to dst.
func (d *message) members(dst event.Object, at int) event.Object {
	it := jsonvalue.NewIter(d.buf, at)
	for it.Next() {
		dst = append(dst, event.Member{Key: d.key(&it), Value: it.ValueBytes()})
	}
	return dst
}

// merge returns the members of the message's object at own, top-level member ownAt
// (-1: unknown), followed by those of the envelope's object at env whose keys the
// message does not have (Rule D1: the message's own keys win). The result is scratch
// space, valid until the next merge.
func (d *message) merge(own span, ownAt int, env span) event.Object {
	members := d.s.members[:0]
	switch {
	case own.end > 0 && d.nested && ownAt >= 0:
		members = d.nestedMembers(members, ownAt)
	case own.end > 0:
		members = d.members(members, own.start)
	}
	n := len(members)
	if env.end > 0 {
		var own map[string]struct{} // for large objects; small ones compare directly
		if n > 16 {
			own = make(map[string]struct{}, n)
			for _, m := range members {
				own[m.Key] = struct{}{}
			}
		}
		it := jsonvalue.NewIter(d.buf, env.start)
	next:
		for it.Next() {
			key := d.key(&it)
			if own != nil {
				if _, mine := own[key]; mine {
					continue
				}
			} else {
				for _, m := range members[:n] {
					if m.Key == key {
						continue next
					}
				}
			}
			members = append(members, event.Member{Key: key, Value: it.ValueBytes()})
		}
	}
	d.s.members = members[:0]
	return members
}

// detach moves the identifiers of a message into one small allocation of their own.
// They outlive the message (a contact keeps its userId and anonymous IDs, a held
// message its messageId), and as substrings of the message text each would keep all
// of it alive: about 800 bytes a contact on a typical corpus (BENCHMARKS.md).
func detach(ids ...*string) {
	n := 0
	for _, p := range ids {
		n += len(*p)
	}
	if n == 0 {
		return
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range ids {
		b.WriteString(*p)
	}
	all, at := b.String(), 0
	for _, p := range ids {
		l := len(*p)
		*p = all[at : at+l]
		at += l
	}
}
