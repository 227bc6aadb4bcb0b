package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/regalio"
)

// recordingRegal is a fake Regal Events API that answers 200 to everything and
// records, per userId, the "n" property of each event in the order they arrived.
type recordingRegal struct {
	srv *httptest.Server

	mu       sync.Mutex
	events   map[string][]int
	requests int
}

func newRecordingRegal(t *testing.T) *recordingRegal {
	r := &recordingRegal{events: map[string][]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var b struct {
			UserID     string `json:"userId"`
			Name       string `json:"name"`
			Properties struct {
				N int `json:"n"`
			} `json:"properties"`
		}
		raw, _ := io.ReadAll(req.Body)
		if req.Header.Get("Authorization") != "key" || req.URL.Path != "/events" || json.Unmarshal(raw, &b) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.requests++
		if b.Name != "" {
			r.events[b.UserID] = append(r.events[b.UserID], b.Properties.N)
		}
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// TestTwoForwardersShareTheOutbox: two replicas, each with a Processor and a Forwarder
// on a pool of its own over one database, process one stream of messages (each user's
// messages in order, alternating between the replicas) while both forward. When
// nothing fails, the fake Regal receives every outbox entry exactly once (requests ==
// entries sent, no event twice), each user's events in order, and both Forwarders
// took part.
func TestTwoForwardersShareTheOutbox(t *testing.T) {
	const users, events = 12, 15
	schema := testSchema(t)
	regal := newRecordingRegal(t)
	type replica struct {
		store *Store
		p     *regalkit.Processor
		fw    *regalkit.Forwarder
	}
	var reps [2]replica
	for i := range reps {
		s := openStore(t, testPool(t, schema, nil), nil)
		client := regalio.NewClient("key", &regalio.ClientOptions{BaseURL: regal.srv.URL})
		fw, err := regalkit.NewForwarder(s, client, &regalkit.ForwarderOptions{Parallel: 4, Lease: time.Minute, Poll: 5 * time.Millisecond})
		require.NoError(t, err)
		reps[i] = replica{store: s, p: regalkit.New(s, &regalkit.Options{Outbox: true}), fw: fw}
	}
	for _, r := range reps {
		r.fw.Start()
	}
	t.Cleanup(func() {
		for _, r := range reps {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = r.fw.Stop(ctx)
			cancel()
		}
	})

	ts := func(n int) string { return time.Date(2026, 1, 1, 0, n, 0, 0, time.UTC).Format(time.RFC3339) }
	var wg sync.WaitGroup
	for u := range users {
		wg.Go(func() {
			userID := fmt.Sprintf("u%02d", u)
			msgs := []string{fmt.Sprintf(`{"type":"identify","messageId":"%s-id","userId":"%s","timestamp":"%s","traits":{"phone":"+1954555%04d"}}`,
				userID, userID, ts(0), 2000+u)}
			for n := 1; n <= events; n++ {
				msgs = append(msgs, fmt.Sprintf(`{"type":"track","messageId":"%s-%d","userId":"%s","event":"Step","timestamp":"%s","properties":{"n":%d}}`,
					userID, n, userID, ts(n), n))
			}
			for i, m := range msgs {
				r := reps[(u+i)%2]
				_, err := r.p.ProcessBytes(context.Background(), []byte(m))
				assert.NoError(t, err)
				r.fw.Notify()
			}
		})
	}
	wg.Wait()

	deadline := time.Now().Add(30 * time.Second)
	var st regalkit.ForwarderStats
	for {
		var err error
		st, err = reps[0].fw.Stats(context.Background())
		require.NoError(t, err)
		if st.Pending == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.Zero(t, st.Pending, "the outbox drained: %+v", st)
	assert.Zero(t, st.Dead)
	assert.GreaterOrEqual(t, st.Sent, users*(events+1), "an entry per message at least")

	var delivered [2]int64
	for i, r := range reps {
		s, err := r.fw.Stats(context.Background())
		require.NoError(t, err)
		delivered[i] = s.Delivered
		assert.Zero(t, s.LeaseLost+s.Unknown+s.Retried+s.Parked+s.Skipped, "replica %d: nothing failed or skipped", i)
	}
	t.Logf("entries %d: replica 0 settled %d, replica 1 settled %d", st.Sent, delivered[0], delivered[1])
	assert.Positive(t, delivered[0], "replica 0 forwarded some")
	assert.Positive(t, delivered[1], "replica 1 forwarded some")
	assert.Equal(t, int64(st.Sent), delivered[0]+delivered[1], "every entry delivered by one replica")

	regal.mu.Lock()
	defer regal.mu.Unlock()
	assert.Equal(t, int(delivered[0]+delivered[1]), regal.requests, "one request per entry: nothing sent twice")
	want := make([]int, events)
	for n := range want {
		want[n] = n + 1
	}
	for u := range users {
		userID := fmt.Sprintf("u%02d", u)
		assert.Equal(t, want, regal.events[userID], "%s: every event once, in order", userID)
	}
}
