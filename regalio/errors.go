package regalio

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/identity"
)

// The error categories of [Client.Send]. Every error it returns, but a context's own
// error, matches one of them with errors.Is.
var (
	// ErrPermanent: Regal refused the body with a 4xx status other than 408 and 429, or
	// answered with a redirect (3xx), which the Client does not follow. Sending it again
	// cannot succeed, so it is never retried (Rule R2).
	ErrPermanent = errors.New("regalio: refused by regal")
	// ErrRetriesExhausted: every attempt failed with a network error, 408, 429 or 5xx.
	// Whether Regal recorded the event is unknown.
	ErrRetriesExhausted = errors.New("regalio: retries exhausted")
	// ErrInFlight: the messageId is being sent by another call right now.
	ErrInFlight = errors.New("regalio: message already in flight")
	// ErrUnauthorized matches a [*StatusError] with status 401 or 403, besides ErrPermanent.
	ErrUnauthorized = errors.New("regalio: api key refused")
)

// StatusError is a response Regal sent with a status that refuses the body for good: a
// 4xx other than 408 and 429, or a 3xx the client does not follow: any but a 307 or 308
// naming where to go, within five redirects (Rule R2). It unwraps to [ErrPermanent].
type StatusError struct {
	Status int
	// Body is the start of the response body, at most 256 bytes, with every phone
	// number masked to its last four digits and every email address to its domain.
	Body string
	// uncertain: an earlier attempt of the same Send got no answer or a 5xx (see
	// Uncertain).
	uncertain bool
}

// Error names the status and quotes the masked excerpt.
func (e *StatusError) Error() string {
	s := "regalio: regal answered " + strconv.Itoa(e.Status)
	if e.Body != "" {
		s += ": " + strconv.Quote(e.Body)
	}
	return s
}

// Unwrap returns ErrPermanent.
func (e *StatusError) Unwrap() error { return ErrPermanent }

// Is reports ErrUnauthorized for 401 and 403.
func (e *StatusError) Is(target error) bool {
	return target == ErrUnauthorized && (e.Status == 401 || e.Status == 403)
}

// RetryError is a send that gave up: every attempt met a network error, a timeout or a
// retryable status, and the attempts ran out, or the wait before the next attempt
// would have outlasted the send's context (its deadline). It unwraps to
// [ErrRetriesExhausted] and to the last attempt's error.
type RetryError struct {
	Attempts int
	// Status is the last attempt's HTTP status; 0 when it got no response.
	Status int
	Last   error
	// RetryAfter is the wait the last answer's Retry-After asked for (at most
	// ClientOptions.MaxRetryAfter); zero when it named none. A caller that tries again
	// later should wait at least that long (Rule R2).
	RetryAfter time.Duration
	// Uncertain reports that Regal may have recorded the body: an attempt got no
	// answer (a network error, a timeout) or a 5xx. Without it every attempt was
	// answered 408 or 429, which record nothing.
	Uncertain bool
}

// Error names the attempts and the last failure.
func (e *RetryError) Error() string {
	s := "regalio: retries exhausted after " + strconv.Itoa(e.Attempts) + " attempts"
	if e.Status != 0 {
		s += ": last status " + strconv.Itoa(e.Status)
	} else if e.Last != nil {
		s += ": " + e.Last.Error()
	}
	return s
}

// Unwrap returns ErrRetriesExhausted and the last error.
func (e *RetryError) Unwrap() []error { return []error{ErrRetriesExhausted, e.Last} }

var (
	emailPattern = regexp.MustCompile(`[^\s"'<>(),;:@]+@[A-Za-z0-9.-]+`)
	phonePattern = regexp.MustCompile(`\+?\d[\d ().-]{5,}\d`)
	// encodedAt are the ways a body may encode an email's '@': percent-encoded, as a JSON
	// escape, as an HTML character reference.
	encodedAt = regexp.MustCompile(`(?i)%40|\\u0040|&#0*64;|&#x0*40;`)
)

// maskExcerpt returns the first 256 bytes of b as valid UTF-8 with every email and every
// run of digits that may be a phone number masked: the usual forms as MaskEmail and
// MaskPhone write them, then whatever else diag.Mask finds (digits with other
// separators, of other widths).
func maskExcerpt(b []byte) string {
	const max = 256
	if len(b) > max {
		b = b[:max]
	}
	s := strings.ToValidUTF8(string(b), "")
	s = encodedAt.ReplaceAllLiteralString(s, "@") // an address written as JSON, a URL or HTML may write it
	s = emailPattern.ReplaceAllStringFunc(s, identity.MaskEmail)
	s = phonePattern.ReplaceAllStringFunc(s, identity.MaskPhone)
	return strings.TrimSpace(diag.Mask(s))
}
