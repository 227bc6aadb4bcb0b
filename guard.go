package regalkit

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/regalkit/regalkit/callwindow"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/regalkit/regalkit/internal/timestamp"
	"github.com/regalkit/regalkit/optin"
	"github.com/regalkit/regalkit/regalio"
)

// ErrGuardInput is the sentinel a [*GuardInputError] matches: a phone or channel the
// Guard cannot read.
var ErrGuardInput = errors.New("regalkit: guard: unreadable input")

// GuardInputError says which input of [Guard.Check] cannot be read. It never holds a
// whole phone number.
type GuardInputError struct {
	Field string // "phone", "channel" or "at"
	Err   error  // the cause: an identity.PhoneError, or nil for a channel or a time
}

// Error names the field, and for a channel the ones the Guard answers for.
func (e *GuardInputError) Error() string {
	s := "regalkit: guard: unreadable " + e.Field
	switch {
	case e.Err != nil:
		s += ": " + e.Err.Error()
	case e.Field == "channel":
		s += ": the guard answers for sms and voice"
	case e.Field == "at":
		s += ": the zero time, or one outside the years 1677 to 2262; pass the instant of the call or text (time.Now())"
	}
	return s
}

// Unwrap returns the cause.
func (e *GuardInputError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrGuardInput].
func (e *GuardInputError) Is(target error) bool { return target == ErrGuardInput }

// GuardOptions configures a [Guard]. The zero value, like a nil *GuardOptions, gives the
// defaults each field documents.
type GuardOptions struct {
	// Windows are the calling windows (Rule G2): a default, and overrides by E.164
	// prefix for regions whose laws end earlier. The zero Table is 8:00 to 21:00
	// everywhere.
	Windows callwindow.Table

	// FallbackZone is the IANA zone, such as "America/New_York", used for a phone whose
	// zone is unknown (Rule G3). Empty means such a phone is refused with
	// guard.unknown_zone.
	FallbackZone string

	// ContactZone returns the IANA zone a contact told; "" when it told none. When some
	// contact with the phone names a zone the zone database knows, those zones are the
	// candidates instead of the phone number's (Rule G3). Nil means
	// [contact.Contact.TimeZone]: the context.timezone of its latest identify.
	ContactZone func(c *contact.Contact) string
}

// Guard answers the question asked before every call or text (Rules G1–G4): may this
// phone be reached on this channel at this instant? It reads consent from the
// Processor's store and leaves the time arithmetic to package callwindow.
//
// Zones are loaded with time.LoadLocation: a program that may run where the machine
// has no zone database should import time/tzdata, as examples/webhook does.
//
// A Guard is safe for concurrent use by multiple goroutines.
type Guard struct {
	p    *Processor
	opts GuardOptions

	mu   sync.Mutex
	locs map[string]*time.Location // zones loaded so far, by name; nil for a name that is none

	// numberZones caches libphonenumber's zones by E.164: identity.PhoneTimeZones parses
	// the number each time (BenchmarkGuardCheck: 9.1 µs and 39 allocations a check
	// without the cache, 1.2 µs and 7 with it). Its slices are shared and never written.
	numberZones *lru.Cache[string, []string]
}

// numberZonesSize bounds the Guard's cache of zones by number.
const numberZonesSize = 4096

// Guard returns a Guard over the processor's store and phone rules, configured by opts
// (nil means the defaults). It panics if opts is invalid, as [New] does: a window that
// ends before it starts, a prefix that is not "+" and digits, or a fallback zone that
// is not an IANA zone the zone database knows (see Rule G3: not "localtime", a path or
// "right/...").
func (p *Processor) Guard(opts *GuardOptions) *Guard {
	g := &Guard{p: p, locs: map[string]*time.Location{}}
	g.numberZones, _ = lru.New[string, []string](numberZonesSize) // fails only for a size <= 0
	if opts != nil {
		g.opts = *opts
	}
	if err := g.opts.Windows.Validate(); err != nil {
		panic(err.Error())
	}
	if z := g.opts.FallbackZone; z != "" && g.location(z) == nil {
		panic("regalkit: guard: unknown fallback zone " + diag.Mask(z))
	}
	return g
}

// Decision is the Guard's answer.
type Decision struct {
	// Allowed reports that the phone may be reached on the channel at the instant.
	Allowed bool
	// Reason says why not, as a diagnostic code: guard.not_subscribed,
	// guard.opted_out, guard.unknown_zone, guard.quiet_hours or
	// guard.no_common_window. Empty when Allowed.
	Reason diag.Code
	// NextAllowed is the earliest instant at or after the one asked about when every
	// condition holds: that instant when Allowed, the window's next opening for
	// guard.quiet_hours, and zero when only a change of consent or zone could allow it.
	NextAllowed time.Time
	// Zone names the time zone the window was judged in, or the candidate zones joined
	// by commas when there are several (Rule G3); empty when unknown.
	Zone string
	// State is the phone's consent state on the channel across every contact with it
	// (Rule G1).
	State optin.State
	// Deciding is the record that decides State, when there is one.
	Deciding *optin.Entry
}

// phoneConsent returns the contacts that have the phone e164, and its deciding record
// and state on channel (Rule G1): Rule C6 across those contacts' records, the phone's
// own keyword replies (Rule G7) and the Regal consent events without a userId about it
// (Rule R5). ok is false when there is no record.
func phoneConsent(ctx context.Context, store contact.Store, e164 string, channel optin.Channel) (contacts []*contact.Contact, deciding optin.Entry, state optin.State, ok bool, err error) {
	contacts, err = store.Find(ctx, identity.PhoneKey(e164))
	if err != nil {
		return nil, optin.Entry{}, optin.StateNone, false, err
	}
	views := make([]optin.View, 0, len(contacts)+1)
	emails := make([]string, 0, len(contacts))
	for _, c := range contacts {
		views = append(views, c.ConsentView())
		if e := strings.ToLower(c.Email()); e != "" && !slices.Contains(emails, e) {
			emails = append(emails, e)
		}
	}
	// The phone's own records, on anonymous contacts no one else has: its keyword
	// replies (Rule G7), and the Regal consent events without a userId about the phone
	// (Rule R5). A record there names the phone it is about. Only the contact whose own
	// anonymous ID it is counts: a lookup also finds an anonymous contact that holds a
	// Regal event it matched by phone, and that contact's records count only while it
	// has the phone (found above), as any contact's.
	for _, prefix := range [...]string{KeywordRegisterPrefix, regalio.AnonymousIDPrefix} {
		if views, err = appendRegister(ctx, store, views, prefix+e164, nil); err != nil {
			return nil, optin.Entry{}, optin.StateNone, false, err
		}
	}
	// The Regal consent events without a userId that named an email and no phone, kept
	// on the email's own Regal contact (Rule R5): they apply to the phones of the
	// contacts that have the email, this one among them.
	toPhone := func(ch optin.Channel, _ time.Time) (string, bool) {
		return e164, ch == optin.SMS || ch == optin.Voice
	}
	for _, e := range emails {
		if views, err = appendRegister(ctx, store, views, regalio.AnonymousIDPrefix+e, toPhone); err != nil {
			return nil, optin.Entry{}, optin.StateNone, false, err
		}
	}
	deciding, state, ok = optin.Across(e164, channel, views...)
	return contacts, deciding, state, ok, nil
}

// appendRegister appends to views the consent of the register contact whose own
// anonymous ID anon is (no userId), resolved with bind, if there is one.
func appendRegister(ctx context.Context, store contact.Store, views []optin.View, anon string, bind optin.Binder) ([]optin.View, error) {
	regs, err := store.Find(ctx, identity.AnonymousKey(anon))
	if err != nil {
		return nil, err
	}
	for _, r := range regs {
		if r.UserID() == "" && slices.Contains(r.AnonymousIDs(), anon) {
			views = append(views, r.Consent().Resolve(bind))
		}
	}
	return views, nil
}

// Check decides whether phone (any form Rule T8 reads) may be reached on channel (sms
// or voice) at the instant at (Rules G1–G4):
//
//   - consent (Rule G1): the phone's deciding record on the channel, across every
//     contact that has the phone, the phone's own keyword replies (Rule G7) and the
//     Regal consent events without a userId about it (Rule R5), must opt
//     in: guard.not_subscribed when there is none, guard.opted_out when it opts out;
//   - zone (Rule G3): the zones the contacts told (their identify's context.timezone,
//     or see GuardOptions.ContactZone), else
//     the phone number's zones, else the fallback zone; guard.unknown_zone without one;
//   - window (Rule G2): at must fall in the phone's calling window in every candidate
//     zone: guard.quiet_hours, or guard.no_common_window when the zones have no hour in
//     common.
//
// The error is a [*GuardInputError] for a phone or channel that cannot be read, or an
// at that is the zero time or outside the years 1677 to 2262 (a time.Time left unset
// would otherwise be judged as year 1), or a store or context failure.
func (g *Guard) Check(ctx context.Context, phone string, channel optin.Channel, at time.Time) (Decision, error) {
	if channel != optin.SMS && channel != optin.Voice {
		return Decision{}, &GuardInputError{Field: "channel"}
	}
	if at.IsZero() || !timestamp.InRange(at) {
		return Decision{}, &GuardInputError{Field: "at"}
	}
	num, err := g.p.phones.Parse(phone, "")
	if err != nil {
		return Decision{}, &GuardInputError{Field: "phone", Err: err}
	}
	e164 := num.E164
	contacts, e, state, ok, err := phoneConsent(ctx, g.p.store, e164, channel)
	if err != nil {
		return Decision{}, err
	}
	var d Decision
	if ok {
		d.State, d.Deciding = state, &e
	}
	names := g.zones(e164, contacts)
	d.Zone = strings.Join(names, ",")
	var locs []*time.Location
	for _, n := range names {
		if loc := g.location(n); loc != nil {
			locs = append(locs, loc)
		}
	}
	switch {
	case d.State == optin.StateNone:
		d.Reason = diag.GuardNotSubscribed
		return d, nil
	case d.State != optin.StateSubscribed:
		d.Reason = diag.GuardOptedOut
		return d, nil
	case len(locs) == 0:
		d.Reason = diag.GuardUnknownZone
		return d, nil
	}
	w := callwindow.Check(g.opts.Windows.For(e164), at, locs)
	d.Allowed, d.NextAllowed = w.Allowed, w.Next
	switch {
	case w.Allowed:
	case w.Next.IsZero():
		d.Reason = diag.GuardNoCommonWindow
	default:
		d.Reason = diag.GuardQuietHours
	}
	return d, nil
}

// zones returns the candidate zone names of a phone (Rule G3), sorted.
func (g *Guard) zones(e164 string, contacts []*contact.Contact) []string {
	var names []string
	zoneOf := g.opts.ContactZone
	if zoneOf == nil {
		zoneOf = (*contact.Contact).TimeZone
	}
	for _, c := range contacts {
		if z := zoneOf(c); z != "" && g.location(z) != nil && !slices.Contains(names, z) {
			names = append(names, z)
		}
	}
	if len(names) > 0 {
		slices.Sort(names)
		return names
	}
	names, ok := g.numberZones.Get(e164)
	if !ok {
		names = identity.PhoneTimeZones(e164) // sorted
		g.numberZones.Add(e164, names)
	}
	if len(names) == 0 && g.opts.FallbackZone != "" {
		names = []string{g.opts.FallbackZone}
	}
	return names
}

// location returns the zone named name, loading it once; nil when the zone database
// does not know it.
func (g *Guard) location(name string) *time.Location {
	g.mu.Lock()
	defer g.mu.Unlock()
	if loc, ok := g.locs[name]; ok {
		return loc
	}
	if !ianaZone(name) {
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = nil // an unknown name is kept too, up to a bound: names come from contacts
	}
	if loc != nil || len(g.locs) < maxUnknownZones {
		g.locs[name] = loc
	}
	return loc
}

// maxUnknownZones bounds the zone names the Guard remembers: the names of real zones
// are a few hundred, and any other a contact tells is remembered as unknown until the
// map holds this many.
const maxUnknownZones = 4096

// ianaZone reports whether name may name a zone of the IANA database (Rule G3): the
// shape of one (no ".", so no path of the host's own), and none of the names a zone
// directory holds beside its zones, which give the host's own zone ("Local",
// "localtime"), a placeholder ("Factory") or the zones again under other rules
// ("posixrules", "posix/...", "right/...", whose clocks count leap seconds), so that
// the answer would depend on the machine. Letter case is ignored in those names, as a
// case-insensitive file system would.
func ianaZone(name string) bool {
	if !contactcore.ZoneName(name) {
		return false
	}
	for _, host := range [...]string{"Local", "localtime", "posixrules", "Factory"} {
		if strings.EqualFold(name, host) {
			return false
		}
	}
	for _, dir := range [...]string{"posix/", "right/"} {
		if len(name) >= len(dir) && strings.EqualFold(name[:len(dir)], dir) {
			return false
		}
	}
	return true
}
