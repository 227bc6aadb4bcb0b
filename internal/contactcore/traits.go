package contactcore

import (
	"math/bits"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/intern"
	"github.com/regalkit/regalkit/internal/jsonvalue"
	"github.com/regalkit/regalkit/optin"
)

// Trait limits (Rule T10).
const (
	MaxTraits   = 300 // traits a message may carry; the rest are refused
	MaxTraitKey = 255 // characters in a trait key; longer keys are refused
	maxAgeYears = 150
)

// ApplyOptions configures how messages are applied to a contact. The zero value, like
// nil, parses every phone and every optIn trait afresh, in the region "US". The caches
// belong to whoever configures the processing: regalkit.Processor makes them, sized by
// its options, and passes them here.
type ApplyOptions struct {
	// Phones parses phone numbers, with its own cache; nil means no cache (each phone is
	// parsed by identity.ParsePhone).
	Phones *identity.PhoneParser
	// OptIns remembers what recent optIn traits gave (see optin.ParseCache); nil means
	// no cache.
	OptIns *optin.ParseCache
	// Region is the default phone region (Rule T8); empty means the parser's region.
	Region string
	// ProcessedAt is when the processor handled the message, kept as consent evidence
	// (Rule C7). Zero means the message's event time.
	ProcessedAt time.Time
}

// uncachedPhones is the parser of an ApplyOptions without one: it keeps nothing.
var uncachedPhones = identity.NewPhoneParser(&identity.PhoneParserOptions{CacheSize: -1})

func (o *ApplyOptions) phones() *identity.PhoneParser {
	if o != nil && o.Phones != nil {
		return o.Phones
	}
	return uncachedPhones
}

func (o *ApplyOptions) optIns() *optin.ParseCache {
	if o != nil {
		return o.OptIns
	}
	return nil
}

func (o *ApplyOptions) region() string {
	if o != nil {
		return o.Region
	}
	return ""
}

// Changes reports what applying a message did.
type Changes struct {
	// Fields lists the paths of the fields whose value changed, such as "firstName",
	// "address.city", "custom.salaryBracket" or "phones", in the order applied. A write
	// that only confirms a value leaves it out.
	Fields []string
	// Diagnostics lists every field refused, each with its code (RULES.md, X).
	Diagnostics []diag.Diagnostic
	// Phone and Email are the E.164 phone and the email the message's traits set (Rule
	// C5: the phone and email "in the same message"), empty for none; PhoneRefused
	// says that it sent phones and every one was refused, and Phones lists, sorted, the
	// numbers it gave as its phone when there were several (two spellings, Rule T1),
	// Phone then empty. See BindConsent.
	Phone, Email string
	PhoneRefused bool
	Phones       []string
}

// Changed reports whether any field changed.
func (ch *Changes) Changed() bool { return len(ch.Fields) > 0 }

// stdField names the standard traits a key is, after normalization (Rule T1), as a bit:
// the bits of the table's fields (see fields.go) first, then those of the standard
// traits with more structure.
type stdField uint32

const (
	fName stdField = 1 << (numFields + iota)
	fPhone
	fAddress
	fOptIn
	fPhones
	fEmails
)

// otherStdKeys are the normalized keys of the standard traits outside the table.
var otherStdKeys = [...]stdKey{
	{"name", fName}, {"phone", fPhone}, {"address", fAddress}, {"optin", fOptIn}, {"phones", fPhones}, {"emails", fEmails},
}

// normalizeKey drops every character that is not a letter or a digit and lowercases
// ASCII letters (Rule T1), writing into buf; other letters and digits are kept as they
// are, and a no-break space, a dash of any kind or any other non-ASCII punctuation is
// dropped like an ASCII one ("first\u00a0name" is "firstname").
func normalizeKey[S ~string | ~[]byte](buf []byte, key S) []byte {
	buf = buf[:0]
	for i := 0; i < len(key); {
		switch c := key[i]; {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			buf = append(buf, c)
			i++
		case c >= 'A' && c <= 'Z':
			buf = append(buf, c+'a'-'A')
			i++
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRuneInString(string(key[i:min(i+utf8.UTFMax, len(key))]))
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				buf = append(buf, key[i:i+n]...)
			}
			i += n
		}
	}
	return buf
}

// NormalizeTraitKey returns key as Rule T1 matches it to the standard traits: letters
// and digits only, ASCII letters lowercased ("first_name", "FirstName" and "First
// Name" are all "firstname").
func NormalizeTraitKey(key string) string { return string(normalizeKey(nil, key)) }

// normalizeKeyBytes is normalizeKey for a key given as its quoted JSON text. Escaped
// keys are unquoted first.
func normalizeKeyBytes(buf []byte, quoted []byte) []byte {
	if len(quoted) < 2 {
		return buf[:0]
	}
	body := quoted[1 : len(quoted)-1]
	for _, c := range body {
		if c == '\\' {
			s, _ := jsonvalue.String(quoted)
			return normalizeKey(buf, s)
		}
	}
	return normalizeKey(buf, body)
}

// applier holds the state of one ApplyTraits call.
type applier struct {
	c    *state
	m    *event.Message
	opts *ApplyOptions
	st   stamp
	ch   Changes

	msgPhone     string // the valid E.164 of the message's phone trait
	phoneRefused bool   // the message's phone trait was refused (phone.invalid)
	// otherPhones are the numbers the message's phone traits gave besides msgPhone
	// (two spellings, Rule T1; see notePhone), and emailTwice says its email traits
	// gave two emails; entryEmail is the email of its emails object (see emailsField).
	otherPhones []string
	givenPhones []string // msgPhone and otherPhones, sorted, when there are others
	emailTwice  bool
	entryEmail  string
	// entries are what the message's phones object did: the numbers it added, the one
	// it marked primary, and whether a number was refused; with no phone trait they may
	// name the message's phone (see entryPhone).
	entries struct {
		added, primary []string
		refused        bool
	}
	msgEmail      string         // the normalized email of the message's email trait
	phonesTouched bool           // whether a phone write was added
	phonesBefore  phoneSignature // before the first phone write
	optIns        []deferredTrait
	customLeft    int // the message's custom traits not yet applied: room to reserve (see setKeyedBytes)
}

// deferredTrait is an optIn trait, applied once the message's phone and email are known.
type deferredTrait struct {
	raw  []byte
	path fieldPath
}

// fieldPath names a field for a diagnostic, such as "traits.address.city". It is built
// into a string only when a diagnostic needs it, so applying accepted traits costs no
// allocation for paths.
type fieldPath struct {
	base string // "traits." or "context.traits."
	key  string // the trait's key
	subs [2]string
	raw  []byte // a last sub-field as a quoted JSON key, unquoted when printed
}

// dotRaw is dot for a sub-field named by its quoted JSON key; the key is unquoted only
// when the path is printed.
func (p fieldPath) dotRaw(quoted []byte) fieldPath {
	p.raw = quoted
	return p
}

// dot returns the path of a sub-field.
func (p fieldPath) dot(sub string) fieldPath {
	if p.subs[0] == "" {
		p.subs[0] = sub
	} else {
		p.subs[1] = sub
	}
	return p
}

// String prints the path for a diagnostic. Keys are input, and may be a phone or an
// email ("phones" is keyed by number): each is masked (RULES.md, X).
func (p fieldPath) String() string {
	s := p.base + pathKey(p.key)
	for _, sub := range p.subs {
		if sub != "" {
			s += "." + pathKey(sub)
		}
	}
	if p.raw != nil {
		sub, _ := jsonvalue.String(p.raw)
		s += "." + pathKey(sub)
	}
	return s
}

// pathKey prints one key of a path, masked; a key over MaxTraitKey characters (which
// a sub-key, unlike a trait's own key, may be) is cut as truncateKey cuts, so that no
// key makes a diagnostic longer than Rule T10 allows a key to be.
func pathKey(k string) string {
	if len(k) > MaxTraitKey && utf8.RuneCountInString(k) > MaxTraitKey {
		k = truncateKey(k)
	}
	return diag.Mask(k)
}

// interned is String for a path printed on every message that has its field, the
// optIn trait's (handed to the opt-in parser with each record): a path without
// sub-fields comes from the intern table, which holds it after the first message, so
// printing it costs no allocation. Longer or nested paths are printed as String does.
func (p fieldPath) interned() string {
	if p.subs[0] != "" || p.subs[1] != "" || p.raw != nil {
		return p.String()
	}
	return intern.Concat(p.base, pathKey(p.key))
}

func (a *applier) refuse(code diag.Code, field fieldPath, msg string) {
	a.ch.Diagnostics = append(a.ch.Diagnostics, diag.Diagnostic{
		MessageID: a.m.MessageID, Code: code, Field: field.String(), Message: msg,
	})
}

// changedKey is changed for a field named prefix+key, built only when it changed, and
// interned: the same custom field changes on many messages.
func (a *applier) changedKey(prefix, key string, did bool) {
	if did {
		a.changed(intern.Concat(prefix, key), true)
	}
}

// internContent returns the string whose JSON text (between its quotes) is content,
// interned: without escapes it is interned from its bytes, with no conversion first.
func internContent(content []byte, escaped bool) string {
	if !escaped {
		return intern.Bytes(content)
	}
	return intern.Bytes(jsonvalue.AppendUnescaped(make([]byte, 0, len(content)), content))
}

func (a *applier) changed(field string, did bool) {
	if did && a.ch.Fields == nil {
		// Room for a change of each trait the message gives, and of an address's parts,
		// at once: growing 8, 16, 32 cost an identify with its custom traits two or
		// three allocations (issue 14).
		a.ch.Fields = make([]string, 0, max(8, len(a.m.Traits)+len(a.m.Context.Traits)+4))
	}
	if did && !slices.Contains(a.ch.Fields, field) {
		a.ch.Fields = append(a.ch.Fields, field)
	}
}

// ApplyTraits applies the traits of an identify message to the contact (Rules T1–T10),
// and notes that a message of the contact's own was applied, whatever its kind, so that
// a contact that only ever received tracks still counts as not empty (Rule I7):
// the message's traits, and its context.traits where the message's own traits do not
// name the same field (Rule T3). Messages of other kinds change no trait and give empty
// Changes.
//
// Each standard trait goes to its field, each other trait to a custom property under its
// original key; every field keeps the write with the larger (event time, messageId)
// stamp. A refused field is reported in the Diagnostics and the rest of the message
// still applies.
//
// A message whose userId is a former External ID of the contact (Rule I5) applies to
// that userId's part (see [Contact.SplitUser]).
func (c *Contact) ApplyTraits(m *event.Message, opts *ApplyOptions) Changes {
	p := c.sub(m.UserID)
	st := p.messageStamp(m)
	p.noteOwn(st, m.Kind != event.Alias && m.Kind != event.Delete)
	if m.Kind != event.Identify {
		return Changes{} // no traits: the state is not written, so not copied (see Contact.Clone)
	}
	if p != c {
		p.writeState().applyTraitsAt(m, opts, st)
		return c.writeState().applyTraitsAt(m, opts, st)
	}
	if c.own != nil {
		c.writeOwn().applyTraitsAt(m, opts, st)
	}
	return c.writeState().applyTraitsAt(m, opts, st)
}

// messageStamp returns the stamp of m. When the same message linked m.AnonymousID to
// the contact just before (the Processor links, then applies), that link already holds
// the stamp, and it is shared rather than made again: stamps are immutable values
// meant to be shared (see stamp), and most messages link.
func (c *Contact) messageStamp(m *event.Message) stamp {
	at := packedTime(m.Time)
	if m.AnonymousID != "" {
		if i, ok := c.findLink(m.AnonymousID); ok {
			for _, l := range [...]stamp{c.links[i].last, c.links[i].st} {
				if l.is(at, m.MessageID) {
					return l
				}
			}
		}
	}
	return stamp{&stampValue{at: at, id: m.MessageID}}
}

func (c *state) applyTraits(m *event.Message, opts *ApplyOptions) Changes {
	if m.Kind != event.Identify {
		return Changes{}
	}
	return c.applyTraitsAt(m, opts, stampOf(m.Time, m.MessageID))
}

// applyTraitsAt is applyTraits with the message's stamp made by the caller: one stamp
// serves every state the message applies to (a stamp is shared by design, see stamp).
func (c *state) applyTraitsAt(m *event.Message, opts *ApplyOptions, st stamp) Changes {
	if m.Kind != event.Identify {
		return Changes{}
	}
	c.writable()
	a := applier{c: c, m: m, opts: opts, st: st}
	var buf [64]byte

	// Which standard fields the message's own traits name, and whether it names
	// firstName or lastName anywhere (Rule T1's condition for `name`).
	// The standard field of each key is worked out once: the first messageFields
	// members of each object keep it for the apply loops below.
	var own, named stdField
	var traitFields, contextFields [messageFields]stdField
	for i, mb := range m.Traits {
		f := standardField(normalizeKey(buf[:0], mb.Key))
		if i < messageFields {
			traitFields[i] = f
		}
		own |= f
		named |= f
		if f == 0 {
			a.customLeft++
		}
	}
	for i, mb := range m.Context.Traits {
		f := standardField(normalizeKey(buf[:0], mb.Key))
		if i < messageFields {
			contextFields[i] = f
		}
		named |= f
	}

	count := 0
	// The single-valued standard traits applied so far, and those given twice whose
	// first key was reported.
	var seen, seenContext, reported stdField
	apply := func(mb event.Member, f stdField, known bool, prefix string, fromContext bool) {
		path := fieldPath{base: prefix, key: mb.Key}
		if len(mb.Key) > MaxTraitKey && utf8.RuneCountInString(mb.Key) > MaxTraitKey {
			a.refuse(diag.TraitLimit, fieldPath{base: prefix, key: truncateKey(mb.Key)}, "trait key over 255 characters")
			return
		}
		if !known {
			f = standardField(normalizeKey(buf[:0], mb.Key))
		}
		if fromContext {
			if f != 0 && own&f != 0 {
				return // Rule T3: the message's own traits win.
			}
			if f == 0 {
				if _, ok := m.Traits.Get(mb.Key); ok {
					return
				}
			}
		}
		count++
		if count > MaxTraits {
			a.refuse(diag.TraitLimit, path, "more than 300 traits in one message")
			return
		}
		if f&singleValued != 0 {
			objSeen, obj := &seen, m.Traits
			if fromContext {
				objSeen, obj = &seenContext, m.Context.Traits
			}
			if first := firstOf(obj, f); *objSeen&f != 0 && string(first.Value) != string(mb.Value) {
				// Rule T1 reads first_name and FirstName as one trait: two values of it in
				// one message carry one stamp, and one is kept (Rule T4's tie), whatever
				// their order. Both keys are reported: which one lost depends on the
				// values, not on where they stand.
				const msg = "the message gives this standard trait under two keys Rule T1 reads as one, with different values: one of them is kept, the same whatever their order"
				if reported&f == 0 {
					reported |= f
					a.refuse(diag.TraitInvalid, fieldPath{base: prefix, key: first.Key}, msg)
				}
				a.refuse(diag.TraitInvalid, path, msg)
			}
			*objSeen |= f
		}
		a.applyTrait(f, mb.Key, mb.Value, path, named)
	}
	for i, mb := range m.Traits {
		apply(mb, traitFields[min(i, messageFields-1)], i < messageFields, "traits.", false)
	}
	for i, mb := range m.Context.Traits {
		apply(mb, contextFields[min(i, messageFields-1)], i < messageFields, "context.traits.", true)
	}
	a.contextFields() // such as context.timezone (Rule G3): see fields.go
	if a.phonesTouched && c.phoneSignature() != a.phonesBefore {
		a.changed("phones", true)
	}
	if len(a.otherPhones) > 0 {
		// The message's phone traits (two spellings, T1) gave several numbers: it names
		// no one phone. An opt-in naming none applies to none; an opt-out naming none
		// applies to each (see bindToPhones). Sorted: the same whatever the keys' order.
		a.givenPhones = append(a.otherPhones, a.msgPhone)
		slices.Sort(a.givenPhones)
		a.msgPhone = ""
	}
	switch {
	case a.emailTwice:
		a.msgEmail = "" // its email records bind as the contact's (the kept one)
	case a.msgEmail == "":
		a.msgEmail = a.entryEmail
	}
	if a.msgPhone == "" && !a.phoneRefused && a.givenPhones == nil {
		a.msgPhone, a.phoneRefused = a.entryPhone()
	}
	for _, d := range a.optIns {
		a.optInField(d.raw, d.path)
	}
	a.ch.Phone, a.ch.Email, a.ch.PhoneRefused, a.ch.Phones = a.msgPhone, a.msgEmail, a.phoneRefused, a.givenPhones
	return a.ch
}

// singleValued are the standard traits that hold one value: two keys of a message that
// name one of them (Rule T1) leave one value.
const singleValued = stdField(1)<<numFields - 1 | fName | fPhone

// notePhone notes e164 as the message's phone (Rule C5), given by a phone trait; a
// second number goes to otherPhones.
func (a *applier) notePhone(e164 string) {
	switch {
	case a.msgPhone == "":
		a.msgPhone = e164
	case e164 != a.msgPhone && !slices.Contains(a.otherPhones, e164):
		a.otherPhones = append(a.otherPhones, e164)
	}
}

// noteEmail notes e as the message's email, given by an email trait.
func (a *applier) noteEmail(e string) {
	if a.msgEmail != "" && a.msgEmail != e {
		a.emailTwice = true
	}
	a.msgEmail = e
}

// firstOf returns the first member of obj that names the standard trait f (Rule T1).
func firstOf(obj event.Object, f stdField) event.Member {
	var buf [64]byte
	for _, o := range obj {
		if standardField(normalizeKey(buf[:0], o.Key)) == f {
			return o
		}
	}
	return event.Member{}
}

// BindConsent binds the consent records of a message's opt-in or opt-out event (Rule
// C8), which name no phone or email of their own, to the phone and email the same
// message's traits set (Rule C5), as its optIn trait's are: ch is what applying those
// traits (context.traits, Options.ApplyContextTraits) reported. Records with an address
// are left as they are. When the message sent phones and every one was refused, an
// SMS or voice opt-in applies to no phone and is refused, and an opt-out binds as one
// naming no phone does: the diagnostics say so.
func (ch *Changes) BindConsent(recs []optin.Record, messageID, field string) ([]optin.Record, []diag.Diagnostic) {
	if len(ch.Phones) > 1 {
		return bindToPhones(recs, ch.Phones, messageID, field)
	}
	var diags []diag.Diagnostic
	for i := range recs {
		r := &recs[i]
		if r.Address != "" {
			continue
		}
		switch r.Channel {
		case optin.SMS, optin.Voice:
			switch {
			case ch.Phone != "":
				r.Address = ch.Phone
			case ch.PhoneRefused && r.Subscribed && r.Refused == "":
				diags = append(diags, refuseOptIn(r, messageID, field, refusedPhone))
			}
		case optin.Email:
			if ch.Email != "" {
				r.Address = ch.Email
			}
		}
	}
	return recs, diags
}

// bindToPhones binds the SMS and voice records that name no phone of a message that
// gave several numbers as its phone (two spellings, Rule T1): an opt-in is refused,
// since it names none of them (Rule C5: consent for the wrong number is worse than
// none), and an opt-out applies to each, since a revocation is honoured wherever it
// may have been meant (a copy of it for every number but the first). The records of
// other channels, and those that name a phone, are left as they are.
func bindToPhones(recs []optin.Record, phones []string, messageID, field string) ([]optin.Record, []diag.Diagnostic) {
	var diags []diag.Diagnostic
	n := len(recs)
	for i := range n {
		r := &recs[i]
		if r.Address != "" || (r.Channel != optin.SMS && r.Channel != optin.Voice) {
			continue
		}
		if r.Subscribed {
			if r.Refused == "" {
				diags = append(diags, refuseOptIn(r, messageID, field, "an opt-in in a message that gave several numbers as its phone applies to none of them (Rules C5, T1)"))
			}
			continue
		}
		r.Address = phones[0]
		for _, p := range phones[1:] {
			c := recs[i] // recs may grow: a copy, not a pointer into it
			c.Address = p
			recs = append(recs, c)
		}
	}
	return recs, diags
}

// refusedPhone is why an opt-in naming no phone, in a message whose phone was refused,
// is refused.
const refusedPhone = "an opt-in in a message whose phone was refused applies to no phone (Rule C5)"

// refuseOptIn refuses r, an opt-in that applies to no phone, and returns the diagnostic
// that says why.
func refuseOptIn(r *optin.Record, messageID, field, why string) diag.Diagnostic {
	r.Refused = diag.OptinInvalid
	return diag.Diagnostic{MessageID: messageID, Code: diag.OptinInvalid, Field: field, Message: why}
}

// entryPhone returns the phone a message without a phone trait sent in its phones
// object (Rule C5: "the phone in the same message"): its only entry, else the one entry
// it marked primary; none when it sent several and marked none, or no valid one. refused
// reports that it sent numbers and every one was refused: an opt-in naming no phone was
// then given for a number that is not valid.
func (a *applier) entryPhone() (phone string, refused bool) {
	e := &a.entries
	switch {
	case len(e.added) == 1:
		return e.added[0], false
	case len(e.primary) == 1:
		return e.primary[0], false
	}
	return "", len(e.added) == 0 && e.refused
}

// messageFields is how many members of a message's traits (and of its context.traits)
// applyTraitsAt remembers the standard field of, on its stack: more than a typical
// identify has. Members beyond it are normalized again when applied.
const messageFields = 48

func truncateKey(k string) string {
	k = k[:32]
	for !utf8.ValidString(k) {
		k = k[:len(k)-1]
	}
	return k + "…"
}

func (a *applier) applyTrait(f stdField, key string, raw []byte, path fieldPath, named stdField) {
	if f != 0 && f < 1<<numFields {
		a.scalar(field(bits.TrailingZeros32(uint32(f))), raw, path)
		return
	}
	switch f {
	case fName:
		a.name(raw, path, named)
	case fPhone:
		a.phoneTrait(raw, path)
	case fAddress:
		a.addressField(raw, path)
	case fPhones:
		a.phonesField(raw, path)
	case fEmails:
		a.emailsField(raw, path)
	case fOptIn:
		a.optIns = append(a.optIns, deferredTrait{raw, path})
	default:
		a.customField(key, raw, path)
	}
}

// stringField applies a standard string trait: a non-empty string, or null to remove
// (Rule T4).
func (a *applier) stringField(r *register, name string, raw []byte, path fieldPath) {
	switch jsonvalue.KindOf(raw) {
	case jsonvalue.KindNull:
		a.changed(name, r.set("", a.st))
		return
	case jsonvalue.KindString:
		content, escaped, ok := jsonvalue.Content(raw)
		if ok && !escaped && r.val != "" && string(content) == r.val {
			a.changed(name, r.set(r.val, a.st)) // the same value: only the stamp moves
			return
		}
		var s string
		if ok {
			s = internContent(content, escaped)
		}
		if ok && strings.TrimSpace(s) != "" {
			a.changed(name, r.set(s, a.st))
			return
		}
		if ok {
			a.refuse(diag.TraitInvalid, path, name+" is empty; send null to remove it")
			return
		}
	}
	a.refuse(diag.TraitInvalid, path, name+" must be a string")
}

// name fills firstName and lastName from `name` when the message names neither
// (Rule T1): the first token, and the rest.
func (a *applier) name(raw []byte, path fieldPath, named stdField) {
	if named&(fieldBit(fieldFirstName)|fieldBit(fieldLastName)) != 0 {
		return
	}
	if jsonvalue.KindOf(raw) == jsonvalue.KindNull {
		return // null name removes nothing: it is not a field of its own.
	}
	s, ok := jsonvalue.String(raw)
	s = strings.TrimSpace(s)
	if !ok || s == "" {
		a.refuse(diag.TraitInvalid, path, "name must be a non-empty string")
		return
	}
	first, rest, _ := strings.Cut(s, " ")
	a.changed("firstName", a.c.fields[fieldFirstName].set(intern.String(first), a.st))
	if rest = strings.TrimSpace(rest); rest != "" {
		a.changed("lastName", a.c.fields[fieldLastName].set(intern.String(rest), a.st))
	}
}

// emailField applies `email` (Rule T7).
func (a *applier) emailField(raw []byte, path fieldPath) {
	r := &a.c.fields[fieldEmail]
	switch jsonvalue.KindOf(raw) {
	case jsonvalue.KindNull:
		a.changed("email", r.set("", a.st))
		return
	case jsonvalue.KindString:
		if content, escaped, _ := jsonvalue.Content(raw); !escaped && len(content) > 0 && string(content) == r.val {
			// Re-sent as it is, the usual case: no copy of the text.
			a.noteEmail(r.val)
			a.changed("email", r.set(r.val, a.st)) // already normalized
			return
		}
		s, _ := jsonvalue.String(raw)
		if s != "" && s == r.val {
			a.noteEmail(s)
			a.changed("email", r.set(s, a.st)) // already normalized
			return
		}
		if strings.TrimSpace(s) == "" {
			a.refuse(diag.TraitInvalid, path, "email is empty; send null to remove it") // Rule T4
			return
		}
		e, err := identity.NormalizeEmail(s)
		if err != nil {
			a.refuse(diag.EmailInvalid, path, err.Error())
			return
		}
		a.noteEmail(e)
		a.changed("email", r.set(e, a.st))
		return
	}
	a.refuse(diag.EmailInvalid, path, "email must be a string")
}

// ageField applies `age` (Rule T6): a whole number 0–150, from a number or a numeric
// string.
func (a *applier) ageField(raw []byte, path fieldPath) {
	r := &a.c.fields[fieldAge]
	text := raw
	switch jsonvalue.KindOf(raw) {
	case jsonvalue.KindNull:
		a.changed("age", r.set("", a.st))
		return
	case jsonvalue.KindString:
		text = raw[1 : len(raw)-1]
	case jsonvalue.KindNumber:
	default:
		a.refuse(diag.TraitInvalid, path, "age must be a whole number from 0 to 150")
		return
	}
	n, ok := wholeNumber(text)
	if !ok || n > maxAgeYears {
		a.refuse(diag.TraitInvalid, path, "age must be a whole number from 0 to 150")
		return
	}
	var digits [3]byte
	i := len(digits)
	for {
		i--
		digits[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if string(digits[i:]) == r.val {
		a.changed("age", r.set(r.val, a.st))
		return
	}
	a.changed("age", r.set(intern.Bytes(digits[i:]), a.st))
}

// wholeNumber reads digits with an optional fraction of zeros ("23", "23.0"), up to
// 1000.
func wholeNumber(b []byte) (int, bool) {
	n, i := 0, 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int(b[i]-'0')
		if n > 1000 {
			return 0, false
		}
	}
	if i == 0 {
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		for ; i < len(b) && b[i] == '0'; i++ {
		}
	}
	return n, i == len(b)
}

// customField applies a custom property (Rule T2): any JSON value kept exactly, ""
// included; null removes it.
func (a *applier) customField(key string, raw []byte, path fieldPath) {
	switch jsonvalue.KindOf(raw) {
	case jsonvalue.KindInvalid:
		a.refuse(diag.TraitInvalid, path, "value is not JSON")
		return
	case jsonvalue.KindNull:
		raw = nil
	}
	room := a.customLeft
	a.customLeft--
	a.changedKey("custom.", key, setKeyedBytes(&a.c.custom, key, raw, a.st, room))
}

// setKeyedBytes is setKeyed for a value given as bytes, converting it to a string only
// when the write wins with a new value. When it adds a key to a full slice, it makes
// room for room keys, the most the message may still add: a new contact's first
// identify then grows its custom properties once rather than once per doubling
// (BenchmarkPipeline: 200 of 3,690 bytes a message went to regrowing them).
func setKeyedBytes(s *[]keyedRegister, key string, raw []byte, st stamp, room int) bool {
	i, ok := findKey(*s, key)
	if !ok {
		if len(*s) == cap(*s) && room > 1 {
			*s = slices.Grow(*s, room)
		}
		*s = slices.Insert(*s, i, keyedRegister{key: ownString(key)})
	}
	r := &(*s)[i].reg
	if string(raw) == r.val {
		return r.set(r.val, st)
	}
	return r.set(intern.Bytes(raw), st)
}
