package webhookserver

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/trigger"
)

// loadTriggers reads one trigger in its JSON form (Rule J1) from each file. An error
// names the file and, for a trigger that is not well formed, the field.
func loadTriggers(paths []string) ([]*trigger.Trigger, error) {
	var out []*trigger.Trigger
	byName := map[string]string{}
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("trigger file %s: %w", path, err)
		}
		t, err := trigger.Decode(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("trigger file %s: %w", path, err)
		}
		if other, ok := byName[t.Name]; ok {
			return nil, fmt.Errorf("trigger file %s: field name: %q is the name of the trigger in %s too", path, t.Name, other)
		}
		byName[t.Name] = path
		out = append(out, t)
	}
	return out, nil
}

// DueLine is one line of GET /triggers/{name}/due.
type DueLine struct {
	ContactID string    `json:"contactId"`
	UserID    string    `json:"userId"`
	DueAt     time.Time `json:"dueAt"`
	Entry     DueEntry  `json:"entry"`
}

// DueEntry is the entry event of a DueLine.
type DueEntry struct {
	MessageID string    `json:"messageId"`
	Timestamp time.Time `json:"timestamp"`
}

// handleTriggers adds GET /triggers/{name}/due: the contacts due for the trigger at the
// time the query's "at" names (RFC 3339; now when absent), one JSON document a line,
// sorted by dueAt then contactId (Rule J3). 404 for an unknown trigger, 400 for a bad
// "at" (see queryTime).
func (s *server) handleTriggers(mux *http.ServeMux, triggers []*trigger.Trigger) {
	mux.HandleFunc("GET /triggers/{name}/due", func(w http.ResponseWriter, r *http.Request) {
		i := slices.IndexFunc(triggers, func(t *trigger.Trigger) bool { return t.Name == r.PathValue("name") })
		if i < 0 {
			writeJSON(w, http.StatusNotFound, refusal(http.StatusNotFound, "no trigger has this name"))
			return
		}
		at, ok := queryTime(w, r.URL.Query())
		if !ok {
			return
		}
		var lines []DueLine
		for d, err := range regalkit.Evaluate(r.Context(), s.store, triggers[i], at) {
			if err != nil {
				s.fail(w, r, err)
				return
			}
			lines = append(lines, DueLine{ContactID: d.ContactID, UserID: d.UserID, DueAt: d.DueAt.UTC(),
				Entry: DueEntry{MessageID: d.Entry.MessageID, Timestamp: d.Entry.Time.UTC()}})
		}
		slices.SortFunc(lines, func(a, b DueLine) int {
			return cmp.Or(a.DueAt.Compare(b.DueAt), cmp.Compare(a.ContactID, b.ContactID))
		})
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		for _, l := range lines {
			if err := enc.Encode(l); err != nil {
				return // the client went away
			}
		}
	})
}
