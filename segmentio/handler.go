package segmentio

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/answercap"
	"github.com/regalkit/regalkit/internal/httpstatus"
	"github.com/regalkit/regalkit/internal/jsonvalue"
)

// Sink receives the messages of one request and does the work: regalkit's Processor,
// a queue, a database. The messages are decoded and valid (Rule D6, but for its
// reserved identifiers, which only the Processor refuses: message.reserved_id), in
// input order, and share no memory with the request or with each other; a message's
// own decoding diagnostics (an unparseable timestamp) are in its Diagnostics, for the
// sink to report.
//
// A sink returns one [SinkResult] per message, in the same order, and a nil error. A
// message the sink refuses (a bad phone, a message for a deleted user) is not an error:
// it is a result with diagnostics. An error means the messages, or some of them, were
// not processed and Segment should deliver them again: the Handler answers 500, or what
// a [*SinkError] asks for. Segment then re-delivers every message of the request, so a
// sink must treat a messageId it has already processed as a duplicate (Rule E2), as
// the Processor does.
//
// ctx is the request's context: it is done when the client goes away. A Handler calls
// its sink from many goroutines at once.
//
// The adapter for regalkit's Processor is a loop:
//
//	func(ctx context.Context, msgs []event.Message) ([]segmentio.SinkResult, error) {
//		out := make([]segmentio.SinkResult, len(msgs))
//		for i, m := range msgs {
//			r, err := p.Process(ctx, m)
//			if err != nil {
//				return nil, err
//			}
//			out[i] = segmentio.SinkResult{MessageID: r.MessageID, Duplicate: r.Duplicate, Diagnostics: r.Diagnostics}
//		}
//		return out, nil
//	}
type Sink func(ctx context.Context, msgs []event.Message) ([]SinkResult, error)

// SinkResult is what became of one message. The Handler answers with one per message
// of the request, in input order: those its sink returned, and its own for messages it
// could not decode.
type SinkResult struct {
	// MessageID is the message's messageId, or the one the sink derived for a message
	// without one (Rule E2). Empty means the message's own.
	MessageID string `json:"messageId,omitempty"`
	// Duplicate reports that the messageId was processed before, so the message changed
	// nothing (Rule E2).
	Duplicate bool `json:"duplicate,omitempty"`
	// Diagnostics lists what was refused (RULES.md, X): a field left out, or the whole
	// message.
	Diagnostics []diag.Diagnostic `json:"diagnostics,omitempty"`
}

// SinkError is a sink failure that asks the Handler for a status other than 500: 503
// when the sink is down for a while, 429 when it wants the sender to slow down. Any
// other error from a sink answers 500. Segment retries all three.
type SinkError struct {
	// Status is the HTTP status to answer: 429 or 500–599. Any other value means 500.
	Status int
	// RetryAfter, when positive, is sent as a Retry-After header, in whole seconds
	// rounded up. Zero sends none.
	RetryAfter time.Duration
	// Err is the cause, for logs; it is not sent to the client.
	Err error
}

// Error names the status and the cause.
func (e *SinkError) Error() string {
	s := "segmentio: sink failed with status " + strconv.Itoa(e.status())
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns Err.
func (e *SinkError) Unwrap() error { return e.Err }

// status returns the status to answer: Status when it is 429 or 5xx, else 500.
func (e *SinkError) status() int {
	if e.Status == http.StatusTooManyRequests || (e.Status >= 500 && e.Status <= 599) {
		return e.Status
	}
	return http.StatusInternalServerError
}

// HandlerOptions configures a [Handler]. The zero value, like a nil *HandlerOptions,
// accepts every request that is a Segment payload, up to Segment's size limits.
type HandlerOptions struct {
	// WriteKeys lists the Segment source write keys accepted. A request carries its key
	// as the user name of Basic credentials (Authorization: Basic base64(writeKey+":"),
	// the password ignored), or, without an Authorization header, as "writeKey" in the
	// body: in every message, or in the batch envelope around them. Empty means no write
	// key is asked for. An empty string in the list matches no request.
	WriteKeys []string

	// Secret is the shared secret of a Segment webhook destination. When set, every
	// request must carry X-Signature, the HMAC-SHA1 Segment computes with it over the
	// body's bytes as sent (after gzip decompression), never re-encoded (Rule D8; see
	// [VerifySignature]). Empty means no signature is checked.
	Secret string

	// MaxBodyBytes caps the request body, read or, with Content-Encoding gzip,
	// decompressed. Zero or less means the decoder's MaxBatchBytes: by default
	// Segment's 500 KB batch limit.
	MaxBodyBytes int64

	// Limits bound the decoding of the body (Rule D7). Nil means Segment's limits.
	Limits *Limits

	// Token is a shared bearer token. When set, every request must carry it as
	// "Authorization: Bearer TOKEN", compared in constant time; a request without it,
	// or with another, is refused with 401 before its body is read. Segment's Webhooks
	// (Actions) destination sends it when its mapping sets that header. A signature
	// covers only the first message of an array (Rule D8, see [VerifySignature]); the
	// token covers the whole request. With a token the Authorization header is taken,
	// so write keys, if asked for too, must come in the body. Empty means no token is
	// asked for.
	Token string

	// Now is the clock that stamps receivedAt on tracking-API messages that have none.
	// Nil means time.Now.
	Now func() time.Time

	// Logger receives a debug line per request handled, an info line per request
	// refused, and a warning per sink failure, with the sink's error. It never receives
	// a body, nor a value from one, and paths are masked (RULES.md, X). Nil means no logging.
	Logger *slog.Logger
}

// Handler is an http.Handler that receives Segment deliveries and hands their messages
// to a [Sink] (Rule D9). It takes POST requests with a body in any form of Rule D1: the
// webhook destination's single messages and JSON arrays, and the tracking API's calls.
//
// # Endpoints
//
// A request whose path ends in v1/identify, v1/track, v1/page, v1/screen, v1/group or
// v1/alias, or in the short forms analytics.js posts to (v1/i, v1/t, v1/p, v1/s, v1/g,
// v1/a), with or without a trailing slash, under any prefix, is a tracking-API call:
// its body is one message object, and the endpoint gives its type. A message without a
// "type" takes the endpoint's; one whose type names another endpoint is refused
// (message.invalid on the field "type"), as is an array, a batch or several messages.
// Every other path, v1/batch, v1/import and v1/b (where analytics.js in batching mode,
// analytics-kotlin and analytics-swift post) included, takes any number of messages of
// any type in any form of Rule D1, each with its own "type".
//
// Segment's tracking API stamps every message with the time it arrived. So does the
// Handler for a path ending in v1/NAME, NAME one of the six above, batch or import: a
// message without a receivedAt gets the Handler's clock, in UTC, and its event time is
// computed again with it (Rule D5). A webhook delivery keeps the receivedAt Segment
// put there, and gets none when it has none.
//
// # Browsers
//
// analytics.js posts to the tracking API from the pages it runs in, on other origins
// than the Handler's. A tracking-API request that carries an Origin header is answered
// with Access-Control-Allow-Origin: *, so that the page may read the answer (analytics.js
// retries one it cannot read), and a CORS preflight (OPTIONS with an Origin) with 204,
// allowing POST with the Authorization, Content-Type and Content-Encoding headers. The
// tracking API authenticates by write key or token, never by cookie, so any origin may
// call it, as any origin may call Segment's. Webhook paths are called by Segment's
// servers, not by browsers, and get no CORS headers.
//
// The Handler does not route: it takes whatever path it is given. A program mounts it
// on the paths it documents, and answers others itself (see examples/webhook).
//
// # Authentication
//
// When a token is set, the request must carry it (see [HandlerOptions.Token]); when a
// secret is set, the body must be signed (Rule D8); when write keys are set, the
// request must carry one of them (see [HandlerOptions.WriteKeys]). With several, a
// request needs each. A signature covers only the first element of a JSON array (Rule
// D8): anyone holding one signed message can append forged ones to it, so a program
// that takes arrays should ask for a token too (see SECURITY.md). A tracking-API client cannot sign; to take signed webhook deliveries and
// tracking-API calls in one program, mount two Handlers. A "writeKey" in a message is a
// credential, not data: the Handler removes it before the message reaches the sink.
//
// # Status codes
//
// The status follows Segment's retry rules: Segment retries 5xx and 429, and drops
// other 4xx.
//
//   - 200: the sink processed the request. The body lists one result per message
//     ([HandlerResponse]), with diagnostics for messages refused in part or whole,
//     those that could not be decoded included.
//   - 400: the body can never succeed: not JSON, empty, not a Segment message, no
//     message that could be decoded, or the wrong form for a typed endpoint. Also a
//     gzip body that is not gzip, or a body that could not be read. An empty array
//     gets 400 whether or not a secret is set: it can never be signed.
//   - 401: the credentials are missing or cannot be checked: no or a wrong bearer
//     token when a token is set; no or a wrong X-Signature
//     when a secret is set; when write keys are set, an Authorization header that is
//     neither Basic credentials nor Bearer ones (an OAuth token, which the Handler
//     cannot check: the body's keys decide, as without a header), or no Basic header
//     and a body in which some message has no write key (its own or its batch
//     envelope's), or that cannot be read for one.
//   - 403: a write key was given and is not one of those accepted.
//   - 405: the method is not POST.
//   - 413: the body is over MaxBodyBytes, or what it holds breaks a size or count
//     limit of [Limits] and nothing else could be decoded. Before answering a body
//     over MaxBodyBytes the Handler reads and discards the rest of it, up to 8 MB or
//     for 2 seconds, whichever comes first, and then closes the connection (a
//     lingering close): a client that writes its whole body before it reads the reply
//     then sees the 413 rather than a connection reset. A body declared longer than
//     that, or one its client sends only after a 100 Continue, is refused at once.
//   - 415: a Content-Encoding other than gzip or identity.
//   - 500, or the status of a [*SinkError] (429, 503, ...): the sink failed. The
//     delivery is retried, and must be harmless (Rule E2).
//
// Every response but a CORS preflight's (204, see "Browsers") has a JSON body, a
// [HandlerResponse]. Its texts quote no value from
// the request, but for the name of an unsupported type, cut to 32 bytes and masked
// (RULES.md, X). Checks run in this order: method, token, Authorization header, size,
// encoding, signature, write key in the body, payload. The Content-Type is not
// checked: the body is read as Segment JSON whatever it says.
//
// A Handler is safe for concurrent use by multiple goroutines.
type Handler struct {
	sink    Sink
	token   *[sha256.Size]byte // digest of the bearer token; nil for none
	now     func() time.Time
	needKey bool
	keys    [][sha256.Size]byte // digests of the accepted write keys
	secret  []byte
	maxBody int64
	limits  Limits
	log     *slog.Logger
}

// NewHandler returns a Handler that hands the messages it receives to sink, configured
// by opts (nil means the defaults). It panics if sink is nil, as http.Handle does for
// a nil handler: that is the program's mistake, not its input's.
func NewHandler(sink Sink, opts *HandlerOptions) *Handler {
	if sink == nil {
		panic("segmentio: NewHandler with a nil sink")
	}
	var o HandlerOptions
	if opts != nil {
		o = *opts
	}
	h := &Handler{sink: sink, limits: o.Limits.withDefaults(), maxBody: o.MaxBodyBytes, log: o.Logger}
	if h.maxBody <= 0 {
		h.maxBody = int64(h.limits.MaxBatchBytes)
	}
	h.needKey = len(o.WriteKeys) > 0
	for _, k := range o.WriteKeys {
		if k != "" {
			h.keys = append(h.keys, sha256.Sum256([]byte(k)))
		}
	}
	if o.Secret != "" {
		h.secret = []byte(o.Secret)
	}
	if o.Token != "" {
		sum := sha256.Sum256([]byte(o.Token))
		h.token = &sum
	}
	h.now = o.Now
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h
}

// HandlerResponse is the JSON body of every response of a [Handler].
//
// A response with another status than 200 always has an error, a code and a message,
// as Segment's tracking API answers and as analytics-python reads it (it reads "code"
// and "message" of every refusal, and retries a 4xx whose body lacks them as if it were
// a failure of the network).
type HandlerResponse struct {
	// Error says why the request was refused or failed; empty with status 200.
	Error string `json:"error,omitempty"`
	// Code is the diagnostic code of a payload refused with 400 or 413, such as
	// "message.invalid"; for another refusal or failure, "http." and the status's
	// name in snake case, such as "http.unauthorized" or "http.internal_server_error";
	// empty with status 200.
	Code diag.Code `json:"code,omitempty"`
	// Message is Error again, under the name Segment's libraries read; empty with status
	// 200.
	Message string `json:"message,omitempty"`
	// Results has one entry per message of the request, in input order: with status
	// 200, what the sink did with each and why those that could not be decoded were
	// refused; with 400 or 413, why each was refused.
	Results []SinkResult `json:"results,omitempty"`
}

// ServeHTTP handles one delivery, as described on [Handler].
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ep := endpointOf(r.URL.Path)
	if ep.api { // analytics.js posts from the pages it runs in (see "Browsers" on Handler)
		hd := w.Header()
		hd.Add("Vary", "Origin") // a cache must not give an answer made without one to a browser
		if r.Header.Get("Origin") != "" {
			hd.Set("Access-Control-Allow-Origin", "*")
			if r.Method == http.MethodOptions {
				hd.Set("Access-Control-Allow-Methods", "POST")
				hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding")
				hd.Set("Access-Control-Max-Age", "86400")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(w, r, http.StatusMethodNotAllowed, "segmentio: method not allowed: deliveries are POSTed")
		return
	}

	if h.token != nil && !h.bearerOK(r.Header.Get("Authorization")) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="segment"`)
		h.refuse(w, r, http.StatusUnauthorized, "segmentio: missing or wrong bearer token")
		return
	}
	keyed := false // the Authorization header carried an accepted write key
	if auth := r.Header.Get("Authorization"); h.needKey && auth != "" && h.token == nil {
		key, ok := basicUser(r)
		switch {
		case ok:
			if !h.accepts(key) {
				h.refuse(w, r, http.StatusForbidden, "segmentio: write key not accepted")
				return
			}
			keyed = true
		case isBearer(auth):
			// An OAuth token (analytics-python and others with OAuth on), which this
			// Handler cannot check; such libraries send the write key in the body as
			// well, and the body's keys decide, as for a request with no header.
		default:
			h.challenge(w)
			h.refuse(w, r, http.StatusUnauthorized, "segmentio: the Authorization header is not Basic credentials")
			return
		}
	}

	body, status, err := h.readBody(w, r)
	if err != nil {
		resp := &HandlerResponse{Error: err.Error()}
		if status == http.StatusRequestEntityTooLarge {
			resp.Code = diag.MessageLimit
		}
		h.respond(w, r, status, resp)
		return
	}
	defer putBody(body)

	if h.secret != nil && jsonvalue.IsEmptyArray(bytes.TrimSpace(*body)) {
		// No signature can cover an array with no first element: this never succeeds.
		h.respond(w, r, http.StatusBadRequest, &HandlerResponse{Error: "segmentio: the body holds no message", Code: diag.MessageInvalid})
		return
	}
	if h.secret != nil {
		switch err := VerifySignature(*body, r.Header.Get("X-Signature"), h.secret); {
		case errors.Is(err, ErrNoSignature):
			h.refuse(w, r, http.StatusUnauthorized, "segmentio: missing X-Signature header")
			return
		case err != nil:
			h.refuse(w, r, http.StatusUnauthorized, "segmentio: X-Signature does not match the body")
			return
		}
	}

	p := h.decode(*body, ep)
	if h.needKey && !keyed {
		if status, reason := h.bodyKeyStatus(&p); status != 0 {
			if status == http.StatusUnauthorized {
				h.challenge(w)
			}
			h.refuse(w, r, status, reason)
			return
		}
	}
	var received []byte // receivedAt for tracking-API messages without one
	if ep.api {
		received = jsonvalue.AppendString(nil, h.now().UTC().Format(time.RFC3339Nano))
	}
	for i := range p.msgs {
		m := &p.msgs[i]
		m.Extra = dropWriteKey(m.Extra)
		if received != nil && m.Timestamps.ReceivedAt == nil {
			if m.MessageID == "" {
				// Derived before receivedAt is stamped, which would make it part of the
				// content: a client's retry of the call is the same message (Rule E2).
				m.MessageID = event.DeriveMessageID(m)
			}
			m.Timestamps.ReceivedAt = received
			// Rule D5, with the new source: its timestamp diagnostics replace the old,
			// the decoder's others stay.
			others := slices.DeleteFunc(m.Diagnostics, func(d diag.Diagnostic) bool { return d.Code == diag.TimestampInvalid })
			var timeDiags []diag.Diagnostic
			m.Time, timeDiags = m.Timestamps.EventTime()
			for j := range timeDiags {
				timeDiags[j].MessageID = m.MessageID
			}
			m.Diagnostics = append(timeDiags, others...)
		}
	}
	if len(p.msgs) == 0 {
		status, resp := p.refusal()
		h.respond(w, r, status, resp)
		return
	}

	results, err := h.sink(r.Context(), p.msgs)
	if err == nil && len(results) != len(p.msgs) {
		err = errors.New("segmentio: the sink returned " + strconv.Itoa(len(results)) + " results for " + strconv.Itoa(len(p.msgs)) + " messages")
	}
	if err != nil {
		status := http.StatusInternalServerError
		if se, ok := errors.AsType[*SinkError](err); ok {
			status = se.status()
			if se.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.FormatInt(int64((se.RetryAfter+time.Second-1)/time.Second), 10))
			}
		}
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "segmentio: sink failed",
			slog.String("path", cut(diag.Mask(r.URL.Path), 256)), slog.Int("status", status),
			slog.Int("messages", len(p.msgs)), slog.String("error", err.Error()))
		h.write(w, status, &HandlerResponse{Error: "segmentio: the messages were not processed; deliver them again"})
		return
	}
	for i, res := range results {
		if res.MessageID == "" {
			res.MessageID = p.msgs[i].MessageID
		}
		unechoLongIDs(&res.MessageID, res.Diagnostics)
		p.results[p.at[i]] = res
	}
	h.respond(w, r, http.StatusOK, &HandlerResponse{Results: p.results})
}

// endpoint is what a request's path says about its body.
type endpoint struct {
	name string     // "track", ...; empty for a webhook delivery or a batch
	kind event.Kind // the type of a typed endpoint's message; zero for any form and type
	api  bool       // a tracking-API endpoint, typed or v1/batch, v1/import
}

// endpointOf returns the tracking-API endpoint a path names by its last two segments,
// v1/NAME, or the zero endpoint for a webhook delivery.
func endpointOf(path string) endpoint {
	if len(path) > 1 && path[len(path)-1] == '/' {
		path = path[:len(path)-1]
	}
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return endpoint{}
	}
	name, parent := path[i+1:], path[:i]
	if j := strings.LastIndexByte(parent, '/'); parent[j+1:] != "v1" {
		return endpoint{}
	}
	switch name {
	case "batch", "import", "b":
		// "b": analytics.js in batching mode, analytics-kotlin and analytics-swift post
		// their batches to /v1/b.
		return endpoint{api: true}
	case "i", "t", "p", "s", "g", "a":
		// analytics.js (analytics-next) posts each call to /v1/ and its type's first
		// letter.
		for _, kind := range [...]event.Kind{event.Identify, event.Track, event.Page, event.Screen, event.Group, event.Alias} {
			if kind.String()[0] == name[0] {
				return endpoint{name: kind.String(), kind: kind, api: true}
			}
		}
	}
	// A typed endpoint is a kind's Segment type name (event's table of kinds), spelled
	// exactly; the tracking API has one for every kind but delete.
	if kind, ok := event.ParseKind(name); ok && kind != event.Delete && name == kind.String() {
		return endpoint{name: name, kind: kind, api: true}
	}
	return endpoint{}
}

// isBearer reports whether auth is Bearer credentials, whatever the token.
func isBearer(auth string) bool {
	const prefix = "bearer "
	return len(auth) > len(prefix) && strings.EqualFold(auth[:len(prefix)], prefix)
}

// bearerOK reports whether auth holds the Handler's token as Bearer credentials, in
// time that does not depend on where the two differ.
func (h *Handler) bearerOK(auth string) bool {
	const prefix = "bearer "
	if len(auth) < len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(auth[len(prefix):])))
	return subtle.ConstantTimeCompare(sum[:], h.token[:]) == 1
}

// basicUser returns the user name of r's Basic credentials: the write key. Besides what
// r.BasicAuth accepts, it takes a value without the colon whole, unpadded base64 and
// space around it, as some clients send them.
func basicUser(r *http.Request) (string, bool) {
	if user, _, ok := r.BasicAuth(); ok {
		return user, true
	}
	const prefix = "basic "
	auth := r.Header.Get("Authorization")
	if len(auth) < len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
		return "", false
	}
	enc := strings.TrimSpace(auth[len(prefix):])
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(enc); err != nil {
			return "", false
		}
	}
	user, _, _ := strings.Cut(string(raw), ":")
	return user, true
}

// accepts reports whether key is an accepted write key, in time that depends only on
// the number of accepted keys.
func (h *Handler) accepts(key string) bool {
	sum := sha256.Sum256([]byte(key))
	match := 0
	for _, k := range h.keys {
		match |= subtle.ConstantTimeCompare(sum[:], k[:])
	}
	return match == 1
}

// challenge sets the WWW-Authenticate header of a 401 about write keys.
func (h *Handler) challenge(w http.ResponseWriter) {
	if h.needKey {
		w.Header().Set("WWW-Authenticate", `Basic realm="segment"`)
	}
}

// payload is a decoded request body.
type payload struct {
	msgs    []event.Message // the messages for the sink
	at      []int           // at[i] is the index in results of msgs[i]
	results []SinkResult    // one per item; filled for items that failed
	failed  []*ItemError    // the items that failed, in order
	fatal   error           // what stopped the reading, if anything
	form    string          // for a typed endpoint given the wrong form: which one

	// Write keys found in the body, for authentication.
	keys     []string // the distinct keys given, by messages or envelopes
	keyless  bool     // a message came with no key, neither its own nor its envelope's
	keyFound bool     // some key was given
}

// decode reads every message of body, as DecodeAll does, noting the write keys it
// carries and holding a typed endpoint to one message of its type.
func (h *Handler) decode(body []byte, ep endpoint) payload {
	var p payload
	st := getState(&h.limits)
	defer putState(st)
	st.kind = ep.kind
	d := Decoder{in: input{buf: body, eof: true}, st: st}
	for {
		var m event.Message
		err := d.Decode(&m)
		// One request holds at most MaxBatchItems items whatever its form: NDJSON
		// lines and documents one after another count together, lines and documents
		// that hold no message (an empty array, an empty batch) too, so that neither
		// the sink's work nor the answer (a result each) grows past the limit (Rule
		// D7). The request is refused whole.
		items := len(p.results) + st.emptyDocs
		if (err == io.EOF && items > h.limits.MaxBatchItems) || (err != io.EOF && items >= h.limits.MaxBatchItems) {
			p.msgs, p.at, p.results, p.failed = nil, nil, nil, nil
			p.fatal = &LimitError{Limit: LimitBatchItems, Max: h.limits.MaxBatchItems, Offset: st.docOffset}
			break
		}
		if err == io.EOF {
			break
		}
		ie, failed := errors.AsType[*ItemError](err)
		if err != nil && !failed {
			p.fatal = err
			break
		}
		hasEnvKey := st.form == formBatch && st.env.writeKey.end > 0
		if hasEnvKey {
			key, _ := jsonvalue.String(st.doc[st.env.writeKey.start:st.env.writeKey.end])
			p.noteKey(key)
		}
		if !failed {
			if raw, ok := m.Extra.Get("writeKey"); ok {
				key, _ := jsonvalue.String(raw)
				p.noteKey(key)
			} else if !hasEnvKey {
				p.keyless = true
			}
		}
		if ep.kind != 0 {
			switch {
			case st.form == formArray:
				p.form = "an array"
			case st.form == formBatch:
				p.form = "a batch"
			case len(p.results) > 0:
				p.form = "several messages"
			}
			if p.form != "" {
				p.fatal = &FieldError{Reason: "the " + ep.name + " endpoint takes one message object, not " + p.form}
				break
			}
			if !failed && m.Kind != ep.kind {
				ie, failed = &ItemError{Index: 0, Line: st.line, Offset: st.docOffset, MessageID: m.MessageID,
					Err: &FieldError{Field: "type", Reason: "the " + ep.name + " endpoint takes " + ep.name + " messages"}}, true
			}
		}
		if failed {
			p.failed = append(p.failed, ie)
			p.results = append(p.results, SinkResult{MessageID: ie.MessageID, Diagnostics: []diag.Diagnostic{ie.Diagnostic()}})
			continue
		}
		p.at = append(p.at, len(p.results))
		p.msgs = append(p.msgs, m)
		p.results = append(p.results, SinkResult{MessageID: m.MessageID})
	}
	if p.form != "" {
		p.msgs, p.at, p.results, p.failed = nil, nil, nil, nil
	}
	if p.fatal != nil && len(p.msgs) > 0 {
		// The messages before it stand; what could not be read gets its diagnostic, as
		// a message of its own.
		p.results = append(p.results, SinkResult{Diagnostics: []diag.Diagnostic{{Code: CodeOf(p.fatal), Message: p.fatal.Error()}}})
	}
	return p
}

// noteKey records a write key given in the body.
func (p *payload) noteKey(key string) {
	p.keyFound = true
	if !slices.Contains(p.keys, key) {
		p.keys = append(p.keys, key)
	}
}

// bodyKeyStatus checks the write keys the body carries: 403 when one is not accepted,
// 401 when there is none or a message has none, 0 when the request may go on.
func (h *Handler) bodyKeyStatus(p *payload) (int, string) {
	for _, k := range p.keys {
		if !h.accepts(k) {
			return http.StatusForbidden, "segmentio: write key not accepted"
		}
	}
	switch {
	case !p.keyFound:
		return http.StatusUnauthorized, "segmentio: no write key: send Authorization: Basic base64(writeKey:), or writeKey in the body"
	case p.keyless:
		return http.StatusUnauthorized, "segmentio: a message has no write key"
	}
	return 0, ""
}

// refusal returns the response to a body with no message for the sink: 413 when every
// message broke a size limit, 400 otherwise.
func (p *payload) refusal() (int, *HandlerResponse) {
	resp := &HandlerResponse{Results: p.results}
	errs := make([]error, 0, len(p.failed)+1)
	for _, ie := range p.failed {
		errs = append(errs, ie.Err)
	}
	if p.fatal != nil {
		errs = append(errs, p.fatal)
	}
	if len(errs) == 0 {
		resp.Error, resp.Code = "segmentio: the body holds no message", diag.MessageInvalid
		return http.StatusBadRequest, resp
	}
	status := http.StatusRequestEntityTooLarge
	for _, err := range errs {
		if !isSizeLimit(err) {
			status = http.StatusBadRequest
			break
		}
	}
	first := errs[0]
	if p.fatal != nil && len(p.failed) == 0 {
		resp.Error = p.fatal.Error()
	} else if len(p.failed) == 1 && p.fatal == nil {
		resp.Error = p.failed[0].Error()
	} else {
		resp.Error = "segmentio: no message could be decoded; the first: " + p.failed[0].Error()
	}
	resp.Code = CodeOf(first)
	return status, resp
}

// isSizeLimit reports whether err is a size or count limit: what 413 means.
func isSizeLimit(err error) bool {
	le, ok := errors.AsType[*LimitError](err)
	return ok && (le.Limit == LimitMessageBytes || le.Limit == LimitBatchBytes || le.Limit == LimitBatchItems)
}

// dropWriteKey removes the top-level writeKey members from extra: a credential is not
// data to keep.
func dropWriteKey(extra event.Object) event.Object {
	if _, ok := extra.Get("writeKey"); !ok {
		return extra
	}
	extra = slices.DeleteFunc(extra, func(m event.Member) bool { return m.Key == "writeKey" })
	if len(extra) == 0 {
		return nil
	}
	return extra
}

// refuse answers a request refused before its payload was looked at.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	h.respond(w, r, status, &HandlerResponse{Error: reason})
}

// MaxAnswerDiagnostics is how many diagnostics one answer of a Handler lists in all
// (Rule D7): past them, a message's result lists one, message.limit, that counts its
// others. A result lists at most 100 of its own already; without a bound for the whole
// answer, 2,500 messages of optIn arrays of empty records (400 KB) made a 48 MB answer
// (issue 14's hostile-sender review).
const MaxAnswerDiagnostics = 10_000

// capAnswer bounds the diagnostics of results to MaxAnswerDiagnostics in all.
func capAnswer(results []SinkResult) {
	answercap.Cap(results, MaxAnswerDiagnostics, "segmentio: ", func(r *SinkResult) (*[]diag.Diagnostic, string) { return &r.Diagnostics, r.MessageID })
}

// respond logs the outcome and writes resp.
func (h *Handler) respond(w http.ResponseWriter, r *http.Request, status int, resp *HandlerResponse) {
	capAnswer(resp.Results)
	ctx := r.Context()
	if status == http.StatusOK {
		if h.log.Enabled(ctx, slog.LevelDebug) {
			var dups, diags int
			for _, res := range resp.Results {
				if res.Duplicate {
					dups++
				}
				diags += len(res.Diagnostics)
			}
			h.log.LogAttrs(ctx, slog.LevelDebug, "segmentio: delivery handled",
				slog.String("path", cut(diag.Mask(r.URL.Path), 256)), slog.Int("messages", len(resp.Results)),
				slog.Int("duplicates", dups), slog.Int("diagnostics", diags))
		}
	} else {
		h.log.LogAttrs(ctx, slog.LevelInfo, "segmentio: delivery refused",
			slog.String("path", cut(diag.Mask(r.URL.Path), 256)), slog.Int("status", status),
			slog.String("reason", resp.Error), slog.String("remote", r.RemoteAddr))
	}
	h.write(w, status, resp)
}

// write sends resp as JSON with the status.
func (h *Handler) write(w http.ResponseWriter, status int, resp *HandlerResponse) {
	if status != http.StatusOK {
		if resp.Code == "" {
			resp.Code = httpstatus.Code(status)
		}
		if resp.Message == "" {
			resp.Message = resp.Error
		}
	}
	b, err := json.Marshal(resp)
	if err != nil { // a diagnostic a sink filled with invalid UTF-8 still marshals; nothing else can fail
		status, b = http.StatusInternalServerError, []byte(`{"error":"segmentio: the response could not be encoded","code":"http.internal_server_error","message":"segmentio: the response could not be encoded"}`)
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// cut returns s cut to at most n bytes of valid UTF-8, for logs.
func cut(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

var bodies = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// putBody returns a body buffer to the pool unless it is large.
func putBody(b *[]byte) {
	if cap(*b) > 1<<20 {
		return
	}
	*b = (*b)[:0]
	bodies.Put(b)
}

// unechoLongIDs clears a messageId over event.MaxMessageIDLength characters in a result
// and its diagnostics: the message is refused for it (Rule D6), and the answer does not
// echo it, since it may hold anything, a sender's email included.
func unechoLongIDs(id *string, diags []diag.Diagnostic) {
	if event.MessageIDTooLong(*id) {
		*id = ""
	}
	for i := range diags {
		if event.MessageIDTooLong(diags[i].MessageID) {
			diags[i].MessageID = ""
		}
	}
}
