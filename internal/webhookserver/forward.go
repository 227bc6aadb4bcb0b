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
			writeJSON(w, http.StatusMethodNotAllowed, refusal(http.StatusMethodNotAllowed, "method not allowed"))
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

// drain sends what is pending, the entries of the last requests included, for as long
// as entries keep going out (see sendPending), then stops the forwarder, letting its
// sends in flight finish until ctx ends. Where replicas share the outbox, what it
// leaves pending another replica's Forwarder claims once the leases end; in memory it
// is lost.
func (s *server) drain(ctx context.Context, fw *regalkit.Forwarder) error {
	s.logger.Info(s.name + ": draining the forwarder")
	sendPending(ctx, fw)
	err := fw.Stop(ctx)
	if st, serr := fw.Stats(context.Background()); serr == nil {
		s.logger.Info(s.name+": forwarder stopped", slog.Int("pending", st.Pending), slog.Int("dead", st.Dead),
			slog.Int64("delivered", st.Delivered), slog.Int64("unknownOutcomes", st.Unknown))
	}
	return err
}

// drainStall is how long sendPending waits for an entry to settle before it gives up
// on the rest (Regal down, say), and drainReserve the part of the shutdown time kept
// for the forwarder: the requests in flight get the rest, and sendPending leaves it to
// Forwarder.Stop for the sends in flight (variables for the tests).
var (
	drainStall   = time.Second
	drainReserve = 5 * time.Second
)

// sendPending waits while the outbox has pending entries and the Forwarder settles
// one at least every drainStall, until drainReserve before ctx's deadline: the entries
// of a contact go one at a time, so what the last requests enqueued behind a send in
// flight would otherwise wait for a next run, or be lost with the memory store.
func sendPending(ctx context.Context, fw *regalkit.Forwarder) {
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-drainReserve))
		defer cancel()
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	settled, since := int64(-1), time.Now()
	for {
		st, err := fw.Stats(ctx)
		if err != nil || st.Pending == 0 {
			return
		}
		if n := st.Delivered + st.Skipped + st.Parked; n != settled {
			settled, since = n, time.Now()
		} else if time.Since(since) > drainStall {
			return
		}
		fw.Notify()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
