package optin

// Across returns the record that decides addr's state on channel ch across several
// views, such as the contacts that share a phone (Rule G1), and that state: Rule C6
// over the union of their records, so the newest record decides and an opt-out wins a
// tie. A phone is subscribed only if no view holds an opt-out newer than the newest
// opt-in, or as new. ok is false when no view has a record for addr on ch.
func Across(addr string, ch Channel, views ...View) (deciding Entry, state State, ok bool) {
	for _, v := range views {
		e, found := v.Current(addr, ch)
		if !found {
			continue
		}
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
