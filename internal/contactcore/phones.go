package contactcore

import "slices"

// Phones (Rules T8, T9, C5, A1, A2). A contact's phones are derived from a log of every
// phone write it received, so that any arrival order gives the same phones, the same
// primary phone now, and the same primary phone at any past moment (which Rule C5 needs
// to bind a consent record sent without a phone).

type phoneOp uint8

const (
	// opTrait is the `phone` trait: phone set to the number, or removed ("") by null.
	// Setting it also adds the number to the contact's phones.
	opTrait phoneOp = iota + 1
	// opMember adds (on) or removes (off) a number: a `phones` entry, or null.
	opMember
	// opPrimary marks (on) or unmarks (off) a number as primary: `isPrimary`.
	opPrimary
)

type phoneWrite struct {
	st    stamp
	phone string // E.164; empty for opTrait removing the phone
	op    phoneOp
	on    bool
}

func (w phoneWrite) compare(o phoneWrite) int {
	if c := w.st.compare(o.st); c != 0 {
		return c
	}
	switch {
	case w.op != o.op:
		return int(w.op) - int(o.op)
	case w.phone < o.phone:
		return -1
	case w.phone > o.phone:
		return 1
	case w.on != o.on:
		if w.on {
			return 1
		}
		return -1
	}
	return 0
}

// addPhoneWrite adds w to the log unless it is there already, and applies it to the
// current phones.
func (c *state) addPhoneWrite(w phoneWrite) bool {
	i, found := slices.BinarySearchFunc(c.phoneLog, w, phoneWrite.compare)
	if found {
		return false
	}
	c.writable()
	c.phoneLog = slices.Insert(c.phoneLog, i, w)
	c.phones.apply(w)
	return true
}

// phoneView is the state of a contact's phones derived from a prefix of the log.
type phoneView struct {
	members []phoneMember // sorted by phone
	trait   register      // the `phone` trait
}

type phoneMember struct {
	phone   string
	member  register // "1" when the number belongs to the contact, "" when removed
	primary register // "1" when marked isPrimary
}

// viewPhones derives the phones from the log writes with a stamp at or below limit.
// The contact keeps the view of all writes up to date in c.phones; this fold is for
// the past moments Rule C5 asks about.
func (c *state) viewPhones(limit stamp) phoneView {
	var v phoneView
	for _, w := range c.phoneLog {
		if w.st.compare(limit) > 0 {
			break
		}
		v.apply(w)
	}
	return v
}

// apply applies one write to the view. Every part of the view is a register, so writes
// may come in any order.
func (v *phoneView) apply(w phoneWrite) {
	switch w.op {
	case opTrait:
		v.trait.set(w.phone, w.st)
		if w.phone != "" {
			v.member(w.phone).member.set("1", w.st)
		}
	case opMember:
		v.member(w.phone).member.set(flag(w.on), w.st)
	case opPrimary:
		v.member(w.phone).primary.set(flag(w.on), w.st)
	}
}

// clone returns a copy of v that shares nothing it could change.
func (v phoneView) clone() phoneView {
	v.members = slices.Clone(v.members)
	return v
}

func flag(on bool) string {
	if on {
		return "1"
	}
	return ""
}

func (v *phoneView) member(phone string) *phoneMember {
	i, ok := slices.BinarySearchFunc(v.members, phone, func(m phoneMember, p string) int {
		switch {
		case m.phone < p:
			return -1
		case m.phone > p:
			return 1
		}
		return 0
	})
	if !ok {
		v.members = slices.Insert(v.members, i, phoneMember{phone: phone})
	}
	return &v.members[i]
}

func (v *phoneView) isMember(phone string) bool {
	for i := range v.members {
		if v.members[i].phone == phone {
			return v.members[i].member.val != ""
		}
	}
	return false
}

// primary returns the primary phone (Rule T9): of the phones that belong to the contact,
// the one marked isPrimary most recently; else the one the latest `phone` trait set;
// else the one added most recently. Empty when the contact has no phone.
func (v *phoneView) primary() string {
	var best *phoneMember
	for i := range v.members {
		m := &v.members[i]
		if m.member.val != "" && m.primary.val != "" && (best == nil || m.primary.st.compare(best.primary.st) > 0) {
			best = m
		}
	}
	if best != nil {
		return best.phone
	}
	if p := v.trait.val; p != "" && v.isMember(p) {
		return p
	}
	for i := range v.members {
		m := &v.members[i]
		if m.member.val != "" && (best == nil || m.member.st.compare(best.member.st) > 0) {
			best = m
		}
	}
	if best != nil {
		return best.phone
	}
	return ""
}

// Phone returns the primary phone in E.164 (Rule T9); empty when the contact has none.
func (c *Contact) Phone() string { return c.shown().phones.primary() }

// Phones returns the contact's phones in E.164, sorted.
func (c *Contact) Phones() []string { return c.AppendPhones(nil) }

// AppendPhones appends the contact's phones in E.164, sorted, to dst: Phones without
// an allocation of its own.
func (c *Contact) AppendPhones(dst []string) []string {
	for _, m := range c.shown().phones.members {
		if m.member.val != "" {
			dst = append(dst, m.phone)
		}
	}
	return dst
}

// PhonesEqual reports whether ps is what Phones would return (nil and empty alike),
// without building it.
func (c *Contact) PhonesEqual(ps []string) bool {
	i := 0
	for _, m := range c.shown().phones.members {
		if m.member.val == "" {
			continue
		}
		if i >= len(ps) || ps[i] != m.phone {
			return false
		}
		i++
	}
	return i == len(ps)
}

// PhoneLabel returns the label of a phone given in E.164 ("" when it has none).
func (c *Contact) PhoneLabel(e164 string) string {
	if i, ok := findKey(c.shown().labels, e164); ok {
		return c.shown().labels[i].reg.val
	}
	return ""
}

// InAudience reports whether the contact has a valid phone (Rule A1).
func (c *Contact) InAudience() bool {
	for _, m := range c.shown().phones.members {
		if m.member.val != "" {
			return true
		}
	}
	return false
}

// phoneAt returns the phone a consent record sent without one binds to (Rule C5): the
// phone primary at the record's message stamp, else the first phone the contact ever
// got; empty while the contact has none (the record is pending).
func (c *state) phoneAt(st stamp) string {
	v := c.viewPhones(st)
	if p := v.primary(); p != "" {
		return p
	}
	for _, w := range c.phoneLog {
		if w.phone != "" && (w.op == opTrait || w.on) {
			return w.phone
		}
	}
	return ""
}
