package contactcore

import (
	"bytes"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/intern"
	"github.com/regalkit/regalkit/internal/jsonvalue"
	"github.com/regalkit/regalkit/optin"
)

// addressField applies `address` (Rule T5): an object of parts from any of the three key
// families, a string (line1), or null (removes every part).
func (a *applier) addressField(raw []byte, path fieldPath) {
	c := a.c
	switch jsonvalue.KindOf(raw) {
	case jsonvalue.KindNull:
		for i := range c.address {
			a.changed(addressFieldNames[i], c.address[i].set("", a.st))
		}
		visible := len(c.addressValue().Extra)
		if a.st.compare(c.addressCleared) > 0 {
			c.addressCleared = a.st
		}
		if len(c.addressValue().Extra) != visible {
			a.changed("address", true)
		}
		return
	case jsonvalue.KindString:
		a.addressPart(partLine1, raw, path)
		return
	case jsonvalue.KindObject:
	default:
		a.refuse(diag.TraitInvalid, path, "address must be an object or a string")
		return
	}
	var buf [64]byte
	ok := jsonvalue.Members(raw, func(k, v []byte) {
		if part, known := addressPart(normalizeKeyBytes(buf[:0], k)); known {
			a.addressPart(part, v, path.dotRaw(k))
			return
		}
		key, _ := jsonvalue.String(k)
		if jsonvalue.KindOf(v) == jsonvalue.KindNull {
			a.changedKey("address.", key, setKeyedBytes(&c.addressExtra, key, nil, a.st, 1))
			return
		}
		a.changedKey("address.", key, setKeyedBytes(&c.addressExtra, key, v, a.st, 1))
	})
	if !ok {
		a.refuse(diag.TraitInvalid, path, "address is not a valid JSON object")
	}
}

func (a *applier) addressPart(part int, raw []byte, path fieldPath) {
	r := &a.c.address[part]
	name := addressFieldNames[part]
	switch jsonvalue.KindOf(raw) {
	case jsonvalue.KindNull:
		a.changed(name, r.set("", a.st))
		return
	case jsonvalue.KindString:
		content, escaped, ok := jsonvalue.Content(raw)
		if ok && !escaped && string(content) == r.val && r.val != "" {
			a.changed(name, r.set(r.val, a.st))
			return
		}
		if ok {
			if s := internContent(content, escaped); s != "" {
				a.changed(name, r.set(s, a.st))
				return
			}
		}
	case jsonvalue.KindNumber:
		// A numeric zip code, as some forms send it.
		a.changed(name, r.set(intern.Bytes(raw), a.st))
		return
	}
	a.refuse(diag.TraitInvalid, path, addressPartNames[part]+" must be a non-empty string")
}

// phoneTrait applies `phone` (Rule T8): a string or a number that libphonenumber finds
// valid, or null to remove the phone trait.
func (a *applier) phoneTrait(raw []byte, path fieldPath) {
	if jsonvalue.KindOf(raw) == jsonvalue.KindNull {
		a.phoneWrite(phoneWrite{st: a.st, op: opTrait})
		return
	}
	// Fast path: the value is already the contact's phone in E.164, validated when it
	// was first set. Segment re-sends the same traits with every identify.
	if cur := a.c.phones.trait.val; cur != "" && len(raw) == len(cur)+2 && string(raw[1:len(raw)-1]) == cur {
		a.notePhone(cur)
		a.phoneWrite(phoneWrite{st: a.st, phone: cur, op: opTrait})
		return
	}
	if emptyString(raw) {
		// Rule T4: an empty standard trait is refused as such. Like a refused number, it
		// names no phone an opt-in in the message could have been given for (C5).
		a.refuse(diag.TraitInvalid, path, "phone is empty; send null to remove it")
		a.phoneRefused = true
		return
	}
	n, err := a.opts.phones().ParseJSON(raw, a.opts.region())
	if err != nil {
		a.refuse(diag.PhoneInvalid, path, err.Error())
		a.phoneRefused = true
		return
	}
	a.notePhone(n.E164)
	a.phoneWrite(phoneWrite{st: a.st, phone: n.E164, op: opTrait})
}

// emptyString reports whether raw is a JSON string of whitespace alone, escaped or not,
// reading it without a copy in the usual case of no escapes.
func emptyString(raw []byte) bool {
	if len(raw) < 2 || raw[0] != '"' {
		return false
	}
	content := raw[1 : len(raw)-1]
	if bytes.IndexByte(content, '\\') < 0 {
		return len(bytes.TrimSpace(content)) == 0
	}
	s, ok := jsonvalue.String(raw)
	return ok && strings.TrimSpace(s) == ""
}

func (a *applier) phoneWrite(w phoneWrite) {
	if !a.phonesTouched {
		a.phonesBefore = a.c.phoneSignature()
		a.phonesTouched = true
	}
	a.c.addPhoneWrite(w)
}

// phoneSignature summarizes the phones a user sees (the primary, the members and their
// labels), to tell whether writes changed them.
type phoneSignature struct {
	primary string
	members int
	labels  int
	hash    uint64
}

func (c *state) phoneSignature() phoneSignature {
	s := phoneSignature{primary: c.phones.primary(), labels: len(c.labels)}
	for _, m := range c.phones.members {
		if m.member.val != "" {
			s.members++
			s.hash = s.hash*31 + stringHash(m.phone)
		}
	}
	for _, kr := range c.labels {
		s.hash = s.hash*31 + stringHash(kr.reg.val)
	}
	return s
}

// stringHash hashes s for a phoneSignature, compared within the process only.
func stringHash(s string) uint64 { return maphash.String(signatureSeed, s) }

var signatureSeed = maphash.MakeSeed()

// phonesField applies Regal's `phones` object (Rule T9): keyed by number, each entry an
// object with label, isPrimary, smsOptIn and voiceOptIn, or null to remove the number.
func (a *applier) phonesField(raw []byte, path fieldPath) {
	if jsonvalue.KindOf(raw) == jsonvalue.KindNull {
		// null phones removes nothing: each number is removed by its own null. Said,
		// so that a sender who meant to remove them knows (nothing is dropped silently).
		a.refuse(diag.TraitInvalid, path, `phones: null removes no phone; remove one with "phones": {"<number>": null}`)
		return
	}
	ok := jsonvalue.Members(raw, func(k, v []byte) {
		key, _ := jsonvalue.String(k)
		field := path.dot(identity.MaskPhone(key))
		n, err := a.opts.phones().Parse(key, a.opts.region())
		if err != nil {
			a.refuse(diag.PhoneInvalid, field, err.Error())
			a.entries.refused = true
			return
		}
		switch jsonvalue.KindOf(v) {
		case jsonvalue.KindNull:
			a.phoneWrite(phoneWrite{st: a.st, phone: n.E164, op: opMember})
			return
		case jsonvalue.KindObject:
		default:
			a.refuse(diag.TraitInvalid, field, "a phones entry must be an object or null")
			a.entries.refused = true
			return
		}
		a.phoneWrite(phoneWrite{st: a.st, phone: n.E164, op: opMember, on: true})
		if !slices.Contains(a.entries.added, n.E164) {
			a.entries.added = append(a.entries.added, n.E164)
		}
		var sms, voice []byte
		jsonvalue.Members(v, func(k2, v2 []byte) {
			sub, _ := jsonvalue.String(k2)
			var buf [32]byte
			switch string(normalizeKey(buf[:0], sub)) {
			case "label":
				a.phoneLabel(n.E164, v2, field.dot(sub))
			case "isprimary":
				if on, ok := lenientBool(v2); ok {
					a.phoneWrite(phoneWrite{st: a.st, phone: n.E164, op: opPrimary, on: on})
					if on && !slices.Contains(a.entries.primary, n.E164) {
						a.entries.primary = append(a.entries.primary, n.E164)
					}
				} else {
					a.refuse(diag.TraitInvalid, field.dot(sub), "isPrimary must be true or false")
				}
			case "smsoptin":
				sms = v2
			case "voiceoptin":
				voice = v2
			default:
				a.refuse(diag.TraitInvalid, field.dot(sub), "a phones entry holds only label, isPrimary, smsOptIn and voiceOptIn")
			}
		})
		if sms != nil || voice != nil {
			recs, diags := optin.ParsePhone(field.String(), n.E164, sms, voice, a.consentMessage())
			a.addConsent(recs, diags)
		}
	})
	if !ok {
		a.refuse(diag.TraitInvalid, path, "phones must be an object keyed by phone number")
	}
}

func (a *applier) phoneLabel(e164 string, raw []byte, path fieldPath) {
	switch jsonvalue.KindOf(raw) {
	case jsonvalue.KindNull:
		a.changed("phones", setKeyedBytes(&a.c.labels, e164, nil, a.st, 1))
	case jsonvalue.KindString:
		s, ok := jsonvalue.String(raw)
		if ok {
			i, found := findKey(a.c.labels, e164)
			if found && a.c.labels[i].reg.val == s {
				a.c.labels[i].reg.set(s, a.st)
				return
			}
			a.changed("phones", setKeyed(&a.c.labels, e164, intern.String(s), a.st))
			return
		}
		fallthrough
	default:
		a.refuse(diag.TraitInvalid, path, "label must be a string")
	}
}

// LenientBool reads true, false, "true" or "false"; ok is false for anything else.
func LenientBool(raw []byte) (v, ok bool) { return lenientBool(raw) }

// lenientBool reads true, false, "true" or "false".
func lenientBool(raw []byte) (bool, bool) {
	switch string(raw) {
	case "true", `"true"`:
		return true, true
	case "false", `"false"`:
		return false, true
	}
	return false, false
}

// emailsField applies Regal's `emails` object: keyed by address, each entry an object
// with label, isPrimary and emailOptIn. The contact keeps one email: the entry marked
// isPrimary, or the only entry.
func (a *applier) emailsField(raw []byte, path fieldPath) {
	if jsonvalue.KindOf(raw) == jsonvalue.KindNull {
		a.refuse(diag.TraitInvalid, path, `emails: null removes no email; remove it with "email": null`)
		return
	}
	type entry struct {
		email   string
		field   fieldPath
		primary bool
	}
	var entries []entry
	ok := jsonvalue.Members(raw, func(k, v []byte) {
		key, _ := jsonvalue.String(k)
		field := path.dot(identity.MaskEmail(key))
		e, err := identity.NormalizeEmail(key)
		if err != nil {
			a.refuse(diag.EmailInvalid, field, err.Error())
			return
		}
		if jsonvalue.KindOf(v) != jsonvalue.KindObject {
			a.refuse(diag.TraitInvalid, field, "an emails entry must be an object")
			return
		}
		en := entry{email: e, field: field}
		var optIn []byte
		jsonvalue.Members(v, func(k2, v2 []byte) {
			sub, _ := jsonvalue.String(k2)
			var buf [32]byte
			switch string(normalizeKey(buf[:0], sub)) {
			case "isprimary":
				on, ok := lenientBool(v2)
				if !ok {
					a.refuse(diag.TraitInvalid, field.dot(sub), "isPrimary must be true or false")
				}
				en.primary = on
			case "emailoptin":
				optIn = v2
			case "label":
				// A contact keeps one email (Rule T7), without a label: a label is not
				// kept, and said so, a string or not.
				if jsonvalue.KindOf(v2) != jsonvalue.KindNull {
					a.refuse(diag.TraitInvalid, field.dot(sub), "an email's label is not kept: a contact keeps one email, without a label (Rule T7)")
				}
			default:
				a.refuse(diag.TraitInvalid, field.dot(sub), "an emails entry holds only label, isPrimary and emailOptIn")
			}
		})
		if optIn != nil {
			recs, diags := optin.ParseEmail(field.String(), e, optIn, a.consentMessage())
			a.addConsent(recs, diags)
		}
		entries = append(entries, en)
	})
	if !ok {
		a.refuse(diag.TraitInvalid, path, "emails must be an object keyed by address")
		return
	}
	chosen := -1
	for i, en := range entries {
		if en.primary || len(entries) == 1 {
			chosen = i
		}
	}
	for i, en := range entries {
		if i == chosen {
			a.changed("email", a.c.fields[fieldEmail].set(en.email, a.st))
			// The message's email when it has no email trait (whichever key comes
			// first): its optIn's email records are for it (the email form of Rule C5).
			a.entryEmail = en.email
		} else {
			a.refuse(diag.TraitInvalid, en.field, "only the primary email is kept; mark one isPrimary")
		}
	}
}

// optInField applies the seed's `optIn` trait (Rule C2): an array of records or one.
// It runs after the message's phone and email are known, since records apply to them
// (Rule C5).
func (a *applier) optInField(raw []byte, path fieldPath) {
	recs, diags := a.opts.optIns().ParseTrait(path.interned(), raw, a.consentMessage())
	if a.givenPhones != nil {
		var more []diag.Diagnostic
		recs, more = bindToPhones(recs, a.givenPhones, a.m.MessageID, path.String())
		diags = append(diags, more...)
	} else if a.phoneRefused {
		// The phone the message sent was refused: an opt-in that names no phone of
		// its own was given for that number, and binding it to another (the one primary
		// at the message's time, Rule C5) would consent for a number the person did not
		// give. It is kept, refused; an opt-out still binds, as any opt-out is honoured.
		for i := range recs {
			r := &recs[i]
			// One that names a number of its own is refused too: its message's phone was
			// not that number (C5: an opt-in for another number than its message's).
			if r.Channel != optin.SMS && r.Channel != optin.Voice {
				continue
			}
			switch {
			case r.Subscribed && r.Refused == "":
				diags = append(diags, refuseOptIn(r, a.m.MessageID, path.String(), refusedPhone))
			case !r.Subscribed && r.Address != "":
				// An opt-out that names a number of its own binds where one naming none
				// does (the phone primary at the message's time), the number reported:
				// the message sent a phone, and it was not that number.
				diags = append(diags, diag.Diagnostic{MessageID: a.m.MessageID, Code: diag.OptinInvalid, Field: path.String(),
					Message: "the record names " + identity.MaskPhone(r.Address) + " in a message whose phone was refused; the opt-out is honoured where it applies (Rules C4, C5)"})
				r.Address = ""
			}
		}
	}
	a.addConsent(recs, diags)
}

func (a *applier) consentMessage() optin.Message {
	processed := a.m.Time
	if a.opts != nil && !a.opts.ProcessedAt.IsZero() {
		processed = a.opts.ProcessedAt
	}
	return optin.Message{
		ID: a.m.MessageID, Time: a.m.Time, IP: a.m.Context.IP,
		Phone: a.msgPhone, Email: a.msgEmail, ProcessedAt: processed, Region: a.opts.region(),
	}
}

func (a *applier) addConsent(recs []optin.Record, diags []diag.Diagnostic) {
	for i := range diags {
		diags[i].MessageID = a.m.MessageID
	}
	a.ch.Diagnostics = append(a.ch.Diagnostics, diags...)
	if a.c.consent.Add(recs...) > 0 {
		a.changed("consent", true)
	}
}
