package webhookserver

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	_ "time/tzdata" // the zones of Rule G3, also where the machine has no zone database

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/optin"
)

// GuardAnswer is the body of GET /guard (Rule G4).
type GuardAnswer struct {
	Allowed     bool   `json:"allowed"`
	Reason      string `json:"reason,omitempty"`
	NextAllowed string `json:"nextAllowed,omitempty"`
	Zone        string `json:"zone,omitempty"`
	State       string `json:"state"`
}

// handleGuard adds GET /guard?phone=...&channel=sms&at=RFC3339 to mux: may the phone be
// reached on the channel (sms, the default, or voice) at the instant (now by default)?
// It answers 200 with the Guard's decision, and 400 for a phone, channel or instant
// that cannot be read.
func (s *server) handleGuard(mux *http.ServeMux, p *regalkit.Processor) {
	g := p.Guard(nil)
	mux.HandleFunc("GET /guard", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if !single(w, q, "phone") || !single(w, q, "channel") {
			return
		}
		ch := optin.SMS
		if v := q.Get("channel"); v != "" {
			c, ok := optin.ParseChannel(v)
			if !ok || c == optin.Email {
				writeJSON(w, http.StatusBadRequest, refusal(http.StatusBadRequest, "channel must be sms or voice"))
				return
			}
			ch = c
		}
		at, ok := queryTime(w, q)
		if !ok {
			return
		}
		if q.Get("phone") == "" {
			writeJSON(w, http.StatusBadRequest, refusal(http.StatusBadRequest, "phone: give the phone to check, as ?phone=%2B19545552399 (E.164, its + escaped) or in a national form"))
			return
		}
		d, err := g.Check(r.Context(), q.Get("phone"), ch, at)
		if errors.Is(err, regalkit.ErrGuardInput) {
			writeJSON(w, http.StatusBadRequest, refusal(http.StatusBadRequest, err.Error()))
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out := GuardAnswer{Allowed: d.Allowed, Reason: string(d.Reason), Zone: d.Zone, State: d.State.String()}
		if !d.NextAllowed.IsZero() {
			out.NextAllowed = d.NextAllowed.UTC().Format(time.RFC3339Nano) // the instant asked about keeps its fraction (G4)
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// queryTime reads the query's "at", an RFC 3339 time, as UTC; now when absent. A query
// string decodes '+' as a space, so an offset typed as "+02:00" arrives as " 02:00":
// RFC 3339 has no space, and one is read as the '+' it was. On a bad time it answers
// 400 and reports false.
func queryTime(w http.ResponseWriter, q url.Values) (time.Time, bool) {
	if !single(w, q, "at") {
		return time.Time{}, false
	}
	v := q.Get("at")
	if v == "" {
		return time.Now().UTC(), true
	}
	t, err := time.Parse(time.RFC3339Nano, strings.ReplaceAll(v, " ", "+"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, refusal(http.StatusBadRequest, "at: not an RFC 3339 time such as 2026-03-02T11:00:00Z or 2026-03-02T13:00:00%2B02:00"))
		return time.Time{}, false
	}
	return t.UTC(), true
}

// single answers 400 and reports false when the query gives the parameter more than
// once: which one was meant cannot be known, and a consent check must not guess.
func single(w http.ResponseWriter, q url.Values, name string) bool {
	if len(q[name]) > 1 {
		writeJSON(w, http.StatusBadRequest, refusal(http.StatusBadRequest, name+": given more than once; give it once"))
		return false
	}
	return true
}
