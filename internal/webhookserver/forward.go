package webhookserver

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/regalio"
)

// defaultRegalURL is Regal's Events API endpoint.
const defaultRegalURL = regalio.DefaultBaseURL + "/events"

// forwardFlags are the command line's settings for forwarding to Regal.
type forwardFlags struct {
	key string // -regal-key: Regal's API key; empty turns forwarding off
	url string // -regal-url: the full Events API endpoint
}

func (f forwardFlags) on() bool { return f.key != "" }

// baseURL returns the regalio.ClientOptions.BaseURL of the -regal-url endpoint: the
// endpoint without its final "/events".
func (f forwardFlags) baseURL() (string, error) {
	u, err := url.Parse(f.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("-regal-url must be an http or https URL")
	}
	base, ok := strings.CutSuffix(strings.TrimRight(f.url, "/"), "/events")
	if !ok || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("-regal-url must be the Events API endpoint, ending in /events")
	}
	return base, nil
}

// newForwarder returns a Forwarder that sends store's outbox to Regal as f says.
func newForwarder(store contact.Store, f forwardFlags, logger *slog.Logger) (*regalkit.Forwarder, error) {
	base, err := f.baseURL()
	if err != nil {
		return nil, err
	}
	client := regalio.NewClient(f.key, &regalio.ClientOptions{BaseURL: base})
	return regalkit.NewForwarder(store, client, &regalkit.ForwarderOptions{Logger: logger})
}

// OutboxCounts is the answer of GET /outbox. On a store whose outbox several replicas
// share (contact/pgstore), the counts are across every replica.
type OutboxCounts struct {
	Pending              int   `json:"pending"`
	Sent                 int   `json:"sent"`
	Dead                 int   `json:"dead"`
	OldestPendingSeconds int64 `json:"oldestPendingSeconds"`
}

// withOutbox serves GET /outbox with the forwarder's counts, and passes every other
// request to next; after a POST it tells the forwarder that entries may be due.
func (s *server) withOutbox(next http.Handler, fw *regalkit.Forwarder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/outbox" {
			next.ServeHTTP(w, r)
			if r.Method == http.MethodPost {
				fw.Notify()
			}
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", http.MethodGet)
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
			return
		}
		st, err := fw.Stats(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, OutboxCounts{
			Pending: st.Pending, Sent: st.Sent, Dead: st.Dead,
			OldestPendingSeconds: int64(st.OldestPendingAge / time.Second),
		})
	})
}

// drain stops the forwarder, letting its sends in flight finish until ctx ends. Where
// replicas share the outbox, what it leaves pending another replica's Forwarder claims
// once the leases end.
func (s *server) drain(ctx context.Context, fw *regalkit.Forwarder) error {
	s.logger.Info(s.name + ": draining the forwarder")
	err := fw.Stop(ctx)
	if st, serr := fw.Stats(context.Background()); serr == nil {
		s.logger.Info(s.name+": forwarder stopped", slog.Int("pending", st.Pending), slog.Int("dead", st.Dead),
			slog.Int64("delivered", st.Delivered), slog.Int64("unknownOutcomes", st.Unknown))
	}
	return err
}
