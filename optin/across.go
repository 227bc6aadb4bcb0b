package optin

import "slices"

// Across returns the record that decides addr's state on channel ch across several
// views, such as the contacts that share a phone (Rule G1), and that state: Rule C6
// over the union of their records, so the newest record decides and an opt-out wins a
// tie. A phone is subscribed only if no view holds an opt-out newer than the newest
// opt-in, or as new. ok is false when no view has a record for addr on ch.
//
// Views that hold the same record (see [Record]: a phone's register and a contact may
// both keep one) count it once, its carriers joined as a ledger joins them, so that the
// deciding entry, its messageIds included, depends only on the records and carriers
// the views hold together: not on which view holds which copy, nor on their order.
// It reads every record of the views and sorts those for addr on ch.
func Across(addr string, ch Channel, views ...View) (deciding Entry, state State, ok bool) {
	var all []Entry
	for _, v := range views {
		for _, e := range v.history {
			if e.AppliesTo == addr && e.Channel == ch && (e.Outcome == Applied || e.Outcome == Superseded) {
				all = append(all, e)
			}
		}
	}
	slices.SortFunc(all, func(a, b Entry) int { return compare(&a.Record, &b.Record) })
	for i := 0; i < len(all); {
		e := all[i]
		j := i + 1
		for ; j < len(all) && compare(&all[j].Record, &e.Record) == 0; j++ {
			e.Record = join(e.Record, all[j].Record)
		}
		if !ok || decides(&e.Record, &deciding.Record) {
			deciding, ok = e, true
		}
		i = j
	}
	if !ok {
		return Entry{}, StateNone, false
	}
	deciding.Outcome = Applied // it decides, whatever it was in the view it came from
	if deciding.Subscribed {
		return deciding, StateSubscribed, true
	}
	return deciding, StateUnsubscribed, true
}
