package callwindow_test

import (
	"errors"
	"fmt"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the machine's zone database

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/callwindow"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestCheck_RuleG2G3 checks the default window in real US zones, on ordinary days and
// on the days daylight saving starts (2026-03-08) and ends (2026-11-01), and the
// intersection of several zones.
func TestCheck_RuleG2G3(t *testing.T) {
	ny, la, chi, phx := zone(t, "America/New_York"), zone(t, "America/Los_Angeles"), zone(t, "America/Chicago"), zone(t, "America/Phoenix")
	tests := []struct {
		name    string
		at      string
		zones   []*time.Location
		allowed bool
		next    string // RFC 3339; "" for zero
	}{
		{"new york noon", "2026-06-10T16:00:00Z", []*time.Location{ny}, true, "2026-06-10T16:00:00Z"},
		{"new york 7:59", "2026-06-10T11:59:00Z", []*time.Location{ny}, false, "2026-06-10T12:00:00Z"},
		{"new york 8:00 opens", "2026-06-10T12:00:00Z", []*time.Location{ny}, true, "2026-06-10T12:00:00Z"},
		{"new york 21:00 closed", "2026-06-11T01:00:00Z", []*time.Location{ny}, false, "2026-06-11T12:00:00Z"},
		{"new york 20:59:59", "2026-06-11T00:59:59Z", []*time.Location{ny}, true, "2026-06-11T00:59:59Z"},
		{"los angeles 6:00", "2026-06-10T13:00:00Z", []*time.Location{la}, false, "2026-06-10T15:00:00Z"},
		{"chicago 20:30", "2026-01-15T02:30:00Z", []*time.Location{chi}, true, "2026-01-15T02:30:00Z"},
		// Phoenix keeps MST all year: 8:00 is 15:00Z in summer and winter alike.
		{"phoenix summer 7:30", "2026-07-01T14:30:00Z", []*time.Location{phx}, false, "2026-07-01T15:00:00Z"},
		{"phoenix winter 7:30", "2026-01-01T14:30:00Z", []*time.Location{phx}, false, "2026-01-01T15:00:00Z"},
		// DST starts in New York on 2026-03-08 at 2:00: the window opens at 8:00 EDT = 12:00Z,
		// the day before at 8:00 EST = 13:00Z.
		{"dst start day 7:30 EDT", "2026-03-08T11:30:00Z", []*time.Location{ny}, false, "2026-03-08T12:00:00Z"},
		{"day before dst 7:30 EST", "2026-03-07T12:30:00Z", []*time.Location{ny}, false, "2026-03-07T13:00:00Z"},
		{"night before dst start", "2026-03-08T03:00:00Z", []*time.Location{ny}, false, "2026-03-08T12:00:00Z"},
		// DST ends on 2026-11-01 at 2:00: 8:00 EST = 13:00Z; 21:00 EST = 02:00Z next day.
		{"dst end day 8:30 EST", "2026-11-01T13:30:00Z", []*time.Location{ny}, true, "2026-11-01T13:30:00Z"},
		{"dst end day 7:30 EST", "2026-11-01T12:30:00Z", []*time.Location{ny}, false, "2026-11-01T13:00:00Z"},
		{"dst end day 20:30 EST", "2026-11-02T01:30:00Z", []*time.Location{ny}, true, "2026-11-02T01:30:00Z"},
		// Several zones: only where every one is in its window.
		{"ny and la at ny 10:00", "2026-06-10T14:00:00Z", []*time.Location{ny, la}, false, "2026-06-10T15:00:00Z"},
		{"ny and la at ny 13:00", "2026-06-10T17:00:00Z", []*time.Location{ny, la}, true, "2026-06-10T17:00:00Z"},
		{"ny and la at ny 21:30", "2026-06-11T01:30:00Z", []*time.Location{ny, la}, false, "2026-06-11T15:00:00Z"},
		{"no zones", "2026-06-10T16:00:00Z", nil, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := callwindow.Check(callwindow.Default, utc(tc.at), tc.zones)
			assert.Equal(t, tc.allowed, d.Allowed)
			if tc.next == "" {
				assert.True(t, d.Next.IsZero(), "next %v", d.Next)
			} else {
				assert.True(t, utc(tc.next).Equal(d.Next), "next %v, want %s", d.Next, tc.next)
			}
		})
	}
}

// TestCheck_NoCommonWindow: zones too far apart have no instant in common (Rule G3).
// Two 13-hour default windows always overlap; 9:00-17:00 in New York and Tokyo never do.
func TestCheck_NoCommonWindow(t *testing.T) {
	d := callwindow.Check(callwindow.Window{Start: callwindow.At(9, 0), End: callwindow.At(17, 0)}, utc("2026-06-10T16:00:00Z"),
		[]*time.Location{zone(t, "America/New_York"), zone(t, "Asia/Tokyo")})
	assert.False(t, d.Allowed)
	assert.True(t, d.Next.IsZero())
}

// TestTable_RuleG2 checks the override table: the longest prefix wins.
func TestTable_RuleG2(t *testing.T) {
	tb := callwindow.Table{Overrides: map[string]callwindow.Window{
		"+1":     {Start: callwindow.At(9, 0), End: callwindow.At(20, 0)},
		"+1305":  {Start: callwindow.At(8, 0), End: callwindow.At(20, 0)},
		"+13055": {Start: callwindow.At(10, 0), End: callwindow.At(18, 30)},
	}}
	require.NoError(t, tb.Validate())
	assert.Equal(t, "09:00-20:00", tb.For("+19175554444").String())
	assert.Equal(t, "08:00-20:00", tb.For("+13054441234").String())
	assert.Equal(t, "10:00-18:30", tb.For("+13055551234").String())
	assert.Equal(t, "08:00-21:00", tb.For("+442071838750").String())
	assert.Equal(t, callwindow.Default, callwindow.Table{}.For("+19175554444"))

	for name, bad := range map[string]callwindow.Table{
		"default backwards": {Default: callwindow.Window{Start: callwindow.At(21, 0), End: callwindow.At(8, 0)}},
		"bad prefix":        {Overrides: map[string]callwindow.Window{"1305": callwindow.Default}},
		"empty window":      {Overrides: map[string]callwindow.Window{"+1": {Start: callwindow.At(8, 0), End: callwindow.At(8, 0)}}},
		"past midnight":     {Overrides: map[string]callwindow.Window{"+1": {Start: callwindow.At(8, 0), End: callwindow.At(25, 0)}}},
	} {
		err := bad.Validate()
		assert.True(t, errors.Is(err, callwindow.ErrWindow), "%s: %v", name, err)
		var we *callwindow.WindowError
		assert.True(t, errors.As(err, &we), name)
	}
}

// TestWindow_Contains_Override: an earlier end applies in local time.
func TestWindow_Contains_Override(t *testing.T) {
	w := callwindow.Window{Start: callwindow.At(8, 0), End: callwindow.At(20, 0)}
	ny := zone(t, "America/New_York")
	assert.True(t, w.Contains(utc("2026-06-10T23:59:00Z"), ny))  // 19:59 EDT
	assert.False(t, w.Contains(utc("2026-06-11T00:00:00Z"), ny)) // 20:00 EDT
	d := callwindow.Check(w, utc("2026-06-11T00:30:00Z"), []*time.Location{ny})
	assert.Equal(t, utc("2026-06-11T12:00:00Z"), d.Next)
}

func ExampleCheck() {
	ny, _ := time.LoadLocation("America/New_York")
	at := time.Date(2026, 6, 10, 11, 30, 0, 0, time.UTC) // 7:30 in New York
	d := callwindow.Check(callwindow.Default, at, []*time.Location{ny})
	fmt.Println(d.Allowed, d.Next.In(ny).Format("15:04 MST"))
	// Output: false 08:00 EDT
}

// TestCheck_MidnightDaylightSaving: where daylight saving starts at midnight (Havana,
// 2026-03-08: 23:59 is followed by 01:00), a window ending at 24:00 keeps its last hour
// on the day before, and one starting at 00:00 opens when the day's first hour does.
func TestCheck_MidnightDaylightSaving(t *testing.T) {
	havana := []*time.Location{zone(t, "America/Havana")}
	late := callwindow.Window{Start: callwindow.At(8, 0), End: callwindow.At(24, 0)}
	assert.True(t, callwindow.Check(late, utc("2026-03-08T04:30:00Z"), havana).Allowed, "23:30 on March 7")
	assert.False(t, callwindow.Check(late, utc("2026-03-08T05:30:00Z"), havana).Allowed, "01:30 on March 8")
	early := callwindow.Window{Start: callwindow.At(0, 0), End: callwindow.At(6, 0)}
	r := callwindow.Check(early, utc("2026-03-08T03:00:00Z"), havana) // 22:00 on March 7
	require.False(t, r.Allowed)
	assert.Equal(t, utc("2026-03-08T05:00:00Z"), r.Next.UTC(), "opens at 01:00 CDT, the first instant of March 8")
}

// TestCheck_windowEndingInTheGap: a window that ends at a wall-clock time a
// daylight-saving change skips (02:30 on New York's spring-forward day, when 01:59 is
// followed by 03:00) closes when the gap ends, at 03:00, not an hour after 02:30.
func TestCheck_windowEndingInTheGap(t *testing.T) {
	ny := []*time.Location{zone(t, "America/New_York")}
	w := callwindow.Window{Start: callwindow.At(1, 0), End: callwindow.At(2, 30)}
	assert.True(t, callwindow.Check(w, utc("2026-03-08T06:45:00Z"), ny).Allowed, "01:45 EST")
	assert.False(t, callwindow.Check(w, utc("2026-03-08T07:00:00Z"), ny).Allowed, "03:00 EDT: the gap is over, and the window with it")
	assert.False(t, callwindow.Check(w, utc("2026-03-08T07:15:00Z"), ny).Allowed, "03:15 EDT")
}

// TestCheck_RuleG2_repeatedAndSkippedTimes: the window is wall-clock hours (G2), so a
// time a change back of the clocks repeats is out of the window both times when it is
// out, and the window opens at the first occurrence of its Start (G4); a Start a change
// forward skips opens at the first instant after the gap, whatever the zone's offset.
func TestCheck_RuleG2_repeatedAndSkippedTimes(t *testing.T) {
	casey := zone(t, "Antarctica/Casey") // +11 to +8 at midnight on 2021-03-14
	d := callwindow.Check(callwindow.Default, utc("2021-03-13T12:30:00Z"), []*time.Location{casey})
	assert.False(t, d.Allowed, "23:30 local, whichever 23:30 it is")
	assert.Equal(t, utc("2021-03-14T00:00:00Z"), d.Next, "08:00 at +08")

	london := zone(t, "Europe/London") // 02:00 BST back to 01:00 GMT on 2026-10-25
	early := callwindow.Window{Start: callwindow.At(0, 0), End: callwindow.At(1, 0)}
	assert.False(t, early.Contains(utc("2026-10-25T00:30:00Z"), london), "01:30 BST is after the window")
	assert.True(t, early.Contains(utc("2026-10-24T23:30:00Z"), london), "00:30 BST is in it")

	cairo := zone(t, "Africa/Cairo") // 24:00 EEST back to 23:00 EET on 2023-10-26
	late := callwindow.Window{Start: callwindow.At(23, 0), End: callwindow.At(24, 0)}
	d = callwindow.Check(late, utc("2023-10-26T12:00:00Z"), []*time.Location{cairo})
	assert.Equal(t, utc("2023-10-26T20:00:00Z"), d.Next, "the first 23:00")

	// Between the two occurrences of a repeated Start, the window opens at the second.
	ny := zone(t, "America/New_York") // 02:00 EDT back to 01:00 EST on 2026-11-01
	halfPast := callwindow.Window{Start: callwindow.At(1, 30), End: callwindow.At(2, 0)}
	assert.Equal(t, utc("2026-11-01T06:30:00Z"), callwindow.Check(halfPast, utc("2026-11-01T06:15:00Z"), []*time.Location{ny}).Next,
		"01:30 EST, the second 01:30")
	evening := callwindow.Window{Start: callwindow.At(21, 30), End: callwindow.At(22, 0)}
	assert.Equal(t, utc("2021-03-13T13:30:00Z"), callwindow.Check(evening, utc("2021-03-13T13:10:00Z"), []*time.Location{casey}).Next,
		"21:30 at +08, after 00:00 at +11 became 21:00")

	berlin := zone(t, "Europe/Berlin") // 02:00 CET forward to 03:00 CEST on 2026-03-29
	gap := callwindow.Window{Start: callwindow.At(2, 30), End: callwindow.At(21, 0)}
	assert.True(t, callwindow.Check(gap, utc("2026-03-29T01:00:00Z"), []*time.Location{berlin}).Allowed, "03:00 CEST is past 02:30")
	assert.Equal(t, utc("2026-03-29T01:00:00Z"), callwindow.Check(gap, utc("2026-03-29T00:30:00Z"), []*time.Location{berlin}).Next,
		"opens at the end of the gap")
}

// TestCheck_RuleG4_againstMinuteByMinute compares Check with a reference that steps
// minute by minute through the coming week (Rules G2–G4), for zones with daylight
// saving at midnight, half-hour and 45-minute offsets, a half-hour change (Lord Howe),
// a skipped day (Apia 2011) and changes back of three hours (Casey).
func TestCheck_RuleG4_againstMinuteByMinute(t *testing.T) {
	names := []string{"America/New_York", "Europe/London", "Europe/Berlin", "Africa/Cairo", "America/Havana",
		"America/Santiago", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Chatham", "Antarctica/Casey",
		"Pacific/Apia", "Asia/Tokyo", "America/Sao_Paulo", "Asia/Tehran"}
	locs := make([]*time.Location, len(names))
	for i, n := range names {
		locs[i] = zone(t, n)
	}
	windows := []callwindow.Window{callwindow.Default, {Start: 0, End: callwindow.At(1, 0)},
		{Start: callwindow.At(23, 0), End: callwindow.At(24, 0)}, {Start: callwindow.At(2, 30), End: callwindow.At(20, 0)},
		{Start: callwindow.At(1, 0), End: callwindow.At(2, 0)}, {Start: callwindow.At(9, 0), End: callwindow.At(17, 0)},
		// A Start inside an hour a change back repeats: the window opens twice that day.
		{Start: callwindow.At(1, 30), End: callwindow.At(2, 0)}, {Start: callwindow.At(21, 30), End: callwindow.At(22, 0)},
		{Start: callwindow.At(0, 30), End: callwindow.At(24, 0)}}
	// Instants near the zones' changes, and elsewhere.
	var instants []time.Time
	for _, loc := range locs {
		for _, at := range []string{"2011-12-29T00:00:00Z", "2021-03-13T00:00:00Z", "2023-10-26T00:00:00Z", "2026-03-07T00:00:00Z",
			"2026-03-28T00:00:00Z", "2026-04-04T00:00:00Z", "2026-09-05T00:00:00Z", "2026-10-24T00:00:00Z", "2026-11-01T00:00:00Z"} {
			start := utc(at)
			if _, end := start.In(loc).ZoneBounds(); !end.IsZero() && end.Sub(start) < 8*24*time.Hour {
				start = end.Add(-13 * time.Hour)
			}
			for h := 0; h < 26; h += 5 {
				instants = append(instants, start.Add(time.Duration(h)*time.Hour+17*time.Second))
			}
		}
	}
	reference := func(w callwindow.Window, at time.Time, zones []*time.Location) callwindow.Decision {
		in := func(x time.Time) bool {
			for _, loc := range zones {
				l := x.In(loc)
				c := callwindow.At(l.Hour(), l.Minute())
				if c < w.Start || c >= w.End {
					return false
				}
			}
			return true
		}
		if in(at) {
			return callwindow.Decision{Allowed: true, Next: at}
		}
		for x := at.Truncate(time.Minute).Add(time.Minute); x.Sub(at) <= 7*24*time.Hour; x = x.Add(time.Minute) {
			if in(x) {
				return callwindow.Decision{Next: x.UTC()}
			}
		}
		return callwindow.Decision{}
	}
	checked := 0
	for i, at := range instants {
		w := windows[i%len(windows)]
		zones := []*time.Location{locs[(i/7)%len(locs)]}
		if i%3 == 0 {
			zones = append(zones, locs[(i/5+3)%len(locs)])
		}
		want, got := reference(w, at, zones), callwindow.Check(w, at, zones)
		if !assert.Equal(t, want, got, "window %v at %s in %v", w, at, zones) {
			return
		}
		checked++
	}
	assert.Greater(t, checked, 500)
}
