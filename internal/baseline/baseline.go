// Package baseline is the loop a competent developer writes in an afternoon to turn
// Segment traffic into profiles, kept as the yardstick regalkit's throughput is measured
// against (BENCHMARKS.md): encoding/json into maps, libphonenumber on every phone, one
// mutex, a map per profile, events appended to a slice, dedupe by messageId.
//
// It implements none of the ordering, consent or identity rules of RULES.md; it is here
// only to be fast in the obvious way.
package baseline

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// Profile is one user's traits and events.
type Profile struct {
	Traits map[string]any
	Phone  string // E.164
	OptIns []any
	Events []map[string]any
}

// Loop holds every profile. It is safe for concurrent use.
type Loop struct {
	mu       sync.Mutex
	profiles map[string]*Profile
	seen     map[string]struct{}
}

// New returns an empty Loop.
func New() *Loop {
	return &Loop{profiles: map[string]*Profile{}, seen: map[string]struct{}{}}
}

// ErrNoIdentity is a message with neither userId nor anonymousId.
var ErrNoIdentity = errors.New("baseline: message without userId or anonymousId")

// Handle applies one Segment message, given as JSON. It reports whether the message was
// new (not a re-delivery).
func (l *Loop) Handle(data []byte) (bool, error) {
	var msg map[string]any
	if err := json.Unmarshal(data, &msg); err != nil {
		return false, fmt.Errorf("baseline: %w", err)
	}
	id, _ := msg["messageId"].(string)
	key, _ := msg["userId"].(string)
	if key == "" {
		key, _ = msg["anonymousId"].(string)
	}
	if key == "" {
		return false, ErrNoIdentity
	}
	var phone string
	traits, _ := msg["traits"].(map[string]any)
	if raw, ok := traits["phone"]; ok {
		var s string
		switch v := raw.(type) {
		case string:
			s = v
		case float64:
			s = fmt.Sprintf("%.0f", v)
		}
		if num, err := phonenumbers.Parse(s, "US"); err == nil && phonenumbers.IsValidNumber(num) {
			phone = phonenumbers.Format(num, phonenumbers.E164)
		}
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if _, dup := l.seen[id]; dup && id != "" {
		return false, nil
	}
	l.seen[id] = struct{}{}
	p := l.profiles[key]
	if p == nil {
		p = &Profile{Traits: map[string]any{}}
		l.profiles[key] = p
	}
	switch msg["type"] {
	case "identify":
		for k, v := range traits {
			switch k {
			case "phone":
				if phone != "" {
					p.Phone = phone
				}
			case "optIn":
				p.OptIns = append(p.OptIns, v)
			default:
				p.Traits[k] = v
			}
		}
	default:
		p.Events = append(p.Events, msg)
	}
	return true, nil
}

// Len returns the number of profiles.
func (l *Loop) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.profiles)
}
