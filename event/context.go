package event

import (
	"encoding/json"

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

// RecordContext is the part of a message's context kept with an event record (Rule
// E1): where the event came from, not who sent it (traits stay with the contact).
type RecordContext struct {
	IP        string  `json:"ip,omitempty"`
	UserAgent string  `json:"userAgent,omitempty"`
	Locale    string  `json:"locale,omitempty"`
	Library   Library `json:"-"`
	Page      WebPage `json:"-"`
}

// MarshalJSON writes the record context with library and page as Segment names them.
func (c RecordContext) MarshalJSON() ([]byte, error) {
	ctx := Context{IP: c.IP, UserAgent: c.UserAgent, Locale: c.Locale, Library: c.Library, Page: c.Page}
	return ctx.Object().AppendJSON(nil)
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
	return c.IP == "" && c.UserAgent == "" && c.Locale == "" && c.Library.IsZero() && c.Page.IsZero()
}

// NewContext builds a Context from the members of a context object. A known key with a
// string value fills its field; null leaves it empty; any other value, and every
// unknown key, is kept in Extra in input order. "library" and "page" are read the same
// way one level down, and "traits" when it is an object.
//
// The Context shares o's values (not o itself): o may be reused afterwards.
func NewContext(o Object) Context {
	var c Context
	var extra int
	for _, m := range o {
		if !c.set(m) {
			extra++
		}
	}
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
		return k == jsonvalue.KindObject || k == jsonvalue.KindNull
	}
	return false
}

// set fills the field member m names and reports whether it did.
func (c *Context) set(m Member) bool {
	if !known(m) {
		return false
	}
	if jsonvalue.IsNull(m.Value) {
		return true
	}
	switch m.Key {
	case ctxIP:
		c.IP, _ = jsonvalue.String(m.Value)
	case ctxUserAgent:
		c.UserAgent, _ = jsonvalue.String(m.Value)
	case ctxLocale:
		c.Locale, _ = jsonvalue.String(m.Value)
	case ctxChannel:
		c.Channel, _ = jsonvalue.String(m.Value)
	case ctxTraits:
		c.Traits = splitObject(m.Value)
	case ctxLibrary:
		fields := [...]*string{&c.Library.Name, &c.Library.Version}
		c.Library.Extra = readStrings(m.Value, []string{"name", "version"}, fields[:])
	case ctxPage:
		p := &c.Page
		fields := [...]*string{&p.Path, &p.Referrer, &p.Search, &p.Title, &p.URL}
		p.Extra = readStrings(m.Value, []string{"path", "referrer", "search", "title", "url"}, fields[:])
	}
	return true
}

// readStrings reads the object raw: each key in names with a string value fills the
// matching field, null is skipped, and everything else is returned in order.
func readStrings(raw json.RawMessage, names []string, fields []*string) Object {
	var extra Object
	it := jsonvalue.NewIter(raw, 0)
	for it.Next() {
		m := Member{Key: iterKey(raw, &it), Value: it.ValueBytes()}
		i := index(names, m.Key)
		if i >= 0 && jsonvalue.IsNull(m.Value) {
			continue
		}
		if i >= 0 {
			if s, ok := jsonvalue.String(m.Value); ok {
				*fields[i] = s
				continue
			}
		}
		extra = append(extra, m)
	}
	return extra
}

// iterKey returns the current key of it, which walks raw, unescaped.
func iterKey(raw []byte, it *jsonvalue.Iter) string {
	start, end, escaped := it.Key()
	if escaped {
		return string(jsonvalue.AppendUnescaped(nil, raw[start:end]))
	}
	return string(raw[start:end])
}

func index(names []string, key string) int {
	for i, n := range names {
		if n == key {
			return i
		}
	}
	return -1
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
		o = appendString(o, [...]string{"path", "referrer", "search", "title", "url"}[i], v)
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
