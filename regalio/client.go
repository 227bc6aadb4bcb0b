package regalio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// DefaultBaseURL is where Regal's Events API lives; the Client posts to BaseURL + "/events".
const DefaultBaseURL = "https://events.regalvoice.com"

// DefaultRate is Regal's documented rate limit, in requests per second.
const DefaultRate rate.Limit = 300

// ClientOptions configures a [Client]. The zero value, like a nil *ClientOptions, talks
// to Regal's production endpoint at its documented rate limit.
type ClientOptions struct {
	// BaseURL is the scheme and host (and optional path prefix) of the Events API.
	// Empty means DefaultBaseURL.
	BaseURL string
	// HTTPClient sends the requests. Nil means a client of its own with Go's default
	// transport; the per-attempt limit is AttemptTimeout either way. Whatever its
	// CheckRedirect, a 307 or 308 is followed (the body goes again) and any other 3xx
	// is a refusal ([*StatusError]): Go would follow it as a GET without the body.
	HTTPClient *http.Client

	// Rate is the most requests a second the Client sends, across all goroutines.
	// Zero means DefaultRate; rate.Inf means no limit.
	Rate rate.Limit
	// Burst is how many requests may go at once above Rate. Zero means 1.
	Burst int

	// MaxAttempts bounds the attempts of one Send, the first included. Zero means 5.
	MaxAttempts int
	// AttemptTimeout bounds one attempt, from sending the request to reading the
	// response. Zero means 10 seconds.
	AttemptTimeout time.Duration
	// MinBackoff is the backoff ceiling after the first failed attempt; it doubles
	// after each failure up to MaxBackoff, and the wait is a uniformly random duration
	// below that ceiling (full jitter). Zero means 250 ms; MaxBackoff zero means 30 s.
	MinBackoff, MaxBackoff time.Duration
	// MaxRetryAfter caps the wait a Retry-After header asks for. Zero means 5 minutes.
	MaxRetryAfter time.Duration

	// RememberIDs is how many messageIds the Client remembers the outcome of (Rule R2):
	// a messageId older than the last RememberIDs sends can be sent again. Zero means
	// 65536.
	RememberIDs int

	// Now, Sleep and Jitter let tests run without waiting. Now nil means time.Now.
	// Sleep nil waits for d or until ctx is done, and returns ctx's error if it is.
	// Jitter nil returns a uniformly random duration in [0, d).
	Now    func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
	Jitter func(d time.Duration) time.Duration
}

// Client sends bodies to Regal's Events API (Rule R2): rate-limited, retrying what may
// succeed later, refusing for good what cannot.
//
// # Retries
//
// An attempt that meets a network error, its AttemptTimeout, or status 408, 429 or 5xx
// is retried after a backoff with full jitter, or after the wait a Retry-After header
// names (seconds or an HTTP date, capped by MaxRetryAfter), until MaxAttempts or ctx
// runs out. A 307 or 308 is followed with the body. Any other 4xx, and any other 3xx,
// is a [*StatusError], never retried. A 2xx is success.
//
// # One messageId, one delivery
//
// Regal documents no idempotency key: a body sent twice is recorded twice. So a Client
// never sends the same messageId twice in one process unless the first outcome is
// unknown. After a 2xx, Send with that messageId returns nil without sending; after a
// permanent refusal of the body it returns the same [*StatusError] without sending (a
// 401 or 403, [ErrUnauthorized], refuses the API key and is not remembered); while a Send is
// in flight, another returns [ErrInFlight]. When the outcome is unknown — the attempts
// ran out ([*RetryError]) or ctx ended while a request was out — Regal may or may not
// have recorded the event, and the Client forgets the messageId so that the caller can
// send it again: at least once, not exactly once, is all Regal's API allows then. Retries
// inside one Send are the same: each follows a network error, a timeout, 408, 429 or
// 5xx, none a 2xx. An empty messageId is never remembered.
//
// A Client is safe for concurrent use.
type Client struct {
	url     string
	apiKey  string
	http    *http.Client
	limiter *rate.Limiter
	opts    ClientOptions

	mu       sync.Mutex
	inFlight map[string]bool
	done     *lru.Cache[string, error] // messageId → nil (delivered) or its *StatusError
}

// NewClient returns a Client that authenticates with apiKey, sent raw in the
// Authorization header as Regal asks (no "Bearer").
func NewClient(apiKey string, opts *ClientOptions) *Client {
	var o ClientOptions
	if opts != nil {
		o = *opts
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Rate == 0 {
		o.Rate = DefaultRate
	}
	if o.Burst <= 0 {
		o.Burst = 1
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 10 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = 5 * time.Minute
	}
	if o.RememberIDs <= 0 {
		o.RememberIDs = 1 << 16
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Jitter == nil {
		o.Jitter = func(d time.Duration) time.Duration {
			if d <= 0 {
				return 0
			}
			return rand.N(d)
		}
	}
	done, _ := lru.New[string, error](o.RememberIDs) // size > 0: no error
	// A 301, 302 or 303 is not followed: Go's client would repeat the POST as a GET
	// without its body, and a 2xx to that would settle an entry Regal never received.
	// That 3xx is the answer, a refusal (the URL is wrong). A 307 or 308 repeats the
	// POST with its body, and is followed, up to maxRedirects.
	hc := *o.HTTPClient
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.Response == nil || (req.Response.StatusCode != http.StatusTemporaryRedirect && req.Response.StatusCode != http.StatusPermanentRedirect) ||
			len(via) >= maxRedirects {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return &Client{
		url:      strings.TrimRight(o.BaseURL, "/") + "/events",
		apiKey:   apiKey,
		http:     &hc,
		limiter:  rate.NewLimiter(o.Rate, o.Burst),
		opts:     o,
		inFlight: make(map[string]bool),
		done:     done,
	}
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Send posts body, an Events API body such as [Encode] returns, for the message
// messageID (Rule R2; see [Client] for retries and for what a repeated messageId does).
// It returns nil once Regal answered 2xx; a [*StatusError] when Regal refused the body
// for good; a [*RetryError] when the attempts ran out, or when the wait before the
// next one (a Retry-After, say) would end after ctx's deadline; [ErrInFlight] when
// another Send has the same messageId; and ctx's error, wrapped, when ctx ended first.
func (c *Client) Send(ctx context.Context, messageID string, body []byte) error {
	if messageID != "" {
		c.mu.Lock()
		if prev, ok := c.done.Get(messageID); ok {
			c.mu.Unlock()
			return prev
		}
		if c.inFlight[messageID] {
			c.mu.Unlock()
			return ErrInFlight
		}
		c.inFlight[messageID] = true
		c.mu.Unlock()
	}
	err := c.send(ctx, body)
	if messageID != "" {
		c.mu.Lock()
		delete(c.inFlight, messageID)
		// A 401 or 403 refused the API key, not the body, and recorded nothing: it is
		// not remembered, so the same messageId may go again (once the key is fixed).
		if err == nil || (errors.Is(err, ErrPermanent) && !errors.Is(err, ErrUnauthorized)) {
			c.done.Add(messageID, err)
		}
		c.mu.Unlock()
	}
	return err
}

func (c *Client) send(ctx context.Context, body []byte) error {
	o := &c.opts
	ceiling := o.MinBackoff
	uncertain := false
	for attempt := 1; ; attempt++ {
		if err := c.wait(ctx); err != nil {
			return stopped(attempt-1, err, uncertain)
		}
		status, retryAfter, excerpt, err := c.attempt(ctx, body)
		switch {
		case err != nil && ctx.Err() != nil:
			return stopped(attempt, ctx.Err(), true) // a request was out
		case err == nil && status >= 200 && status <= 299:
			return nil
		case err == nil && !retryable(status):
			return &StatusError{Status: status, Body: excerpt, uncertain: uncertain}
		}
		uncertain = uncertain || err != nil || status >= 500
		retryAfter = min(retryAfter, o.MaxRetryAfter)
		delay := o.Jitter(ceiling)
		if retryAfter > 0 {
			delay = retryAfter
		}
		gaveUp := attempt >= o.MaxAttempts
		if dl, ok := ctx.Deadline(); ok && delay > time.Until(dl) {
			gaveUp = true // the wait would outlast ctx: say how long it is instead
		}
		if gaveUp {
			return &RetryError{Attempts: attempt, Status: status, Last: attemptError(status, err), RetryAfter: retryAfter, Uncertain: uncertain}
		}
		ceiling = min(ceiling*2, o.MaxBackoff)
		if err := o.Sleep(ctx, delay); err != nil {
			return stopped(attempt, err, uncertain)
		}
	}
}

// wait takes one token from the limiter, sleeping through the injected Sleep.
func (c *Client) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := c.opts.Now()
	r := c.limiter.ReserveN(now, 1)
	if !r.OK() {
		return errors.New("regalio: rate limiter refuses every request")
	}
	if d := r.DelayFrom(now); d > 0 {
		if err := c.opts.Sleep(ctx, d); err != nil {
			r.CancelAt(c.opts.Now())
			return err
		}
	}
	return nil
}

// attempt sends the body once. It returns the status, the wait Retry-After asks for,
// a masked excerpt of the body of a non-2xx answer, and the transport's error.
func (c *Client) attempt(ctx context.Context, body []byte) (status int, retryAfter time.Duration, excerpt string, err error) {
	actx, cancel := context.WithTimeout(ctx, c.opts.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, "", err
	}
	req.Header.Set("Authorization", c.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, 0, "", err
	}
	defer resp.Body.Close()
	var head []byte
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		head, _ = io.ReadAll(io.LimitReader(resp.Body, 1024))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	return resp.StatusCode, c.retryAfter(resp.Header.Get("Retry-After")), maskExcerpt(head), nil
}

// retryAfter reads a Retry-After value: whole seconds or an HTTP date. Zero means none.
func (c *Client) retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		switch {
		case n <= 0: // a negative number, or one too negative for int64
			return 0
		case n > int64(c.opts.MaxRetryAfter/time.Second): // too long, for int64 too
			return c.opts.MaxRetryAfter
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(c.opts.Now()); d > 0 {
			return d
		}
	}
	return 0
}

// maxRedirects is the most 307 and 308 redirects one attempt follows.
const maxRedirects = 5

// retryable reports whether a status may succeed when sent again: 408, 429 and 5xx.
func retryable(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || (status >= 500 && status <= 599)
}

func attemptError(status int, err error) error {
	if err != nil {
		return err
	}
	return errors.New("regalio: regal answered " + strconv.Itoa(status))
}

// stopped wraps ctx's error for a Send that ctx ended.
func stopped(attempts int, err error, uncertain bool) error {
	return &stopError{attempts: attempts, err: err, uncertain: uncertain}
}

type stopError struct {
	attempts  int
	err       error
	uncertain bool // see Uncertain
}

// Uncertain reports whether a failed [Client.Send] may have been recorded by Regal all
// the same, so that sending the body again may record it twice: a [*RetryError] whose
// Uncertain is set, or a Send that its context stopped after an attempt got no answer
// or a 5xx, or while a request was out, or a [*StatusError] after such an attempt (a
// 401 after a 500, say). A Send answered only 408 or 429, or stopped before any request
// went out, recorded nothing; nor did a refusal at its first answer.
func Uncertain(err error) bool {
	if re, ok := errors.AsType[*RetryError](err); ok {
		return re.Uncertain
	}
	if se, ok := errors.AsType[*StatusError](err); ok {
		return se.uncertain
	}
	if se, ok := errors.AsType[*stopError](err); ok {
		return se.uncertain
	}
	return false
}

func (e *stopError) Error() string {
	return "regalio: send stopped after " + strconv.Itoa(e.attempts) + " attempts: " + e.err.Error()
}

func (e *stopError) Unwrap() error { return e.err }
