package optin

// Across returns the record that decides addr's state on channel ch across several
// views, such as the contacts that share a phone (Rule G1), and that state: Rule C6
// over the union of their records, so the newest record decides and an opt-out wins a
// tie. A phone is subscribed only if no view holds an opt-out newer than the newest
// opt-in, or as new. ok is false when no view has a record for addr on ch.
//
// Views that hold the same record (see [Record]: a phone's register and a contact may
// both keep one) count it once, its carriers joined as a ledger joins them, so that the
// deciding entry, its messageIds included, is the same whichever copies the views hold
// and in whatever order they are given.
func Across(addr string, ch Channel, views ...View) (deciding Entry, state State, ok bool) {
	var current []Entry // one a record, copies joined
	for _, v := range views {
		e, found := v.Current(addr, ch)
		if !found {
			continue
		}
		joined := false
		for i := range current {
			if compare(&current[i].Record, &e.Record) == 0 {
				current[i].Record = join(current[i].Record, e.Record)
				joined = true
				break
			}
		}
		if !joined {
			current = append(current, e)
		}
	}
	for _, e := range current {
		if !ok || decides(&e.Record, &deciding.Record) {
			deciding, ok = e, true
		}
	}
	switch {
	case !ok:
		return Entry{}, StateNone, false
	case deciding.Subscribed:
		return deciding, StateSubscribed, true
	}
	return deciding, StateUnsubscribed, true
}
