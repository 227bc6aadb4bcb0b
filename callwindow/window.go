package callwindow

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/regalkit/regalkit/diag"
)

// Errors of this package: a [*WindowError] matches ErrWindow.
var ErrWindow = errors.New("callwindow: invalid window")

// WindowError says what is wrong with a window (as io/fs's PathError does for paths).
type WindowError struct {
	Prefix string // the table entry's prefix; empty for the default window
	Reason string
}

func (e *WindowError) Error() string {
	if e.Prefix == "" {
		return "callwindow: default window: " + e.Reason
	}
	return "callwindow: window of " + diag.Mask(e.Prefix) + ": " + e.Reason
}

// Unwrap returns ErrWindow.
func (e *WindowError) Unwrap() error { return ErrWindow }

// Clock is a local wall-clock time of day, in minutes after midnight (0 to 1440).
type Clock int

// At returns the clock time hour:minute.
func At(hour, minute int) Clock { return Clock(hour*60 + minute) }

// String returns the time as "hh:mm".
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// Window is the daily span of local time when calls and texts are allowed (Rule G2):
// from Start, included, to End, excluded. The zero Window is invalid; use [Default].
type Window struct {
	Start, End Clock
}

// Default is the window of 47 CFR 64.1200(c)(1): no earlier than 8 a.m. and no later
// than 9 p.m. local time (Rule G2).
var Default = Window{Start: At(8, 0), End: At(21, 0)}

// Valid reports whether 0 <= Start < End <= 24:00.
func (w Window) Valid() bool { return 0 <= w.Start && w.Start < w.End && w.End <= At(24, 0) }

// String returns the window as "08:00-21:00".
func (w Window) String() string { return w.Start.String() + "-" + w.End.String() }

// openOn returns the first instant the wall clock in loc reads the window's Start, or
// later, on a local calendar day (d may run past the month's end, as time.Date allows):
// after a gap a daylight-saving change makes, the first instant after it; where a
// change back repeats the time, its first occurrence.
func (w Window) openOn(y int, m time.Month, d int, loc *time.Location) time.Time {
	return firstOccurrence(localInstant(y, m, d, w.Start, loc))
}

// firstOccurrence returns the first instant whose wall clock reads what t's does, where
// a change back of the clocks (a zone's offset falling) repeats it: time.Date picks
// either occurrence, depending on the zone.
func firstOccurrence(t time.Time) time.Time {
	start, _ := t.ZoneBounds()
	if start.IsZero() {
		return t
	}
	_, now := t.Zone()
	_, before := start.Add(-time.Nanosecond).Zone()
	if back := before - now; back > 0 {
		if e := t.Add(-time.Duration(back) * time.Second); e.Before(start) {
			return e
		}
	}
	return t
}

// secondOccurrence returns the second instant whose wall clock reads what the first
// occurrence t reads, when a change back of the clocks after t repeats it.
func secondOccurrence(t time.Time) (time.Time, bool) {
	_, end := t.ZoneBounds()
	if end.IsZero() {
		return time.Time{}, false
	}
	_, now := t.Zone()
	_, after := end.Zone()
	if back := now - after; back > 0 {
		if s := t.Add(time.Duration(back) * time.Second); !s.Before(end) {
			return s, true
		}
	}
	return time.Time{}, false
}

// localInstant returns an instant the wall clock in loc reads c on a calendar day
// (24:00 is the next day's midnight). When a daylight-saving change skips that time
// (clocks go from 23:59 to 01:00 where a zone changes at midnight, as Havana and
// Santiago do), it returns the first instant after the gap: time.Date may give one an
// hour early instead, which would close a window ending at 24:00 at 23:00 on that day.
func localInstant(y int, m time.Month, d int, c Clock, loc *time.Location) time.Time {
	t := time.Date(y, m, d, int(c)/60, int(c)%60, 0, 0, loc)
	want := time.Date(y, m, d, int(c)/60, int(c)%60, 0, 0, time.UTC)
	l := t.In(loc)
	got := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
	if got.Before(want) {
		// t is in the zone period before the gap: the gap starts where that period
		// ends, and the first instant after it is that end (not t plus the gap's
		// length, which overshoots a time in the middle of the gap, such as 02:30).
		if _, end := t.ZoneBounds(); !end.IsZero() {
			return end
		}
	}
	return t
}

// Contains reports whether the instant t falls in the window in loc's local time: the
// wall clock there reads Start or later and before End (Rule G2: wall-clock hours, so a
// time a change back of the clocks repeats is in the window, or out of it, both times).
func (w Window) Contains(t time.Time, loc *time.Location) bool {
	l := t.In(loc)
	c := Clock(l.Hour()*60 + l.Minute())
	return w.Start <= c && c < w.End
}

// Table holds the calling windows: a default and per-region overrides keyed by E.164
// prefix, such as "+1" for a country or "+1305" for an area code (Rule G2). The zero
// Table uses [Default] everywhere.
type Table struct {
	// Default is the window of a phone no override matches; the zero Window means
	// [Default].
	Default Window
	// Overrides maps an E.164 prefix ("+" and digits) to its window. The longest prefix
	// of the phone wins. nil means none.
	Overrides map[string]Window
}

// Validate reports the first invalid window or prefix of the table, as a
// [*WindowError], or nil.
func (tb Table) Validate() error {
	if tb.Default != (Window{}) && !tb.Default.Valid() {
		return &WindowError{Reason: "start must be before end, both within the day"}
	}
	keys := make([]string, 0, len(tb.Overrides))
	for k := range tb.Overrides {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if len(k) < 2 || k[0] != '+' || strings.Trim(k[1:], "0123456789") != "" {
			return &WindowError{Prefix: "an override", Reason: "the prefix must be + and digits"}
		}
		if !tb.Overrides[k].Valid() {
			return &WindowError{Prefix: k, Reason: "start must be before end, both within the day"}
		}
	}
	return nil
}

// For returns the window of a phone in E.164: the override with the longest prefix of
// it, else the table's default.
func (tb Table) For(e164 string) Window {
	best, bestLen := tb.Default, 0
	if best == (Window{}) {
		best = Default
	}
	for k, w := range tb.Overrides {
		if len(k) > bestLen && strings.HasPrefix(e164, k) {
			best, bestLen = w, len(k)
		}
	}
	return best
}

// Decision is what [Check] decides.
type Decision struct {
	// Allowed reports that t falls in the window in every zone.
	Allowed bool
	// Next is the earliest instant at or after t that falls in the window in every zone:
	// t itself when Allowed, else in UTC; zero when no instant in the next week does (the zones'
	// windows never overlap).
	Next time.Time
}

// horizon is how far Check looks for the next allowed instant: a week (Rule G3).
const horizon = 7 * 24 * time.Hour

// Check decides whether the instant t falls in the window w in the local time of every
// zone in zones, and when it next does (Rule G3: a number whose zone is not known for
// sure may be called only when it is a lawful hour in each of its candidate zones).
// With no zones it allows nothing and Next is zero.
func Check(w Window, t time.Time, zones []*time.Location) Decision {
	if len(zones) == 0 || !w.Valid() {
		return Decision{}
	}
	if allIn(w, t, zones) {
		return Decision{Allowed: true, Next: t}
	}
	// The set of allowed instants is a union of intervals, each opening when the window
	// opens in one of the zones: its wall clock reaching Start, or a change of the
	// clocks moving it into the window. So the next allowed instant is the earliest such
	// opening after t, in any zone, that falls in the window everywhere.
	var opens []time.Time
	add := func(o time.Time) {
		if o.After(t) && o.Sub(t) <= horizon {
			opens = append(opens, o)
		}
	}
	for _, loc := range zones {
		y, m, d := t.In(loc).Date()
		for day := range 9 {
			o := w.openOn(y, m, d+day, loc)
			add(o)
			if again, ok := secondOccurrence(o); ok {
				add(again) // a change back of the clocks reached Start again
			}
		}
		for at := t; at.Sub(t) <= horizon; {
			_, end := at.In(loc).ZoneBounds()
			if end.IsZero() || !end.After(at) {
				break
			}
			add(end)
			at = end
		}
	}
	slices.SortFunc(opens, time.Time.Compare)
	for _, o := range opens {
		if allIn(w, o, zones) {
			return Decision{Next: o.UTC()}
		}
	}
	return Decision{}
}

func allIn(w Window, t time.Time, zones []*time.Location) bool {
	for _, loc := range zones {
		if !w.Contains(t, loc) {
			return false
		}
	}
	return true
}
