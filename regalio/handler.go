package regalio

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/answercap"
	"github.com/regalkit/regalkit/internal/jsonvalue"
)

// Sink receives the messages made of one request's Regal events and does the work:
// regalkit's Processor, a queue. It returns one [Result] per message, in order, and a
// nil error; an error means the messages were not processed (the Handler answers 500,
// or 503 when ctx ran out). ctx is the request's, bounded by HandlerOptions.Timeout.
// A Handler calls its sink from many goroutines at once.
type Sink func(ctx context.Context, msgs []event.Message) ([]Result, error)

// Result is what became of one Regal event.
type Result struct {
	// EventID is the event's eventId; the Handler fills it in.
	EventID string `json:"eventId,omitempty"`
	// MessageID is the message's messageId (see [ReportedEvent.Message]); empty from a
	// sink means the message's own.
	MessageID string `json:"messageId,omitempty"`
	// Duplicate reports that the event was seen before and changed nothing.
	Duplicate bool `json:"duplicate,omitempty"`
	// Diagnostics lists what was left out or refused (RULES.md, X).
	Diagnostics []diag.Diagnostic `json:"diagnostics,omitempty"`
}

// HandlerResponse is the JSON body of every answer of a [Handler].
type HandlerResponse struct {
	// Error says why the request was refused or failed; empty with status 200.
	Error string `json:"error,omitempty"`
	// Code is the diagnostic code of a body refused with 400.
	Code diag.Code `json:"code,omitempty"`
	// Results has one entry per event of the request, in order, with status 200.
	Results []Result `json:"results,omitempty"`
}

// HandlerOptions configures a [Handler].
type HandlerOptions struct {
	// Token is the secret Regal is configured to send. Required: NewHandler refuses
	// an empty one, since Regal signs nothing and the token is all that tells its
	// requests from anyone else's.
	Token string
	// Header names a header that carries Token raw, such as "X-Regal-Token", or
	// "Authorization" for the raw token there. Whatever Header is,
	// "Authorization: Bearer <Token>" is accepted too; empty means only that.
	Header string
	// MaxBodyBytes caps the request body. Zero means 1 MiB.
	MaxBodyBytes int64
	// Timeout bounds the sink, so that the Handler answers within Regal's 5 seconds.
	// Zero means 4 seconds.
	Timeout time.Duration
	// DedupeSize is how many eventIds the Handler remembers (Rule R4). Zero means
	// 65536.
	DedupeSize int
	// Logger receives an info line per request refused and a warning per sink failure.
	// It never receives a body, nor a value from one. Nil means no logging.
	Logger *slog.Logger
}

// ErrNoToken is returned by NewHandler without a token.
var ErrNoToken = errors.New("regalio: the handler needs a token")

// Handler is an http.Handler for Regal's reporting webhooks (Rule R4), the way
// segmentio.Handler is Segment's: it checks the token, decodes each event ([DecodeEvent];
// a JSON array of events is read too), hands the messages to a [Sink], and answers:
//
//   - 405 for a method other than POST;
//   - 401 when the token is missing or wrong, compared in constant time;
//   - 400 when the body can never be read: too large, not JSON, not an event;
//   - 500 when the sink failed, 503 when it ran past Timeout (Regal does not retry);
//   - 200 with {"results":[...]}, one per event, otherwise. An eventId the Handler has
//     already seen answers {"duplicate":true} without calling the sink.
//
// A Handler is safe for concurrent use.
type Handler struct {
	sink    Sink
	token   [32]byte
	header  string
	maxBody int64
	timeout time.Duration
	seen    *lru.Cache[string, struct{}]
	log     *slog.Logger
}

// NewHandler returns a Handler that passes Regal's events to sink. It returns
// [ErrNoToken] when opts has no Token.
func NewHandler(sink Sink, opts *HandlerOptions) (*Handler, error) {
	if opts == nil || opts.Token == "" {
		return nil, ErrNoToken
	}
	h := &Handler{
		sink:    sink,
		token:   sha256.Sum256([]byte(opts.Token)),
		header:  opts.Header,
		maxBody: opts.MaxBodyBytes,
		timeout: opts.Timeout,
		log:     opts.Logger,
	}
	if h.maxBody <= 0 {
		h.maxBody = 1 << 20
	}
	if h.timeout <= 0 {
		h.timeout = 4 * time.Second
	}
	size := opts.DedupeSize
	if size <= 0 {
		size = 1 << 16
	}
	h.seen, _ = lru.New[string, struct{}](size) // size > 0: no error
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

// authorized reports whether r carries the token: raw in the configured header, or as
// Bearer credentials in Authorization.
func (h *Handler) authorized(r *http.Request) bool {
	ok := 0
	if v := r.Header.Get(h.header); h.header != "" && v != "" {
		ok |= h.match(v)
	}
	if v := r.Header.Get("Authorization"); len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		ok |= h.match(strings.TrimSpace(v[7:]))
	}
	return ok == 1
}

// match compares v with the token in constant time (both hashed, so their lengths do
// not show either).
func (h *Handler) match(v string) int {
	sum := sha256.Sum256([]byte(v))
	return subtle.ConstantTimeCompare(sum[:], h.token[:])
}

// ServeHTTP handles one delivery, as described on [Handler].
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(w, r, http.StatusMethodNotAllowed, &HandlerResponse{Error: "regalio: method not allowed: events are POSTed"})
		return
	}
	if !h.authorized(r) {
		h.refuse(w, r, http.StatusUnauthorized, &HandlerResponse{Error: "regalio: missing or wrong token"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		resp := &HandlerResponse{Error: "regalio: the body could not be read", Code: diag.RegalInvalid}
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			resp = &HandlerResponse{Error: "regalio: body over " + strconv.FormatInt(h.maxBody, 10) + " bytes", Code: diag.MessageLimit}
		}
		h.refuse(w, r, http.StatusBadRequest, resp)
		return
	}
	events, errs, err := decodeBody(body)
	if err != nil {
		h.refuse(w, r, http.StatusBadRequest, &HandlerResponse{Error: err.Error(), Code: diag.RegalInvalid})
		return
	}

	results := make([]Result, len(events))
	var msgs []event.Message
	var at []int // index in results of each message
	for i := range events {
		if errs[i] != nil { // an element of an array that is no event fails alone
			results[i] = Result{Diagnostics: []diag.Diagnostic{{Code: diag.RegalInvalid, Message: errs[i].Error()}}}
			continue
		}
		e := &events[i]
		m := e.Message()
		results[i] = Result{EventID: e.EventID, MessageID: m.MessageID}
		// An id refused for its length (Rule D6) is not echoed, and its eventId, the same
		// text, neither: it may hold anything. Nor is it remembered: nothing was applied.
		if len(e.EventID) > maxSeenEventID || event.MessageIDTooLong(m.MessageID) {
			results[i].EventID, results[i].MessageID = "", ""
		}
		if e.EventID != "" && h.seen.Contains(e.EventID) {
			results[i].Duplicate = true
			continue
		}
		msgs = append(msgs, m)
		at = append(at, i)
	}
	if len(msgs) > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
		out, err := h.sink(ctx, msgs)
		cancel()
		if err == nil && len(out) != len(msgs) {
			err = errors.New("regalio: the sink returned " + strconv.Itoa(len(out)) + " results for " + strconv.Itoa(len(msgs)) + " messages")
		}
		if err != nil {
			status := http.StatusInternalServerError
			if errors.Is(err, context.DeadlineExceeded) {
				status = http.StatusServiceUnavailable
			}
			h.log.LogAttrs(r.Context(), slog.LevelWarn, "regalio: sink failed",
				slog.Int("status", status), slog.Int("events", len(msgs)), slog.String("error", err.Error()))
			h.write(w, status, &HandlerResponse{Error: "regalio: the events were not processed"})
			return
		}
		for j, res := range out {
			i := at[j]
			res.EventID = results[i].EventID
			if res.MessageID == "" || event.MessageIDTooLong(res.MessageID) {
				res.MessageID = results[i].MessageID // "" for an id refused for its length
			}
			for k := range res.Diagnostics {
				if event.MessageIDTooLong(res.Diagnostics[k].MessageID) {
					res.Diagnostics[k].MessageID = ""
				}
			}
			results[i] = res
			if res.EventID != "" {
				h.seen.Add(res.EventID, struct{}{})
			}
		}
	}
	capAnswer(results)
	h.write(w, http.StatusOK, &HandlerResponse{Results: results})
}

// maxSeenEventID is the longest eventId the Handler remembers: a longer one makes a
// messageId the Processor refuses (Rule D6), and would only fill the memory.
const maxSeenEventID = 100

// maxEvents is the most events one request may hold, as Segment's batches (Rule D7).
const maxEvents = 2500

// maxEventBytes is the most one event may take, as compact JSON: Segment's limit on
// one message (Rule D7), which is what each event becomes.
const maxEventBytes = 32 << 10

// errEventTooLarge refuses an event over maxEventBytes.
var errEventTooLarge = &EventError{Reason: "the event is over " + strconv.Itoa(maxEventBytes>>10) + " KB of JSON"}

// decodeBody reads one event, or a JSON array of events. An element of an array that
// is no event fails alone: its error is in errs, at its index. err is for a body that
// can never be read: not JSON, an empty array, over maxEvents elements, or one event
// that is no event. An event over maxEventBytes of compact JSON is no event.
func decodeBody(body []byte) (events []ReportedEvent, errs []error, err error) {
	if jsonvalue.KindOf(trimSpace(body)) != jsonvalue.KindArray {
		if len(body) > maxEventBytes {
			var sc jsonvalue.Scanner
			if doc, _, err := sc.CompactShared(nil, body); err == nil && len(doc) > maxEventBytes {
				return nil, nil, errEventTooLarge
			}
		}
		e, err := DecodeEvent(body)
		if err != nil {
			return nil, nil, err
		}
		return []ReportedEvent{e}, []error{nil}, nil
	}
	// The module's one JSON reader splits the array; each element is then decoded, and
	// checked, as an event.
	// The array adds a level above its events, whose own depth each event's decoding
	// checks: the split allows far deeper nesting (up to maxArrayDepth), so that one
	// event too deep fails alone (Rule R4) and one at the limit is read.
	sc := jsonvalue.Scanner{MaxDepth: maxArrayDepth}
	doc, _, err := sc.CompactShared(nil, body)
	if err != nil {
		var je *jsonvalue.Error
		if errors.As(err, &je) && !errors.Is(je.Err, jsonvalue.ErrSyntax) {
			return nil, nil, &EventError{Reason: "the body cannot be read: " + je.Error()}
		}
		return nil, nil, &EventError{Reason: "the body is not JSON"}
	}
	root := sc.Root()
	switch {
	case len(root) == 0:
		return nil, nil, &EventError{Reason: "no event in the array"}
	case len(root) > maxEvents:
		return nil, nil, &EventError{Reason: "more than " + strconv.Itoa(maxEvents) + " events in the array"}
	}
	events, errs = make([]ReportedEvent, len(root)), make([]error, len(root))
	for i, sp := range root {
		if sp.End-sp.Start > maxEventBytes {
			errs[i] = errEventTooLarge
			continue
		}
		events[i], errs[i] = DecodeEvent(doc[sp.Start:sp.End:sp.End])
	}
	return events, errs, nil
}

// maxArrayDepth is the nesting past which an array of events is refused whole: the
// split's stack grows with the depth.
const maxArrayDepth = 1024

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\r' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// MaxAnswerDiagnostics is how many diagnostics one answer of a Handler lists in all, as
// segmentio.MaxAnswerDiagnostics for Segment's (Rule R4, D7): past them, an event's
// result lists one, message.limit, that counts its others.
const MaxAnswerDiagnostics = 10_000

// capAnswer bounds the diagnostics of results to MaxAnswerDiagnostics in all.
func capAnswer(results []Result) {
	answercap.Cap(results, MaxAnswerDiagnostics, "regalio: ", func(r *Result) (*[]diag.Diagnostic, string) { return &r.Diagnostics, r.MessageID })
}

func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, status int, resp *HandlerResponse) {
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "regalio: request refused",
		slog.Int("status", status), slog.String("error", resp.Error))
	h.write(w, status, resp)
}

func (h *Handler) write(w http.ResponseWriter, status int, resp *HandlerResponse) {
	b, err := json.Marshal(resp)
	if err != nil { // cannot happen: the response holds strings and diagnostics
		b = []byte(`{"error":"regalio: response could not be encoded"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
