package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/internal/webhookserver"
)

// regalRecorder is a fake Regal Events API that records what it is sent.
type regalRecorder struct {
	mu      sync.Mutex
	bodies  []map[string]any
	auth    []string
	delay   time.Duration
	arrived chan struct{}
}

func (r *regalRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if r.arrived != nil {
		select {
		case r.arrived <- struct{}{}:
		default:
		}
	}
	time.Sleep(r.delay)
	if req.URL.Path != "/events" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	b, _ := io.ReadAll(req.Body)
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	r.mu.Lock()
	r.bodies = append(r.bodies, body)
	r.auth = append(r.auth, req.Header.Get("Authorization"))
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (r *regalRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

func outboxOf(t *testing.T, base string) webhookserver.OutboxCounts {
	t.Helper()
	rep := send(t, http.MethodGet, base+"/outbox", "")
	require.Equal(t, http.StatusOK, rep.status, string(rep.body))
	var c webhookserver.OutboxCounts
	require.NoError(t, json.Unmarshal(rep.body, &c))
	return c
}

func TestRun_forwardsToRegal(t *testing.T) {
	rec := &regalRecorder{}
	regal := httptest.NewServer(rec)
	defer regal.Close()
	s := start(t, "-regal-key", "secret-key", "-regal-url", regal.URL+"/events")
	identify := `{"type":"identify","messageId":"f-1","userId":"u-fwd","timestamp":"2024-03-01T12:00:00Z","traits":{"firstName":"Ada","phone":"+19545552399"}}`
	require.Equal(t, http.StatusOK, send(t, http.MethodPost, s.base+"/", identify).status)
	require.Equal(t, http.StatusOK, send(t, http.MethodPost, s.base+"/", trackMsg("f-2", "u-fwd", "Signed Up")).status)
	require.Eventually(t, func() bool { return rec.count() == 2 }, 10*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return outboxOf(t, s.base).Sent == 2 }, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, webhookserver.OutboxCounts{Sent: 2}, outboxOf(t, s.base))

	rec.mu.Lock()
	assert.Equal(t, []string{"secret-key", "secret-key"}, rec.auth, "the key raw in Authorization")
	assert.Equal(t, "u-fwd", rec.bodies[0]["userId"])
	assert.Nil(t, rec.bodies[0]["name"], "the identify is a trait-only update")
	assert.Equal(t, "Signed Up", rec.bodies[1]["name"])
	assert.Equal(t, "Ada", rec.bodies[1]["traits"].(map[string]any)["firstName"], "with the contact as it is")
	rec.mu.Unlock()

	assert.Equal(t, http.StatusMethodNotAllowed, send(t, http.MethodPost, s.base+"/outbox", "{}").status)
	require.NoError(t, s.stop(t))
}

func TestRun_outboxIsOffWithoutKey(t *testing.T) {
	s := start(t)
	assert.Equal(t, http.StatusNotFound, send(t, http.MethodGet, s.base+"/outbox", "").status)
}

// sendInFlight starts a server that forwards to a Regal taking 300 ms an answer, posts
// a track of userID, and returns once that track's send has reached Regal.
func sendInFlight(t *testing.T, userID string) (*regalRecorder, *server) {
	t.Helper()
	rec := &regalRecorder{delay: 300 * time.Millisecond, arrived: make(chan struct{}, 1)}
	regal := httptest.NewServer(rec)
	t.Cleanup(regal.Close)
	s := start(t, "-regal-key", "k", "-regal-url", regal.URL+"/events/")
	require.Equal(t, http.StatusOK, send(t, http.MethodPost, s.base+"/", trackMsg(userID+"-1", userID, "Signed Up")).status)
	select {
	case <-rec.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("nothing was forwarded")
	}
	return rec, s
}

func TestRun_shutdownDrainsTheForwarder(t *testing.T) {
	rec, s := sendInFlight(t, "u-drain")
	require.NoError(t, s.stop(t), "the send in flight finished within the deadline")
	assert.Equal(t, 1, rec.count(), "the send in flight was finished, not cut off")
	assert.Contains(t, s.stderr.String(), "forwarder stopped")
	assert.Contains(t, s.stderr.String(), "pending=0")
}

// TestRun_shutdownSendsWhatTheLastRequestsEnqueued: an entry a request enqueued behind
// its contact's send in flight goes out before the server stops, rather than being lost
// with the memory store.
func TestRun_shutdownSendsWhatTheLastRequestsEnqueued(t *testing.T) {
	rec, s := sendInFlight(t, "u-z")
	require.Equal(t, http.StatusOK, send(t, http.MethodPost, s.base+"/", trackMsg("u-z-2", "u-z", "Loan Signed")).status)
	require.NoError(t, s.stop(t))
	assert.Equal(t, 2, rec.count(), "both events reached Regal")
	assert.Contains(t, s.stderr.String(), "pending=0")
}

func TestRun_regalURLUsage(t *testing.T) {
	for _, u := range []string{"ftp://regal.example/events", "https://regal.example/", "https://regal.example/events?x=1", "::"} {
		var stderr bytes.Buffer
		err := run(context.Background(), []string{"-regal-key", "k", "-regal-url", u}, io.Discard, &stderr)
		assert.ErrorIs(t, err, webhookserver.ErrUsage, u)
		assert.Contains(t, stderr.String(), "-regal-url", u)
	}
}
