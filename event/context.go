package event

import (
	"encoding/json"
	"unsafe"

	"github.com/regalkit/regalkit/internal/jsonvalue"
)

// Library is "context.library": the library that sent the message.
type Library struct {
	Name    string
	Version string
	// Extra holds the library's other keys, and a name or version that is not a string.
	Extra Object
}

// WebPage is "context.page": the web page a browser message was sent from.
type WebPage struct {
	Path     string
	Referrer string
	Search   string
	Title    string
	URL      string
	// Extra holds the page's other keys, and a known key whose value is not a string.
	Extra Object
}

// RecordContext is the context kept with an event record (Rule E1): where the event
// came from, the context.traits the message carried, and every other key of the
// context (campaign, device, os, app, timezone, a key of the sender's own) as sent.
// Only the context's channel is left out: it is the message's (Rule D3).
type RecordContext struct {
	IP        string  `json:"ip,omitempty"`
	UserAgent string  `json:"userAgent,omitempty"`
	Locale    string  `json:"locale,omitempty"`
	Library   Library `json:"-"`
	Page      WebPage `json:"-"`
	// Traits are the message's context.traits, exactly as sent: some sources send the
	// user's traits with every event only there. They are kept on the record so that
	// nothing is dropped silently; they change the contact only when the processor is
	// asked to apply them (Rule T3 and its option).
	Traits Object `json:"-"`
	// Extra holds the context's other keys in input order, values exact, as
	// [Context.Extra] does.
	Extra Object `json:"-"`
}

// MarshalJSON writes the record context with library, page and traits as Segment
// names them.
func (c RecordContext) MarshalJSON() ([]byte, error) {
	return c.context().Object().AppendJSON(nil)
}

// UnmarshalJSON reads a context object into the parts a record keeps: all but a
// channel.
func (c *RecordContext) UnmarshalJSON(b []byte) error {
	var ctx Context
	if err := ctx.UnmarshalJSON(b); err != nil {
		return err
	}
	*c = ctx.record()
	return nil
}

// context returns c as a Context.
func (c RecordContext) context() Context {
	return Context{IP: c.IP, UserAgent: c.UserAgent, Locale: c.Locale, Library: c.Library, Page: c.Page, Traits: c.Traits, Extra: c.Extra}
}

// record returns what of c a record keeps: all but the channel.
func (c Context) record() RecordContext {
	return RecordContext{IP: c.IP, UserAgent: c.UserAgent, Locale: c.Locale, Library: c.Library, Page: c.Page, Traits: c.Traits, Extra: c.Extra}
}

// IsZero reports whether c holds nothing.
func (c Library) IsZero() bool { return c.Name == "" && c.Version == "" && c.Extra == nil }

// IsZero reports whether p holds nothing.
func (p WebPage) IsZero() bool {
	return p.Path == "" && p.Referrer == "" && p.Search == "" && p.Title == "" && p.URL == "" && p.Extra == nil
}

// IsZero reports whether c holds nothing, as after decoding an absent or empty context.
func (c Context) IsZero() bool {
	return c.IP == "" && c.UserAgent == "" && c.Locale == "" && c.Traits == nil && c.Channel == "" &&
		c.Library.IsZero() && c.Page.IsZero() && c.Extra == nil
}

// IsZero reports whether c holds nothing.
func (c RecordContext) IsZero() bool {
	return c.IP == "" && c.UserAgent == "" && c.Locale == "" && c.Library.IsZero() && c.Page.IsZero() && c.Traits == nil && c.Extra == nil
}

// NewContext builds a Context from the members of a context object. A known key with a
// string value fills its field; null leaves it empty; any other value, and every
// unknown key, is kept in Extra in input order. "library" and "page" are read the same
// way one level down, and "traits" when it is an object. An empty array where an object
// belongs ("traits": [], as PHP's json_encode writes {}) reads as an empty object.
//
// The Context shares o's values (not o itself): o may be reused afterwards.
func NewContext(o Object) Context {
	return newContext(o, false)
}

// NewContextShared is [NewContext] for values whose bytes are never written again, such
// as those of a decoder's own message buffer: a string without escapes is read in
// place, as a string over the value's bytes, instead of being copied, so that a
// context usually costs no allocation for its text. The Context then keeps those bytes
// alive. Use NewContext when o's values may change afterwards.
func NewContextShared(o Object) Context {
	return newContext(o, true)
}

func newContext(o Object, inPlace bool) Context {
	var c Context
	texts := textArena{inPlace: inPlace}
	if !inPlace {
		size := 0
		for _, m := range o {
			if m.Key != ctxTraits && known(m) {
				size += len(m.Value)
			}
		}
		texts.buf = make([]byte, 0, size)
	}
	var extra int
	for _, m := range o {
		if !c.set(m, &texts) {
			extra++
		}
	}
	texts.finish(&c)
	if extra == 0 {
		return c
	}
	c.Extra = make(Object, 0, extra)
	for _, m := range o {
		if !known(m) {
			c.Extra = append(c.Extra, m)
		}
	}
	return c
}

// textArena gathers the strings a Context reads from raw JSON into one allocation: a
// context has a dozen short strings, and allocating each costs more than reading it.
// It records fields by number, not by pointer, so the Context being built can stay on
// the stack.
//
// With inPlace, a string without escapes is not copied: its field is a string over the
// value's own bytes (see [NewContextShared]), kept in direct, and only escaped strings
// go through buf, allocated when the first one comes.
type textArena struct {
	buf      []byte
	span     [numTextFields]struct{ start, end int }
	set      uint16
	inPlace  bool
	direct   [numTextFields]string
	isDirect uint16
}

// The string fields of a Context, in the order of their spans in a textArena.
const (
	fieldIP = iota
	fieldUserAgent
	fieldLocale
	fieldChannel
	fieldLibraryName // then fieldLibraryName+1 for the version
	fieldLibraryVersion
	fieldPagePath // then referrer, search, title, url, in pageKeys order
	fieldPageReferrer
	fieldPageSearch
	fieldPageTitle
	fieldPageURL
	numTextFields
)

// add records the value of the JSON string raw for field f and reports whether raw was
// a string.
func (a *textArena) add(f int, raw []byte) bool {
	if a.inPlace {
		content, escaped, ok := jsonvalue.Content(raw)
		if !ok {
			return false
		}
		if !escaped {
			a.direct[f] = unsafe.String(unsafe.SliceData(content), len(content))
			a.isDirect |= 1 << f
			a.set |= 1 << f
			return true
		}
		a.isDirect &^= 1 << f // a later duplicate key wins, as in buf
	}
	start := len(a.buf)
	var ok bool
	if a.buf, ok = jsonvalue.AppendUnquoted(a.buf, raw); !ok {
		return false
	}
	a.span[f].start, a.span[f].end = start, len(a.buf)
	a.set |= 1 << f
	return true
}

// finish sets every field added.
func (a *textArena) finish(c *Context) {
	if a.set == 0 {
		return
	}
	// The arena's buffer is its own and never written again: its strings are made over
	// it, not over a copy.
	all := unsafe.String(unsafe.SliceData(a.buf), len(a.buf))
	a.buf = nil
	fields := [numTextFields]*string{&c.IP, &c.UserAgent, &c.Locale, &c.Channel,
		&c.Library.Name, &c.Library.Version,
		&c.Page.Path, &c.Page.Referrer, &c.Page.Search, &c.Page.Title, &c.Page.URL}
	for f, p := range fields {
		switch {
		case a.isDirect&(1<<f) != 0:
			*p = a.direct[f]
		case a.set&(1<<f) != 0:
			*p = all[a.span[f].start:a.span[f].end]
		}
	}
}

// Context keys with a field of their own.
const (
	ctxIP        = "ip"
	ctxUserAgent = "userAgent"
	ctxLocale    = "locale"
	ctxChannel   = "channel"
	ctxTraits    = "traits"
	ctxLibrary   = "library"
	ctxPage      = "page"
)

// known reports whether member m fills a field of Context (rather than Extra).
func known(m Member) bool {
	switch m.Key {
	case ctxIP, ctxUserAgent, ctxLocale, ctxChannel:
		k := jsonvalue.KindOf(m.Value)
		return k == jsonvalue.KindString || k == jsonvalue.KindNull
	case ctxTraits, ctxLibrary, ctxPage:
		k := jsonvalue.KindOf(m.Value)
		return k == jsonvalue.KindObject || k == jsonvalue.KindNull || jsonvalue.IsEmptyArray(m.Value)
	}
	return false
}

// set fills the field member m names and reports whether it did.
func (c *Context) set(m Member, texts *textArena) bool {
	if !known(m) {
		return false
	}
	if jsonvalue.IsNull(m.Value) {
		return true
	}
	if jsonvalue.IsEmptyArray(m.Value) { // an empty object as PHP writes it
		if m.Key == ctxTraits {
			c.Traits = Object{}
		}
		return true
	}
	switch m.Key {
	case ctxIP:
		texts.add(fieldIP, m.Value)
	case ctxUserAgent:
		texts.add(fieldUserAgent, m.Value)
	case ctxLocale:
		texts.add(fieldLocale, m.Value)
	case ctxChannel:
		texts.add(fieldChannel, m.Value)
	case ctxTraits:
		c.Traits = splitObject(m.Value)
	case ctxLibrary:
		c.Library.Extra = readStrings(m.Value, libraryKeys[:], fieldLibraryName, texts)
	case ctxPage:
		c.Page.Extra = readStrings(m.Value, pageKeys[:], fieldPagePath, texts)
	}
	return true
}

var (
	libraryKeys = [...]string{"name", "version"}
	pageKeys    = [...]string{"path", "referrer", "search", "title", "url"}
)

// readStrings reads the object raw: each key in names with a string value fills the
// matching field, null is skipped, and everything else is returned in order.
// The field of names[i] is first+i.
func readStrings(raw json.RawMessage, names []string, first int, texts *textArena) Object {
	var extra Object
	it := jsonvalue.NewIter(raw, 0)
	for it.Next() {
		value := it.ValueBytes()
		start, end, escaped := it.Key()
		i := -1
		if !escaped {
			i = indexBytes(names, raw[start:end])
		}
		if i >= 0 && jsonvalue.IsNull(value) {
			continue
		}
		if i >= 0 && texts.add(first+i, value) {
			continue
		}
		extra = append(extra, Member{Key: iterKey(raw, &it), Value: value})
	}
	return extra
}

// indexBytes returns the index of key in names, or -1, without allocating.
func indexBytes(names []string, key []byte) int {
	for i, n := range names {
		if string(key) == n {
			return i
		}
	}
	return -1
}

// iterKey returns the current key of it, which walks raw, unescaped.
func iterKey(raw []byte, it *jsonvalue.Iter) string {
	start, end, escaped := it.Key()
	if escaped {
		return string(jsonvalue.AppendUnescaped(nil, raw[start:end]))
	}
	return string(raw[start:end])
}

// splitObject returns the members of the compact object raw, sharing its bytes; nil
// when raw is not a well-formed compact object.
func splitObject(raw json.RawMessage) Object {
	o := Object{}
	it := jsonvalue.NewIter(raw, 0)
	for it.Next() {
		o = append(o, Member{Key: iterKey(raw, &it), Value: it.ValueBytes()})
	}
	if it.Err() != nil {
		return nil
	}
	return o
}

// Object returns the context as the members of a Segment context object: the fields
// that are set, in the order ip, userAgent, locale, channel, library, page, traits, then
// Extra. It is the inverse of [NewContext].
func (c Context) Object() Object {
	o := make(Object, 0, 7+len(c.Extra))
	o = appendString(o, ctxIP, c.IP)
	o = appendString(o, ctxUserAgent, c.UserAgent)
	o = appendString(o, ctxLocale, c.Locale)
	o = appendString(o, ctxChannel, c.Channel)
	if !c.Library.IsZero() {
		o = appendObject(o, ctxLibrary, c.Library.object())
	}
	if !c.Page.IsZero() {
		o = appendObject(o, ctxPage, c.Page.object())
	}
	if c.Traits != nil {
		o = appendObject(o, ctxTraits, c.Traits)
	}
	return append(o, c.Extra...)
}

func appendString(o Object, key, value string) Object {
	if value == "" {
		return o
	}
	return append(o, Member{Key: key, Value: jsonvalue.AppendString(nil, value)})
}

// appendObject appends a member holding sub as a JSON object. Its values are not
// checked here: writing the whole (AppendJSON) checks them.
func appendObject(o Object, key string, sub Object) Object {
	return append(o, Member{Key: key, Value: sub.appendText(nil)})
}

// object returns the library as the members of a Segment library object.
func (l Library) object() Object {
	o := make(Object, 0, 2+len(l.Extra))
	o = appendString(appendString(o, "name", l.Name), "version", l.Version)
	return append(o, l.Extra...)
}

// object returns the page as the members of a Segment page object.
func (p WebPage) object() Object {
	o := make(Object, 0, 5+len(p.Extra))
	for i, v := range [...]string{p.Path, p.Referrer, p.Search, p.Title, p.URL} {
		o = appendString(o, pageKeys[i], v)
	}
	return append(o, p.Extra...)
}

// MarshalJSON writes the library as Segment names its keys, Extra included.
func (l Library) MarshalJSON() ([]byte, error) { return l.object().AppendJSON(nil) }

// MarshalJSON writes the page as Segment names its keys, Extra included.
func (p WebPage) MarshalJSON() ([]byte, error) { return p.object().AppendJSON(nil) }

// MarshalJSON writes the context as a Segment context object (see [Context.Object]).
func (c Context) MarshalJSON() ([]byte, error) { return c.Object().AppendJSON(nil) }

// UnmarshalJSON reads a Segment context object (see [NewContext]).
func (c *Context) UnmarshalJSON(b []byte) error {
	var o Object
	if err := o.UnmarshalJSON(b); err != nil {
		return err
	}
	*c = NewContext(o)
	return nil
}
