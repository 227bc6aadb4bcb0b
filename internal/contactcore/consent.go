package contactcore

import (
	"math"
	"time"

	"github.com/regalkit/regalkit/optin"
)

// Consent (Rules C5–C9, A2). The contact keeps every consent record in an optin.Ledger
// and derives states from it with a binder that places records sent without a phone on
// the phone primary at their message's time (Rule C5).

// binder returns the Rule C5 binder of the contact's phones: an SMS or voice record
// from a message at time t binds to the phone primary at t (writes at t included), else
// to the first phone the contact ever got. Email records bind to the contact's email.
func (c *state) binder() optin.Binder {
	return func(ch optin.Channel, t time.Time) (string, bool) {
		if ch == optin.Email {
			return c.fields[fieldEmail].val, c.fields[fieldEmail].val != ""
		}
		p := c.phoneAt(stampOf(t, maxID))
		return p, p != ""
	}
}

// maxID sorts after every messageId, so a limit stamp at time t includes all writes at t.
var maxID = string([]byte{math.MaxUint8, math.MaxUint8, math.MaxUint8, math.MaxUint8})

// Consent returns the contact's consent ledger: every record received (Rule C7).
func (c *Contact) Consent() optin.Ledger { return c.shown().consent }

// ConsentView resolves the ledger against the contact's phones (Rule C5): each record's
// outcome and each phone's state per channel.
func (c *Contact) ConsentView() optin.View { return c.shown().consent.Resolve(c.shown().binder()) }

// AddConsent adds consent records that did not come with traits, such as those of an
// opt-in event (Rule C8), and reports how many were new.
func (c *Contact) AddConsent(records ...optin.Record) int {
	return c.AddConsentAs(c.userID, records...)
}

// AddConsentAs is [Contact.AddConsent] for the records of a message of userID, the
// External ID or a former one (Rule I5).
func (c *Contact) AddConsentAs(userID string, records ...optin.Record) int {
	if p := c.sub(userID); p != c {
		p.writeState().consent.Add(records...)
	} else if c.own != nil {
		c.writeOwn().consent.Add(records...)
	}
	return c.writeState().consent.Add(records...)
}

// Subscription returns the state of the primary phone on a channel (Rule A2); none when
// the contact has no phone. For the email channel it is the state of the email.
func (c *Contact) Subscription(ch optin.Channel) optin.State {
	addr := c.Phone()
	if ch == optin.Email {
		addr = c.shown().fields[fieldEmail].val
	}
	if addr == "" {
		return optin.StateNone
	}
	return c.ConsentView().State(addr, ch)
}
