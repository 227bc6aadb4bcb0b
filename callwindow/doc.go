// Package callwindow decides when a person may be called or texted: the hours of the
// calling window in the person's local time (Rule G2), per-region overrides of those
// hours, and the intersection of the windows of several candidate time zones when the
// person's zone is not known for sure (Rule G3).
//
// Everything here is a pure function of its arguments: no clock, no store, no time
// zone database lookups beyond the *time.Location values the caller passes. The root
// package's Guard gathers the facts (consent, zones) and asks this package.
//
//	table := callwindow.Table{Overrides: map[string]callwindow.Window{"+1305": evening}}
//	w := table.For("+13055550100")             // or callwindow.Default
//	d := callwindow.Check(w, time.Now(), zones) // zones: the phone's candidate zones
//	if !d.Allowed {
//		// wait until d.Next (zero: the zones never share a lawful hour)
//	}
//
// # Windows
//
// A [Window] is a daily span of local wall-clock time, [Start, End). The default is
// 8:00 to 21:00, the hours 47 CFR 64.1200(c)(1) allows. A [Table] maps E.164 prefixes
// (a country code such as "+1", an area code such as "+1305") to their own windows,
// the longest prefix winning, for states whose laws end earlier.
//
// # Time zones and daylight saving
//
// Windows are wall-clock hours, so 8:00 stays 8:00 across a daylight-saving change:
// the window of a transition day is 13 hours of local clock, 12 or 14 hours of real
// time apart from the hour that is skipped or repeated at night.
package callwindow
