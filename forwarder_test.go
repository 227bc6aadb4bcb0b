package regalkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/regalio"
)

// failure is one way the fake Regal answers a request.
type failure int

const (
	answerOK        failure = iota // records the body, answers 200
	answer400                      // refuses it for good
	answer401                      // refuses the key
	answer408                      // times out, says the status
	answer429                      // too many requests, with Retry-After
	answer429Bare                  // too many requests, without Retry-After
	answer500                      // fails
	answer503                      // unavailable
	hang                           // answers nothing until the client gives up
	reset                          // resets the connection
	recordThen500                  // records the body, then fails: the acknowledgement is lost
	recordThenHang                 // records the body, then answers nothing
	recordThenReset                // records the body, then resets the connection
	numFailures
)

// lostAck reports whether the answer records the body without the client learning it.
func (a failure) lostAck() bool { return a >= recordThen500 }

// fakeRegal is Regal's Events API as a test sees it: it records the events it
// accepts, per userId in arrival order, and answers as choose says.
type fakeRegal struct {
	srv    *httptest.Server
	choose func(b body) failure

	mu       sync.Mutex
	events   map[string][]int // by userId: the "n" property of each event recorded
	bodies   []body
	recorded []string        // the attempt ids of the requests recorded
	acked    map[string]bool // the attempt ids the client got a 2xx for
	attempts atomic.Int64
	requests int
	inFlight atomic.Int32
	arrived  chan struct{} // a request arrived, when not nil
}

// body is what the fake reads of a request.
type body struct {
	UserID string `json:"userId"`
	Traits struct {
		FirstName string `json:"firstName"`
	} `json:"traits"`
	Name       string `json:"name"`
	Properties struct {
		N   int  `json:"n"`
		Bad bool `json:"bad"`
	} `json:"properties"`
}

func newFakeRegal(t *testing.T, choose func(b body) failure) *fakeRegal {
	f := &fakeRegal{choose: choose, events: map[string][]int{}, acked: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeRegal) serve(w http.ResponseWriter, r *http.Request) {
	f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	if f.arrived != nil {
		select {
		case f.arrived <- struct{}{}:
		default:
		}
	}
	if r.Header.Get("Authorization") != "key" || r.URL.Path != "/events" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var b body
	if err := json.Unmarshal(raw, &b); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	a := f.choose(b)
	if b.Properties.Bad {
		a = answer400
	}
	f.mu.Lock()
	f.requests++
	if a == answerOK || a.lostAck() {
		if b.Name != "" {
			f.events[b.UserID] = append(f.events[b.UserID], b.Properties.N)
		}
		f.bodies = append(f.bodies, b)
		f.recorded = append(f.recorded, r.Header.Get("X-Attempt"))
	}
	f.mu.Unlock()
	switch a {
	case answerOK:
		w.WriteHeader(http.StatusOK)
	case answer400:
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"bad event for +19545552399"}`)
	case answer401:
		w.WriteHeader(http.StatusUnauthorized)
	case answer408:
		w.WriteHeader(http.StatusRequestTimeout)
	case answer429:
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
	case answer429Bare:
		w.WriteHeader(http.StatusTooManyRequests)
	case answer500, recordThen500:
		w.WriteHeader(http.StatusInternalServerError)
	case answer503:
		w.WriteHeader(http.StatusServiceUnavailable)
	case hang, recordThenHang:
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	case reset, recordThenReset:
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("no hijacker")
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with RST
		}
		_ = conn.Close()
	}
}

// delivered returns, per userId, the events recorded with repeats dropped (the first
// of each kept), and the number of repeats.
func (f *fakeRegal) delivered() (map[string][]int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]int{}
	repeats := 0
	for u, ns := range f.events {
		seen := map[int]bool{}
		for _, n := range ns {
			if seen[n] {
				repeats++
				continue
			}
			seen[n] = true
			out[u] = append(out[u], n)
		}
	}
	return out, repeats
}

// lostAcks counts the requests the fake recorded whose 2xx the client never got: by
// the fake's design (it records, then fails), or because the client gave up an attempt
// while the 2xx was on its way.
func (f *fakeRegal) lostAcks() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, id := range f.recorded {
		if !f.acked[id] {
			n++
		}
	}
	return n
}

// RoundTrip numbers each attempt, and notes which got a 2xx.
func (f *fakeRegal) RoundTrip(r *http.Request) (*http.Response, error) {
	id := strconv.FormatInt(f.attempts.Add(1), 10)
	r = r.Clone(r.Context())
	r.Header.Set("X-Attempt", id)
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && resp.StatusCode/100 == 2 {
		f.mu.Lock()
		f.acked[id] = true
		f.mu.Unlock()
	}
	return resp, err
}

func (f *fakeRegal) client() *regalio.Client { return f.clientTimingOut(150 * time.Millisecond) }

// clientTimingOut is client with another AttemptTimeout: a test that counts what the
// fake recorded against what was delivered needs one no slow run can reach, or an
// attempt cut off after the fake recorded it is sent again (under -race on a loaded
// machine, a 100 ms answer took longer than 150 ms).
func (f *fakeRegal) clientTimingOut(d time.Duration) *regalio.Client {
	return regalio.NewClient("key", &regalio.ClientOptions{
		BaseURL: f.srv.URL, HTTPClient: &http.Client{Transport: f}, Rate: rate.Inf, MaxAttempts: 3, AttemptTimeout: d,
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxRetryAfter: 10 * time.Millisecond,
	})
}

func fastForwarding(lease time.Duration) *regalkit.ForwarderOptions {
	return &regalkit.ForwarderOptions{Parallel: 8, Lease: lease, Poll: 10 * time.Millisecond,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 40 * time.Millisecond}
}

// workload processes, for each of users users, an identify with a phone and then
// events tracks numbered 1..events (event times in that order); the events whose
// number bad reports true are refused by the fake Regal for good.
func workload(t *testing.T, p *regalkit.Processor, users, events int, bad func(n int) bool) {
	t.Helper()
	var wg sync.WaitGroup
	for u := range users {
		wg.Go(func() {
			userID := fmt.Sprintf("u%02d", u)
			payload := msg(fmt.Sprintf(`"type":"identify","messageId":"%s-id","userId":"%s",%s,"traits":{"phone":"+1954555%04d"}`,
				userID, userID, at(0), 2000+u))
			_, err := p.ProcessBytes(context.Background(), []byte(payload))
			assert.NoError(t, err)
			for n := 1; n <= events; n++ {
				payload := msg(fmt.Sprintf(`"type":"track","messageId":"%s-%d","userId":"%s","event":"Step",%s,"properties":{"n":%d,"bad":%t}`,
					userID, n, userID, at(n), n, bad(n)))
				_, err := p.ProcessBytes(context.Background(), []byte(payload))
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
}

// waitSettled waits until the outbox has no pending entry.
func waitSettled(t *testing.T, fw *regalkit.Forwarder, within time.Duration) regalkit.ForwarderStats {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st, err := fw.Stats(context.Background())
		require.NoError(t, err)
		if st.Pending == 0 {
			return st
		}
		if time.Now().After(deadline) {
			require.Failf(t, "outbox not drained", "%+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// expected returns 1..events without the bad ones.
func expected(events int, bad func(int) bool) []int {
	var out []int
	for n := 1; n <= events; n++ {
		if !bad(n) {
			out = append(out, n)
		}
	}
	return out
}

func TestForwarder_DeliversEverythingInOrderThroughEveryFailure(t *testing.T) {
	var mu sync.Mutex
	rnd := rand.New(rand.NewPCG(1, 2))
	regal := newFakeRegal(t, func(body) failure {
		mu.Lock()
		defer mu.Unlock()
		if rnd.IntN(2) == 0 {
			return answerOK
		}
		a := failure(1 + rnd.IntN(int(numFailures)-1))
		if a == answer400 {
			return answerOK // refusals for good are the bad events', below
		}
		return a
	})
	store := memstore.New()
	p := regalkit.New(store, &regalkit.Options{Outbox: true})
	fw, err := regalkit.NewForwarder(store, regal.client(), fastForwarding(5*time.Second))
	require.NoError(t, err)
	fw.Start()
	const users, events = 12, 15
	bad := func(n int) bool { return n == 7 }
	workload(t, p, users, events, bad)
	st := waitSettled(t, fw, 60*time.Second)
	require.NoError(t, fw.Stop(context.Background()))

	got, repeats := regal.delivered()
	for u := range users {
		userID := fmt.Sprintf("u%02d", u)
		assert.Equal(t, expected(events, bad), got[userID], "every event of %s, in order, but the refused one", userID)
	}
	lost := regal.lostAcks()
	assert.LessOrEqual(t, repeats, lost, "an event is recorded twice only when an acknowledgement was lost")
	assert.Equal(t, users, st.Dead, "one 400 per user")
	assert.Equal(t, int64(users), st.Parked)
	assert.Positive(t, st.Retried, "the failures were retried")
	assert.Positive(t, st.Unknown, "some outcomes were unknown")
	regal.mu.Lock()
	requests := regal.requests
	regal.mu.Unlock()
	t.Logf("requests %d, lost acknowledgements %d, repeats %d, stats %+v", requests, lost, repeats, st)

	dead, err := store.DeadEntries(context.Background())
	require.NoError(t, err)
	require.Len(t, dead, users)
	for _, e := range dead {
		assert.Contains(t, e.Reason, "400")
		assert.NotContains(t, e.Reason, "+19545552399", "no whole phone number in a reason")
	}
}

func TestForwarder_ParkedEntryDoesNotBlockTheContact(t *testing.T) {
	regal := newFakeRegal(t, func(body) failure { return answerOK })
	store := memstore.New()
	p := regalkit.New(store, &regalkit.Options{Outbox: true})
	bad := func(n int) bool { return n == 2 }
	workload(t, p, 1, 3, bad)
	fw, err := regalkit.NewForwarder(store, regal.client(), fastForwarding(5*time.Second))
	require.NoError(t, err)
	fw.Start()
	st := waitSettled(t, fw, 10*time.Second)
	require.NoError(t, fw.Stop(context.Background()))
	got, repeats := regal.delivered()
	assert.Equal(t, []int{1, 3}, got["u00"])
	assert.Zero(t, repeats)
	assert.Equal(t, 1, st.Dead)
	assert.Equal(t, int64(3), st.Delivered, "the identify and the two good tracks")
	assert.Equal(t, 3, st.Sent)
	assert.Zero(t, st.OldestPendingAge)
}

// TestForwarder_ReportsWhatTheBodyLeftOut: a value Regal's body has no place for is
// left out and reported (Rule R1): counted in Stats and logged as a warning, without
// the contact's phone.
func TestForwarder_ReportsWhatTheBodyLeftOut(t *testing.T) {
	regal := newFakeRegal(t, func(body) failure { return answerOK })
	store := memstore.New()
	p := regalkit.New(store, &regalkit.Options{Outbox: true})
	_, err := p.ProcessBytes(context.Background(), []byte(msg(`"type":"identify","messageId":"m1","userId":"u1",`+at(0)+
		`,"traits":{"phone":"+19545552399","address":{"line1":"1 Main St","line2":"Apt 4B","city":"Miami"}}`)))
	require.NoError(t, err)
	var logs syncBuffer
	opts := fastForwarding(5 * time.Second)
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	fw, err := regalkit.NewForwarder(store, regal.client(), opts)
	require.NoError(t, err)
	fw.Start()
	st := waitSettled(t, fw, 10*time.Second)
	require.NoError(t, fw.Stop(context.Background()))
	assert.Equal(t, int64(1), st.Delivered)
	assert.Equal(t, int64(1), st.Unmapped, "the second address line")
	out := strings.Join(logs.lines(), "\n")
	assert.Contains(t, out, "values left out of the body sent to regal")
	assert.Contains(t, out, "regal.unmapped")
	assert.NotContains(t, out, "9545552399")
}

// TestForwarder_HonoursRetryAfterPastTheLease: a Retry-After longer than the send's
// lease is honoured by the next attempt's time, and a 429, which records nothing, is
// no unknown outcome (Rule R2).
func TestForwarder_HonoursRetryAfterPastTheLease(t *testing.T) {
	var mu sync.Mutex
	var arrivals []time.Time
	regal := newFakeRegal(t, func(body) failure {
		mu.Lock()
		defer mu.Unlock()
		arrivals = append(arrivals, time.Now())
		if len(arrivals) == 1 {
			return answer429 // Retry-After: 1
		}
		return answerOK
	})
	store := memstore.New()
	p := regalkit.New(store, &regalkit.Options{Outbox: true})
	workload(t, p, 1, 0, func(int) bool { return false })
	client := regalio.NewClient("key", &regalio.ClientOptions{BaseURL: regal.srv.URL, HTTPClient: &http.Client{Transport: regal},
		Rate: rate.Inf, MaxAttempts: 3, AttemptTimeout: 150 * time.Millisecond, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		MaxRetryAfter: time.Minute})
	fw, err := regalkit.NewForwarder(store, client, fastForwarding(300*time.Millisecond))
	require.NoError(t, err)
	fw.Start()
	st := waitSettled(t, fw, 10*time.Second)
	require.NoError(t, fw.Stop(context.Background()))
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, arrivals, 2)
	assert.GreaterOrEqual(t, arrivals[1].Sub(arrivals[0]), 950*time.Millisecond, "the second attempt waited the Retry-After")
	assert.Equal(t, int64(1), st.Delivered)
	assert.Equal(t, int64(1), st.Retried)
	assert.Zero(t, st.Unknown, "a 429 recorded nothing")
}

func TestForwarder_SendsTheContactAsItIsAtSendTime(t *testing.T) {
	regal := newFakeRegal(t, func(body) failure { return answerOK })
	store := memstore.New()
	p := regalkit.New(store, &regalkit.Options{Outbox: true})
	for _, m := range []string{
		msg(`"type":"identify","messageId":"m1","userId":"u1",` + at(0) + `,"traits":{"firstName":"Old","phone":"+19545552399"}`),
		msg(`"type":"identify","messageId":"m2","userId":"u1",` + at(10) + `,"traits":{"firstName":"New"}`),
		msg(`"type":"identify","messageId":"m0","userId":"u1",` + at(5) + `,"traits":{"firstName":"Late"}`),
	} {
		_, err := p.ProcessBytes(context.Background(), []byte(m))
		require.NoError(t, err)
	}
	fw, err := regalkit.NewForwarder(store, regal.client(), fastForwarding(5*time.Second))
	require.NoError(t, err)
	fw.Start()
	waitSettled(t, fw, 10*time.Second)
	require.NoError(t, fw.Stop(context.Background()))
	regal.mu.Lock()
	defer regal.mu.Unlock()
	require.Len(t, regal.bodies, 2, "m1 and m2 changed the contact; the late m0 lost to m2 and changed nothing")
	for _, b := range regal.bodies {
		assert.Equal(t, "New", b.Traits.FirstName, "never a stale name")
	}
}

// crashable is a store whose outbox can be cut off, as a crashed process's would be:
// after crash, nothing it claimed is settled.
type crashable struct {
	*memstore.Store
	crashed atomic.Bool
	refused atomic.Int32 // acknowledgements refused after the crash
}

var errCrashed = errors.New("crashed")

func (c *crashable) Claim(ctx context.Context, now time.Time, lease time.Duration, max int) ([]contact.OutboxEntry, error) {
	if c.crashed.Load() {
		return nil, errCrashed
	}
	return c.Store.Claim(ctx, now, lease, max)
}

func (c *crashable) Ack(ctx context.Context, seq int64, token string) error {
	if c.crashed.Load() {
		c.refused.Add(1)
		return errCrashed
	}
	return c.Store.Ack(ctx, seq, token)
}

func (c *crashable) Retry(ctx context.Context, seq int64, token string, next time.Time, reason string) error {
	if c.crashed.Load() {
		return errCrashed
	}
	return c.Store.Retry(ctx, seq, token, next, reason)
}

func (c *crashable) Park(ctx context.Context, seq int64, token, reason string) error {
	if c.crashed.Load() {
		return errCrashed
	}
	return c.Store.Park(ctx, seq, token, reason)
}

func TestForwarder_ResumesAfterACrash(t *testing.T) {
	regal := newFakeRegal(t, func(body) failure {
		time.Sleep(2 * time.Millisecond)
		return answerOK
	})
	store := memstore.New()
	p := regalkit.New(store, &regalkit.Options{Outbox: true})
	const users, events = 6, 20
	none := func(int) bool { return false }
	workload(t, p, users, events, none)

	doomed := &crashable{Store: store}
	const lease = 400 * time.Millisecond
	first, err := regalkit.NewForwarder(doomed, regal.client(), fastForwarding(lease))
	require.NoError(t, err)
	first.Start()
	require.Eventually(t, func() bool {
		regal.mu.Lock()
		defer regal.mu.Unlock()
		return len(regal.bodies) >= 30
	}, 10*time.Second, time.Millisecond)
	doomed.crashed.Store(true)
	require.NoError(t, first.Stop(context.Background()))
	st, err := store.OutboxStats(context.Background())
	require.NoError(t, err)
	require.Positive(t, st.Pending, "the crash left work behind")

	// A new process: a new Forwarder on the same store, with a new Client. What the
	// first one had claimed comes back when the leases expire.
	second, err := regalkit.NewForwarder(store, regal.client(), fastForwarding(lease))
	require.NoError(t, err)
	second.Start()
	waitSettled(t, second, 20*time.Second)
	require.NoError(t, second.Stop(context.Background()))

	got, repeats := regal.delivered()
	for u := range users {
		userID := fmt.Sprintf("u%02d", u)
		assert.Equal(t, expected(events, none), got[userID], userID)
	}
	lost := int(doomed.refused.Load()) + regal.lostAcks()
	assert.LessOrEqual(t, repeats, lost, "sent twice only what was sent but not acknowledged")
	t.Logf("acknowledgements lost in the crash %d, on the wire %d, repeats %d", doomed.refused.Load(), regal.lostAcks(), repeats)
}

func TestForwarder_StopDrainsInFlightSends(t *testing.T) {
	regal := newFakeRegal(t, func(body) failure {
		time.Sleep(100 * time.Millisecond)
		return answerOK
	})
	regal.arrived = make(chan struct{}, 1)
	store := memstore.New()
	p := regalkit.New(store, &regalkit.Options{Outbox: true})
	workload(t, p, 4, 3, func(int) bool { return false })
	fw, err := regalkit.NewForwarder(store, regal.clientTimingOut(time.Minute), fastForwarding(5*time.Second))
	require.NoError(t, err)
	fw.Start()
	<-regal.arrived
	require.NoError(t, fw.Stop(context.Background()))
	assert.Zero(t, regal.inFlight.Load(), "no request left out")
	st, err := fw.Stats(context.Background())
	require.NoError(t, err)
	regal.mu.Lock()
	recorded := len(regal.bodies)
	regal.mu.Unlock()
	assert.Positive(t, recorded)
	assert.Equal(t, int64(recorded), st.Delivered, "every send in flight at Stop finished and was acknowledged")
	assert.Positive(t, st.Pending, "Stop claims nothing new")
}

// TestForwarder_StopDeadlineHandsEntriesBack: sends that Stop's deadline cut off go
// back pending, due at once though the lease was an hour, and are no failed attempt
// even with MaxAttempts reached: they are not parked (Rule O4).
func TestForwarder_StopDeadlineHandsEntriesBack(t *testing.T) {
	for _, maxAttempts := range []int{0, 1} {
		regal := newFakeRegal(t, func(body) failure { return hang })
		regal.arrived = make(chan struct{}, 1)
		store := memstore.New()
		p := regalkit.New(store, &regalkit.Options{Outbox: true})
		workload(t, p, 2, 1, func(int) bool { return false })
		opts := fastForwarding(time.Hour)
		opts.MaxAttempts = maxAttempts
		fw, err := regalkit.NewForwarder(store, regal.client(), opts)
		require.NoError(t, err)
		fw.Start()
		<-regal.arrived
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		err = fw.Stop(ctx)
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded)
		dead, err := store.DeadEntries(context.Background())
		require.NoError(t, err)
		assert.Empty(t, dead, "MaxAttempts %d: cut off by Stop, not given up on", maxAttempts)
		es, err := store.Claim(context.Background(), time.Now(), time.Minute, 10)
		require.NoError(t, err)
		assert.Len(t, es, 2, "MaxAttempts %d: both contacts' first entries are claimable at once", maxAttempts)
	}
}

// stuckClaims is a store whose Claim answers only when its context ends, as a database
// that stopped answering would.
type stuckClaims struct {
	*memstore.Store
	claiming chan struct{}
}

func (s stuckClaims) Claim(ctx context.Context, now time.Time, lease time.Duration, max int) ([]contact.OutboxEntry, error) {
	select {
	case s.claiming <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestForwarder_StopDeadlineCoversAClaim: Stop returns by its deadline even while the
// Forwarder waits on a Claim, whose context it cancels.
func TestForwarder_StopDeadlineCoversAClaim(t *testing.T) {
	store := stuckClaims{memstore.New(), make(chan struct{}, 1)}
	fw, err := regalkit.NewForwarder(store, regalio.NewClient("k", nil), fastForwarding(time.Minute))
	require.NoError(t, err)
	fw.Start()
	<-store.claiming
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- fw.Stop(ctx) }()
	select {
	case err := <-stopped:
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	case <-time.After(5 * time.Second):
		t.Fatal("Stop waited on the Claim past its deadline")
	}
}

func TestForwarder_NeedsAnOutbox(t *testing.T) {
	_, err := regalkit.NewForwarder(noOutbox{memstore.New()}, regalio.NewClient("k", nil), nil)
	assert.ErrorIs(t, err, regalkit.ErrNoOutbox)
}

func TestForwarder_RefusedKeyIsRetriedNotParked(t *testing.T) {
	var calls atomic.Int32
	regal := newFakeRegal(t, func(body) failure {
		if calls.Add(1) <= 3 {
			return answer401
		}
		return answerOK
	})
	store := memstore.New()
	p := regalkit.New(store, &regalkit.Options{Outbox: true})
	workload(t, p, 1, 1, func(int) bool { return false })
	fw, err := regalkit.NewForwarder(store, regal.client(), fastForwarding(5*time.Second))
	require.NoError(t, err)
	fw.Start()
	st := waitSettled(t, fw, 10*time.Second)
	require.NoError(t, fw.Stop(context.Background()))
	assert.Zero(t, st.Dead)
	got, _ := regal.delivered()
	assert.Equal(t, []int{1}, got["u00"])
	assert.GreaterOrEqual(t, st.Retried, int64(1), "the refused key was retried")
}

// TestForwarder_BackoffWithAHugeCap_RuleO4: a MaxBackoff as large as a Duration goes (a "no
// cap" setting) does not overflow the doubling into a negative wait, which made
// rand.N panic on the Forwarder's goroutine after 35 failed claims.
func TestForwarder_BackoffWithAHugeCap_RuleO4(t *testing.T) {
	f, err := regalkit.NewForwarder(memstore.New(), regalio.NewClient("k", nil),
		&regalkit.ForwarderOptions{MinBackoff: time.Second, MaxBackoff: math.MaxInt64})
	require.NoError(t, err)
	prev := time.Duration(0)
	for attempts := 1; attempts <= 100; attempts++ {
		d := f.Backoff(attempts)
		require.Positive(t, d, "attempts %d", attempts)
		assert.GreaterOrEqual(t, d, prev/2, "attempts %d: the wait does not shrink", attempts)
		prev = d
	}
}

// slowClaims is a store whose Claim returns late, as one that waited for a database
// connection after taking the time its lease counts from.
type slowClaims struct {
	*memstore.Store
	delay time.Duration
}

func (s slowClaims) Claim(ctx context.Context, now time.Time, lease time.Duration, max int) ([]contact.OutboxEntry, error) {
	es, err := s.Store.Claim(ctx, now, lease, max)
	time.Sleep(s.delay)
	return es, err
}

// TestForwarder_SendEndsWithItsLease_RuleO3: a send is cut off before the claim's LeaseUntil,
// not a lease's length after the send began: with a Claim that returned 300ms into a
// 400ms lease, a send that hangs ends in time to be settled by its own lease (Rule O3:
// past the lease, another claim may send the entry too).
func TestForwarder_SendEndsWithItsLease_RuleO3(t *testing.T) {
	regal := newFakeRegal(t, func(body) failure { return hang })
	inner := memstore.New()
	p := regalkit.New(inner, &regalkit.Options{Outbox: true})
	workload(t, p, 1, 1, func(int) bool { return false })
	opts := fastForwarding(400 * time.Millisecond) // Parallel 8: the loop claims again while the send hangs
	client := regalio.NewClient("key", &regalio.ClientOptions{
		BaseURL: regal.srv.URL, HTTPClient: &http.Client{Transport: regal}, Rate: rate.Inf, MaxAttempts: 1, AttemptTimeout: time.Hour,
	})
	fw, err := regalkit.NewForwarder(slowClaims{inner, 300 * time.Millisecond}, client, opts)
	require.NoError(t, err)
	fw.Start()
	require.Eventually(t, func() bool {
		st, err := fw.Stats(context.Background())
		return err == nil && st.Retried+st.LeaseLost > 0
	}, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, fw.Stop(context.Background()))
	st, err := fw.Stats(context.Background())
	require.NoError(t, err)
	assert.Zero(t, st.LeaseLost, "the send ended within its lease, and was settled by it")
	assert.Positive(t, st.Retried)
}

// TestForwarder_RefusedKeyThenOtherFailure_RuleO4: after a 401 and then a 503, the third
// attempt is a real request (the Client does not remember a refused key for the
// messageId), so an entry is given up on only after MaxAttempts sends that failed.
func TestForwarder_RefusedKeyThenOtherFailure_RuleO4(t *testing.T) {
	var calls atomic.Int32
	regal := newFakeRegal(t, func(body) failure {
		switch calls.Add(1) {
		case 1:
			return answer401
		case 2:
			return answer503
		}
		return answerOK
	})
	store := memstore.New()
	p := regalkit.New(store, &regalkit.Options{Outbox: true})
	workload(t, p, 1, 1, func(int) bool { return false })
	client := regalio.NewClient("key", &regalio.ClientOptions{
		BaseURL: regal.srv.URL, HTTPClient: &http.Client{Transport: regal}, Rate: rate.Inf, MaxAttempts: 1, AttemptTimeout: 150 * time.Millisecond,
	})
	opts := fastForwarding(5 * time.Second)
	opts.MaxAttempts = 3
	fw, err := regalkit.NewForwarder(store, client, opts)
	require.NoError(t, err)
	fw.Start()
	st := waitSettled(t, fw, 10*time.Second)
	require.NoError(t, fw.Stop(context.Background()))
	assert.Zero(t, st.Dead, "three attempts, the third answered 200")
	got, _ := regal.delivered()
	assert.Equal(t, []int{1}, got["u00"])
}

// TestForwarder_UnknownCountsOnlyWhatMayBeRecorded_RuleO4: a send cut off by Stop while it
// waits out a 429's Retry-After recorded nothing, and is not counted Unknown; one cut
// off while its request is out is.
func TestForwarder_UnknownCountsOnlyWhatMayBeRecorded_RuleO4(t *testing.T) {
	for _, tc := range []struct {
		answer  failure
		unknown int64
	}{{answer429, 0}, {hang, 1}} {
		regal := newFakeRegal(t, func(body) failure { return tc.answer })
		regal.arrived = make(chan struct{}, 1)
		store := memstore.New()
		p := regalkit.New(store, &regalkit.Options{Outbox: true})
		workload(t, p, 1, 1, func(int) bool { return false })
		client := regalio.NewClient("key", &regalio.ClientOptions{
			BaseURL: regal.srv.URL, HTTPClient: &http.Client{Transport: regal}, Rate: rate.Inf, MaxAttempts: 5,
			AttemptTimeout: time.Minute, MaxRetryAfter: time.Minute,
		})
		fw, err := regalkit.NewForwarder(store, client, fastForwarding(time.Minute))
		require.NoError(t, err)
		fw.Start()
		<-regal.arrived
		time.Sleep(200 * time.Millisecond) // the 429 answered, its 1 s wait begun; or the request hanging
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_ = fw.Stop(ctx)
		cancel()
		st, err := fw.Stats(context.Background())
		require.NoError(t, err)
		assert.Equal(t, tc.unknown, st.Unknown, "answer %d", tc.answer)
	}
}
