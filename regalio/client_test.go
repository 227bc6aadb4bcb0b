package regalio

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// fakeClock is a clock that only moves when the Client sleeps.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.sleeps = append(f.sleeps, d)
	f.now = f.now.Add(d)
	f.mu.Unlock()
	return ctx.Err()
}

func (f *fakeClock) slept() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// script is a test server answering each request with the next of its handlers (the
// last one repeats) and recording what it received.
type script struct {
	mu       sync.Mutex
	steps    []http.HandlerFunc
	requests int
	auth     []string
	bodies   []string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	i := min(s.requests, len(s.steps)-1)
	s.requests++
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	s.bodies = append(s.bodies, string(b))
	step := s.steps[i]
	s.mu.Unlock()
	step(w, r)
}

func (s *script) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func status(code int, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// hang never answers before the client gives up.
func hang(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// reset closes the connection at once with a TCP reset.
func reset(w http.ResponseWriter, r *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func newTestClient(t *testing.T, steps ...http.HandlerFunc) (*Client, *script, *fakeClock) {
	t.Helper()
	s := &script{steps: steps}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := NewClient("key-123", &ClientOptions{
		BaseURL:        srv.URL,
		HTTPClient:     srv.Client(),
		Rate:           rate.Inf,
		MaxAttempts:    4,
		AttemptTimeout: 10 * time.Second, // the hanging tests set their own
		MinBackoff:     time.Second,
		MaxBackoff:     3 * time.Second,
		Now:            clock.Now,
		Sleep:          clock.Sleep,
		Jitter:         func(d time.Duration) time.Duration { return d / 2 },
	})
	return c, s, clock
}

const body = `{"userId":"u1","traits":{}}`

func TestClientStatuses(t *testing.T) {
	tests := []struct {
		name     string
		steps    []http.HandlerFunc
		requests int
		sleeps   []time.Duration
		check    func(t *testing.T, err error)
	}{
		{"200", []http.HandlerFunc{status(200, `{"status":"accepted"}`)}, 1, nil,
			func(t *testing.T, err error) { assert.NoError(t, err) }},
		{"400 is permanent", []http.HandlerFunc{status(400, `{"message":"bad phone +19545552399 for rebecca@example.com"}`)}, 1, nil,
			func(t *testing.T, err error) {
				se, ok := errors.AsType[*StatusError](err)
				require.True(t, ok, "%v", err)
				assert.Equal(t, 400, se.Status)
				assert.ErrorIs(t, err, ErrPermanent)
				assert.NotErrorIs(t, err, ErrUnauthorized)
				assert.NotContains(t, err.Error(), "5552399")
				assert.NotContains(t, err.Error(), "rebecca@")
				assert.Contains(t, se.Body, "+***2399")
				assert.Contains(t, se.Body, "***@example.com")
			}},
		{"401 is permanent", []http.HandlerFunc{status(401, `unauthorized`)}, 1, nil,
			func(t *testing.T, err error) {
				assert.ErrorIs(t, err, ErrPermanent)
				assert.ErrorIs(t, err, ErrUnauthorized)
			}},
		{"408 then 200", []http.HandlerFunc{status(408, ""), status(200, "")}, 2, []time.Duration{500 * time.Millisecond},
			func(t *testing.T, err error) { assert.NoError(t, err) }},
		{"429 with Retry-After", []http.HandlerFunc{status(429, "", "Retry-After", "7"), status(200, "")}, 2, []time.Duration{7 * time.Second},
			func(t *testing.T, err error) { assert.NoError(t, err) }},
		{"429 with a Retry-After date", []http.HandlerFunc{status(429, "", "Retry-After", "Thu, 01 Jan 2026 00:00:12 GMT"), status(200, "")}, 2, []time.Duration{12 * time.Second},
			func(t *testing.T, err error) { assert.NoError(t, err) }},
		{"429 without Retry-After", []http.HandlerFunc{status(429, ""), status(429, ""), status(200, "")}, 3, []time.Duration{500 * time.Millisecond, time.Second},
			func(t *testing.T, err error) { assert.NoError(t, err) }},
		{"500 until the attempts run out", []http.HandlerFunc{status(500, "oops")}, 4,
			[]time.Duration{500 * time.Millisecond, time.Second, 1500 * time.Millisecond}, // ceilings 1s, 2s, 3s (capped), jitter halves
			func(t *testing.T, err error) {
				re, ok := errors.AsType[*RetryError](err)
				require.True(t, ok, "%v", err)
				assert.Equal(t, 4, re.Attempts)
				assert.Equal(t, 500, re.Status)
				assert.ErrorIs(t, err, ErrRetriesExhausted)
				assert.NotErrorIs(t, err, ErrPermanent)
			}},
		{"429 with a Retry-After past int64, capped", []http.HandlerFunc{status(429, "", "Retry-After", "99999999999999999999"), status(200, "")}, 2, []time.Duration{5 * time.Minute},
			func(t *testing.T, err error) { assert.NoError(t, err) }},
		{"a 307 is followed, the body sent again", []http.HandlerFunc{func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/v2/events", http.StatusTemporaryRedirect)
		}, status(200, "")}, 2, nil,
			func(t *testing.T, err error) { assert.NoError(t, err) }},
		{"a 302 is a refusal, not followed (Go's client would repeat the POST as a bodiless GET)",
			[]http.HandlerFunc{func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/v2/events", http.StatusFound) }, status(200, "")}, 1, nil,
			func(t *testing.T, err error) {
				se, ok := errors.AsType[*StatusError](err)
				require.True(t, ok, "%v", err)
				assert.Equal(t, http.StatusFound, se.Status)
				assert.ErrorIs(t, err, ErrPermanent)
			}},
		{"503 then 200", []http.HandlerFunc{status(503, "", "Retry-After", "1"), status(200, "")}, 2, []time.Duration{time.Second},
			func(t *testing.T, err error) { assert.NoError(t, err) }},
		{"hanging server", []http.HandlerFunc{hang, status(200, "")}, 2, []time.Duration{500 * time.Millisecond},
			func(t *testing.T, err error) { assert.NoError(t, err) }},
		{"hanging until the attempts run out", []http.HandlerFunc{hang}, 4, nil,
			func(t *testing.T, err error) {
				re, ok := errors.AsType[*RetryError](err)
				require.True(t, ok, "%v", err)
				assert.ErrorIs(t, err, context.DeadlineExceeded, "each attempt timed out")
				assert.ErrorIs(t, err, ErrRetriesExhausted)
				assert.Equal(t, 0, re.Status)
			}},
		{"connection reset", []http.HandlerFunc{reset, reset, status(200, "")}, 3, []time.Duration{500 * time.Millisecond, time.Second},
			func(t *testing.T, err error) { assert.NoError(t, err) }},
		{"connection reset until the attempts run out", []http.HandlerFunc{reset}, 4, nil,
			func(t *testing.T, err error) {
				re, ok := errors.AsType[*RetryError](err)
				require.True(t, ok, "%v", err)
				assert.Equal(t, 0, re.Status)
				assert.ErrorIs(t, err, ErrRetriesExhausted)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, s, clock := newTestClient(t, tt.steps...)
			switch tt.name {
			case "hanging server": // long enough for the second, answered, attempt on a busy machine
				c.opts.AttemptTimeout = time.Second
			case "hanging until the attempts run out":
				c.opts.AttemptTimeout = 100 * time.Millisecond
			}
			err := c.Send(t.Context(), "m1", []byte(body))
			tt.check(t, err)
			assert.Equal(t, tt.requests, s.count())
			if tt.sleeps != nil {
				assert.Equal(t, tt.sleeps, clock.slept())
			}
			for i := range s.count() {
				assert.Equal(t, "key-123", s.auth[i], "the raw key, no Bearer")
				assert.Equal(t, body, s.bodies[i])
			}
		})
	}
}

func TestClientRetryAfterCapped(t *testing.T) {
	c, _, clock := newTestClient(t, status(429, "", "Retry-After", "999999"), status(200, ""))
	require.NoError(t, c.Send(t.Context(), "m1", []byte(body)))
	assert.Equal(t, []time.Duration{5 * time.Minute}, clock.slept())
}

// TestClientRetryAfterPastTheDeadline: a Retry-After that would end after ctx's
// deadline ends the send at once with a *RetryError that names the wait (Rule R2),
// rather than a sleep the deadline cuts off; a 429 recorded nothing, so the outcome is
// certain. A 5xx or an attempt without an answer makes it uncertain.
func TestClientRetryAfterPastTheDeadline(t *testing.T) {
	c, s, clock := newTestClient(t, status(429, "", "Retry-After", "30"), status(200, ""))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err := c.Send(ctx, "m1", []byte(body))
	var re *RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 30*time.Second, re.RetryAfter)
	assert.Equal(t, 1, re.Attempts)
	assert.False(t, re.Uncertain, "a 429 records nothing")
	assert.Empty(t, clock.slept(), "no sleep into the deadline")
	assert.Equal(t, 1, s.count())

	c, _, _ = newTestClient(t, status(503, ""), status(429, "", "Retry-After", "30"))
	err = c.Send(ctx, "m2", []byte(body))
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 2, re.Attempts)
	assert.True(t, re.Uncertain, "after a 503, Regal may have recorded it")
}

// Rule R2: a messageId is delivered once; a permanent refusal is not sent again; an
// unknown outcome may be sent again.
func TestClientMessageIDOnce(t *testing.T) {
	t.Run("delivered", func(t *testing.T) {
		c, s, _ := newTestClient(t, status(200, ""))
		require.NoError(t, c.Send(t.Context(), "m1", []byte(body)))
		require.NoError(t, c.Send(t.Context(), "m1", []byte(body)))
		assert.Equal(t, 1, s.count())
		require.NoError(t, c.Send(t.Context(), "m2", []byte(body)))
		assert.Equal(t, 2, s.count())
	})
	t.Run("refused", func(t *testing.T) {
		c, s, _ := newTestClient(t, status(400, "no"), status(200, ""))
		first := c.Send(t.Context(), "m1", []byte(body))
		second := c.Send(t.Context(), "m1", []byte(body))
		assert.ErrorIs(t, first, ErrPermanent)
		assert.Same(t, first, second)
		assert.Equal(t, 1, s.count())
	})
	t.Run("key refused", func(t *testing.T) {
		// A 401 refuses the API key, not the body: the messageId may go again.
		c, s, _ := newTestClient(t, status(401, "no"), status(200, ""))
		assert.ErrorIs(t, c.Send(t.Context(), "m1", []byte(body)), ErrUnauthorized)
		assert.NoError(t, c.Send(t.Context(), "m1", []byte(body)))
		assert.Equal(t, 2, s.count())
	})
	t.Run("unknown outcome", func(t *testing.T) {
		c, s, _ := newTestClient(t, status(500, ""), status(500, ""), status(500, ""), status(500, ""), status(200, ""))
		assert.ErrorIs(t, c.Send(t.Context(), "m1", []byte(body)), ErrRetriesExhausted)
		assert.NoError(t, c.Send(t.Context(), "m1", []byte(body)), "an unknown outcome may be sent again")
		assert.Equal(t, 5, s.count())
	})
	t.Run("in flight", func(t *testing.T) {
		release := make(chan struct{})
		started := make(chan struct{})
		var once sync.Once
		c, s, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() { close(started) })
			<-release
		})
		c.opts.AttemptTimeout = 10 * time.Second
		errc := make(chan error)
		go func() { errc <- c.Send(t.Context(), "m1", []byte(body)) }()
		<-started
		assert.ErrorIs(t, c.Send(t.Context(), "m1", []byte(body)), ErrInFlight)
		close(release)
		assert.NoError(t, <-errc)
		assert.Equal(t, 1, s.count())
	})
	t.Run("no messageId", func(t *testing.T) {
		c, s, _ := newTestClient(t, status(200, ""))
		require.NoError(t, c.Send(t.Context(), "", []byte(body)))
		require.NoError(t, c.Send(t.Context(), "", []byte(body)))
		assert.Equal(t, 2, s.count())
	})
}

func TestClientContext(t *testing.T) {
	t.Run("cancelled before", func(t *testing.T) {
		c, s, _ := newTestClient(t, status(200, ""))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := c.Send(ctx, "m1", []byte(body))
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 0, s.count())
	})
	t.Run("cancelled while hanging", func(t *testing.T) {
		c, s, _ := newTestClient(t, hang)
		c.opts.AttemptTimeout = time.Minute
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := c.Send(ctx, "m1", []byte(body))
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 5*time.Second)
		assert.Equal(t, 1, s.count())
		assert.NotErrorIs(t, err, ErrPermanent)
	})
	t.Run("cancelled during backoff", func(t *testing.T) {
		c, s, _ := newTestClient(t, status(503, ""))
		ctx, cancel := context.WithCancel(t.Context())
		c.opts.Sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
		err := c.Send(ctx, "m1", []byte(body))
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 1, s.count())
	})
}

// The limiter spaces requests by the injected clock: five requests at 2/s with a burst
// of 1 wait 4 × 500 ms.
func TestClientRateLimit(t *testing.T) {
	c, s, clock := newTestClient(t, status(200, ""))
	c.limiter = rate.NewLimiter(2, 1)
	for i := range 5 {
		require.NoError(t, c.Send(t.Context(), "m"+string(rune('0'+i)), []byte(body)))
	}
	assert.Equal(t, 5, s.count())
	var total time.Duration
	for _, d := range clock.slept() {
		total += d
	}
	assert.Equal(t, 2*time.Second, total)
}

func TestClientDefaults(t *testing.T) {
	c := NewClient("k", nil)
	assert.Equal(t, DefaultBaseURL+"/events", c.url)
	assert.Equal(t, DefaultRate, c.limiter.Limit())
	assert.Equal(t, 5, c.opts.MaxAttempts)
	d := c.opts.Jitter(time.Second)
	assert.GreaterOrEqual(t, d, time.Duration(0))
	assert.Less(t, d, time.Second)
}

func TestClientRealSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, sleep(ctx, time.Hour), context.Canceled)
	assert.NoError(t, sleep(t.Context(), time.Millisecond))
}

// Many goroutines sending the same and different messageIds: each messageId is sent
// exactly once, and every call returns nil or ErrInFlight.
func TestClientConcurrentSends(t *testing.T) {
	c, s, _ := newTestClient(t, status(200, ""))
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range 20 {
				id := "m" + string(rune('a'+i%5))
				err := c.Send(t.Context(), id, []byte(body))
				if !errors.Is(err, ErrInFlight) {
					assert.NoError(t, err)
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 5, s.count(), "five messageIds, five requests")
}

// TestUncertain_RuleO4: a Send stopped by its context may have been recorded only when an
// attempt got no answer or a 5xx, or a request was out when it stopped; one answered
// only 429 recorded nothing (the Forwarder counts the first kind as Unknown).
func TestUncertain_RuleO4(t *testing.T) {
	stop := func(context.Context, time.Duration) error { return context.Canceled } // ctx ends during the wait
	for _, tt := range []struct {
		name      string
		step      http.HandlerFunc
		uncertain bool
	}{
		{"429, then stopped while waiting", status(429, "", "Retry-After", "1"), false},
		{"503, then stopped while waiting", status(503, ""), true},
		{"reset, then stopped while waiting", reset, true},
		{"400", status(400, ""), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := newTestClient(t, tt.step)
			c.opts.Sleep = stop
			err := c.Send(t.Context(), "m1", []byte(body))
			require.Error(t, err)
			assert.Equal(t, tt.uncertain, Uncertain(err))
		})
	}
	t.Run("500, then 401", func(t *testing.T) {
		// The 500 may have been recorded; the 401 refuses the key, and the Forwarder
		// sends the body again.
		c, s, _ := newTestClient(t, status(500, ""), status(401, ""))
		err := c.Send(t.Context(), "m1", []byte(body))
		assert.ErrorIs(t, err, ErrUnauthorized)
		assert.True(t, Uncertain(err))
		assert.Equal(t, 2, s.count())
	})
	t.Run("stopped before any request", func(t *testing.T) {
		c, s, _ := newTestClient(t, status(200, ""))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := c.Send(ctx, "m1", []byte(body))
		assert.False(t, Uncertain(err))
		assert.Zero(t, s.count())
	})
	t.Run("stopped while a request was out", func(t *testing.T) {
		c, _, _ := newTestClient(t, hang)
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		assert.True(t, Uncertain(c.Send(ctx, "m1", []byte(body))))
	})
}

// TestClientRedirects_RuleR2: a 307 or 308 is followed with the body sent again; a 301, 302
// or 303 is a refusal, since Go's client would repeat the POST as a GET without it.
func TestClientRedirects_RuleR2(t *testing.T) {
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		c, s, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/v2/events", code) }, status(200, ""))
		require.NoError(t, c.Send(t.Context(), "m1", []byte(body)), code)
		assert.Equal(t, []string{body, body}, s.bodies, "%d: the body went again", code)
	}
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther} {
		c, s, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/v2/events", code) }, status(200, ""))
		err := c.Send(t.Context(), "m1", []byte(body))
		se, ok := errors.AsType[*StatusError](err)
		require.True(t, ok, "%d: %v", code, err)
		assert.Equal(t, code, se.Status)
		assert.Equal(t, 1, s.count(), "%d: not followed", code)
	}
}
