package contactcore

import "github.com/regalkit/regalkit/optin"

// SetKeywordConsent makes the contact's keyword records (Rule G7: the consent records
// of STOP and START replies, source optin.SourceSMSKeyword) exactly recs, and reports
// whether the contact changed. The processor calls it with the replies sent from the
// contact's phones whenever the contact or those replies change, so the records follow
// the phones whatever order messages arrive in. Every other record is kept.
func (c *Contact) SetKeywordConsent(recs []optin.Record) bool {
	// Each ledger is changed on a copy (a Ledger never writes memory it shares), so that
	// a state is copied for writing only when its records change.
	setRecords := func(c *Contact, recs []optin.Record) bool {
		l := c.shown().consent
		if !l.SetKeywordRecords(recs) {
			return false
		}
		c.writeState().consent = l
		return true
	}
	changed := setRecords(c, recs)
	for _, p := range c.parts {
		setRecords(p, nil) // a former External ID's part keeps none: they are the contact's
	}
	if c.own != nil {
		// Kept in the contact's own state too, so that showing it again (after a held
		// message moves, Rule I4) starts from the same records.
		c.writeOwn().consent.SetKeywordRecords(recs)
	}
	return changed
}
