package segmentio

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
)

// fakeSink records what it is given and dedupes by messageId, as a store does (Rule
// E2): a message it has seen is a duplicate and is stored once. fail, when set, runs
// before each message; an error from it stops the batch there, the messages before it
// kept.
type fakeSink struct {
	fail func(call, index int, m *event.Message) error

	mu     sync.Mutex
	calls  int
	stored map[string]int               // messageId → times stored
	got    [][]event.Message            // every call's messages
	ctxs   []context.Context            // every call's context
	diags  map[string][]diag.Diagnostic // per messageId, returned with its result
}

func (s *fakeSink) sink(ctx context.Context, msgs []event.Message) ([]SinkResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.got = append(s.got, msgs)
	s.ctxs = append(s.ctxs, ctx)
	if s.stored == nil {
		s.stored = map[string]int{}
	}
	out := make([]SinkResult, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		if s.fail != nil {
			if err := s.fail(s.calls, i, m); err != nil {
				return nil, err
			}
		}
		id := m.MessageID
		if id == "" {
			id = event.DeriveMessageID(m)
		}
		out[i] = SinkResult{MessageID: id, Duplicate: s.stored[id] > 0, Diagnostics: s.diags[id]}
		if s.stored[id] == 0 {
			s.stored[id]++
		}
	}
	return out, nil
}

func (s *fakeSink) messages() []event.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []event.Message
	for _, g := range s.got {
		all = append(all, g...)
	}
	return all
}

// serve starts a Handler on a loopback server.
func serve(t testing.TB, sink Sink, opts *HandlerOptions) string {
	t.Helper()
	srv := httptest.NewServer(NewHandler(sink, opts))
	t.Cleanup(srv.Close)
	require.True(t, strings.HasPrefix(srv.URL, "http://127.0.0.1:"), "loopback only: %s", srv.URL)
	return srv.URL
}

type reply struct {
	status int
	header http.Header
	body   HandlerResponse
	raw    string
}

// post sends body to url with the headers (name, value, name, value, ...).
func post(t testing.TB, url, body string, headers ...string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return do(t, req)
}

func do(t testing.TB, req *http.Request) reply {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.NoError(t, json.Unmarshal(raw, &r.body), "every response is a JSON HandlerResponse: %s", raw)
	if r.status != http.StatusOK {
		// analytics-python reads "code" and "message" of every refusal, and retries one
		// without them as a network failure (a review found a 400 sent 11 times).
		var keys map[string]any
		require.NoError(t, json.Unmarshal(raw, &keys))
		assert.IsType(t, "", keys["code"], "a refusal's code: %s", raw)
		assert.IsType(t, "", keys["message"], "a refusal's message: %s", raw)
		assert.NotEmpty(t, r.body.Code, raw)
		assert.Equal(t, r.body.Error, r.body.Message, raw)
	}
	return r
}

func basic(key string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"))
}

func track(id, user string) string {
	return `{"type":"track","event":"Loan Application Approved","messageId":"` + id + `","userId":"` + user + `","properties":{"amount":30000}}`
}

func codes(res []SinkResult) []diag.Code {
	var out []diag.Code
	for _, r := range res {
		for _, d := range r.Diagnostics {
			out = append(out, d.Code)
		}
	}
	return out
}

// TestHandler_RuleD9_forms: a webhook's single message and array, a batch envelope and
// NDJSON all reach the sink in input order, and the 200 body has one result per
// message, those that could not be decoded included.
func TestHandler_RuleD9_forms(t *testing.T) {
	sink := &fakeSink{diags: map[string][]diag.Diagnostic{"m2": {{MessageID: "m2", Code: diag.PhoneInvalid, Field: "traits.phone", Message: "not a valid number ending 5555"}}}}
	url := serve(t, sink.sink, nil)

	r := post(t, url+"/", track("m1", "u1"))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, []SinkResult{{MessageID: "m1"}}, r.body.Results)
	assert.Empty(t, r.body.Error)

	r = post(t, url+"/hooks/segment", `[`+track("m2", "u1")+`,{"type":"track","messageId":"bad","userId":"u1"},`+track("m1", "u1")+`]`)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	require.Len(t, r.body.Results, 3)
	assert.Equal(t, SinkResult{MessageID: "m2", Diagnostics: sink.diags["m2"]}, r.body.Results[0], "the sink's diagnostics reach the response")
	assert.Equal(t, "bad", r.body.Results[1].MessageID)
	assert.Equal(t, []diag.Code{diag.PhoneInvalid, diag.MessageNoEvent}, codes(r.body.Results), "a decode failure is a diagnostic of its message")
	assert.Equal(t, SinkResult{MessageID: "m1", Duplicate: true}, r.body.Results[2])

	r = post(t, url+"/v1/batch", `{"batch":[`+track("m3", "u2")+`,{"type":"identify","messageId":"m4","userId":"u2","traits":{"firstName":"Rebecca"}}],"context":{"ip":"8.8.8.8"},"sentAt":"2024-02-15T22:43:20Z"}`)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, []SinkResult{{MessageID: "m3"}, {MessageID: "m4"}}, r.body.Results)

	r = post(t, url+"/", track("m5", "u3")+"\n\n"+`{"type":"page","name":"Offer","messageId":"m6","anonymousId":"a1"}`+"\nnot json\n")
	require.Equal(t, http.StatusOK, r.status, r.raw)
	require.Len(t, r.body.Results, 3)
	assert.Equal(t, []diag.Code{diag.MessageInvalid}, codes(r.body.Results[2:]), "an NDJSON line that is not JSON fails alone")

	msgs := sink.messages()
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.MessageID
	}
	assert.Equal(t, []string{"m1", "m2", "m1", "m3", "m4", "m5", "m6"}, ids)
	assert.Equal(t, "8.8.8.8", msgs[3].Context.IP, "the envelope's context is merged")
	assert.Equal(t, event.Page, msgs[6].Kind)
}

// TestHandler_RuleD9_typedEndpoints: on /v1/NAME the endpoint gives the type of a
// message without one; a message of another type, or a body that is not one message
// object, is refused.
func TestHandler_RuleD9_typedEndpoints(t *testing.T) {
	sink := &fakeSink{}
	url := serve(t, sink.sink, nil)
	untyped := func(id, fields string) string {
		return `{"messageId":"` + id + `","userId":"u",` + fields + `}`
	}
	for _, tc := range []struct {
		path, body string
		kind       event.Kind
	}{
		{"/v1/identify", untyped("i", `"traits":{"firstName":"Rebecca"}`), event.Identify},
		{"/v1/track", untyped("t", `"event":"Signed Up"`), event.Track},
		{"/v1/page", untyped("p", `"name":"Home"`), event.Page},
		{"/v1/screen", untyped("s", `"name":"Home"`), event.Screen},
		{"/v1/group", untyped("g", `"groupId":"acme"`), event.Group},
		{"/v1/alias", untyped("a", `"previousId":"old"`), event.Alias},
		{"/v1/track/", untyped("t2", `"event":"Signed Up"`), event.Track},
		{"/segment/v1/page", untyped("p2", `"name":"Home"`), event.Page},
		{"/v1/track", `{"type":"TRACK","messageId":"t3","userId":"u","event":"E"}`, event.Track},
	} {
		t.Run(tc.path+"/"+tc.body[14:16], func(t *testing.T) {
			r := post(t, url+tc.path, tc.body)
			require.Equal(t, http.StatusOK, r.status, r.raw)
			msgs := sink.messages()
			assert.Equal(t, tc.kind, msgs[len(msgs)-1].Kind)
		})
	}
	for _, tc := range []struct {
		name, path, body, want string
	}{
		{"another type", "/v1/track", `{"type":"identify","userId":"u","messageId":"x"}`, "the track endpoint takes track messages"},
		{"an array", "/v1/track", `[` + untyped("x", `"event":"E"`) + `]`, "not an array"},
		{"a batch", "/v1/identify", `{"batch":[` + untyped("x", `"traits":{}`) + `]}`, "not a batch"},
		{"two messages", "/v1/page", untyped("x", `"name":"A"`) + "\n" + untyped("y", `"name":"B"`) + "\n", "not several messages"},
		{"invalid for its type", "/v1/track", untyped("x", `"name":"no event"`), "needs a non-empty event name"},
		{"no type elsewhere", "/v1/unknown", untyped("x", `"event":"E"`), "message has no type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(sink.messages())
			r := post(t, url+tc.path, tc.body)
			require.Equal(t, http.StatusBadRequest, r.status, r.raw)
			assert.Contains(t, r.body.Error, tc.want)
			assert.NotEmpty(t, r.body.Code)
			assert.Len(t, sink.messages(), before, "nothing reaches the sink")
		})
	}
}

// TestHandler_RuleD9_payloadErrors: a body that can never succeed is a 400 naming the
// problem, or a 413 when it is too large; nothing reaches the sink.
func TestHandler_RuleD9_payloadErrors(t *testing.T) {
	sink := &fakeSink{}
	url := serve(t, sink.sink, &HandlerOptions{MaxBodyBytes: 128 << 10})
	big := `{"type":"track","event":"E","userId":"u","properties":{"pad":"` + strings.Repeat("x", 40<<10) + `"}}`
	deep := strings.Repeat(`{"a":`, 70) + "1" + strings.Repeat("}", 70)
	for _, tc := range []struct {
		name, body string
		status     int
		code       diag.Code
		want       string
		results    int
	}{
		{"bad JSON", `{"type":"track",`, 400, diag.MessageInvalid, "syntax error at offset", 0},
		{"empty", "", 400, diag.MessageInvalid, "no message", 0},
		{"blank", " \n\t", 400, diag.MessageInvalid, "no message", 0},
		{"not an object", `42`, 400, diag.MessageInvalid, "not a JSON object", 1},
		{"not JSON", `hello`, 400, diag.MessageInvalid, "syntax error", 0},
		{"no valid message", `[{"type":"track","userId":"u"},{"type":"nope","userId":"u"}]`, 400, diag.MessageNoEvent, "no message could be decoded", 2},
		{"unsupported type", `{"type":"nope","userId":"u"}`, 400, diag.MessageUnsupportedType, "unsupported message type", 1},
		{"bad envelope", `{"batch":{}}`, 400, diag.MessageInvalid, "batch: want an array", 0},
		{"too deep", `{"type":"track","event":"E","userId":"u","properties":` + deep + `}`, 400, diag.MessageLimit, "depth limit", 1},
		{"message over 32 KB", big, 413, diag.MessageLimit, "message size limit", 1},
		{"every message over 32 KB", "[" + big + "," + big + "]", 413, diag.MessageLimit, "no message could be decoded", 2},
		{"too many items", "[" + strings.Repeat(`{},`, 2500) + `{}]`, 413, diag.MessageLimit, "batch items limit", 0},
		// Rule D7 bounds the request, not only one document in it.
		{"too many lines", strings.Repeat("1\n", 2501), 413, diag.MessageLimit, "batch items limit", 0},
		{"too many lines after a message", track("m", "u") + "\n" + strings.Repeat("1\n", 2500), 413, diag.MessageLimit, "batch items limit", 0},
		{"too many arrays", strings.Repeat("["+strings.Repeat(`{},`, 999)+`{}]`+"\n", 3), 413, diag.MessageLimit, "batch items limit", 0},
		{"too many empty lines then a message", strings.Repeat("[]\n", 3000) + track("m", "u"), 413, diag.MessageLimit, "batch items limit", 0},
		{"too many empty batches", strings.Repeat(`{"batch":[]} `, 2501), 413, diag.MessageLimit, "batch items limit", 0},
		{"empty documents add up with messages", strings.Repeat("[]\n", 2500) + track("m", "u"), 413, diag.MessageLimit, "batch items limit", 0},
		{"body over the limit", `[` + strings.Repeat(track("m", "u")+",", 2000) + track("m", "u") + `]`, 413, diag.MessageLimit, "body is over 131072 bytes", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, url, tc.body)
			require.Equal(t, tc.status, r.status, r.raw)
			assert.Contains(t, r.body.Error, tc.want)
			assert.Equal(t, tc.code, r.body.Code)
			assert.Len(t, r.body.Results, tc.results)
			assert.NotContains(t, r.raw, "xxxx", "no value is quoted")
		})
	}
	assert.Zero(t, sink.calls)
}

// TestHandler_RuleD9_sizeBeforeReading: a body over the limit is refused from its
// Content-Length, before it is read, and a chunked one as soon as it passes the limit.
func TestHandler_RuleD9_sizeBeforeReading(t *testing.T) {
	sink := &fakeSink{}
	url := serve(t, sink.sink, &HandlerOptions{MaxBodyBytes: 1000})

	// A declared length over the limit: answered at once, the body never sent.
	pr, pw := io.Pipe()
	defer pw.Close()
	req, err := http.NewRequest(http.MethodPost, url, pr)
	require.NoError(t, err)
	req.ContentLength = 1 << 30
	r := do(t, req)
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.status)

	// Chunked: refused once 1000 bytes have been read, whatever follows.
	endless := io.MultiReader(strings.NewReader("["), strings.NewReader(strings.Repeat(" ", 5000)))
	req, err = http.NewRequest(http.MethodPost, url, io.NopCloser(endless))
	require.NoError(t, err)
	req.ContentLength = -1
	r = do(t, req)
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.status)

	// Exactly at the limit is fine.
	body := track("m", "u")
	body += strings.Repeat(" ", 1000-len(body))
	assert.Equal(t, http.StatusOK, post(t, url, body).status)
	assert.Equal(t, http.StatusRequestEntityTooLarge, post(t, url, body+" ").status)
}

// TestHandler_gzip: a gzipped body is read decompressed, and its decompressed size is
// limited too; a Content-Encoding the handler cannot read is a 415.
func TestHandler_gzip(t *testing.T) {
	sink := &fakeSink{}
	url := serve(t, sink.sink, &HandlerOptions{MaxBodyBytes: 4096})
	zip := func(s string) string {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write([]byte(s))
		require.NoError(t, zw.Close())
		return b.String()
	}
	r := post(t, url+"/v1/batch", zip(`{"batch":[`+track("g1", "u")+`]}`), "Content-Encoding", "gzip")
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, []SinkResult{{MessageID: "g1"}}, r.body.Results)

	bomb := zip("[" + strings.Repeat(" ", 1<<20) + "]")
	require.Less(t, len(bomb), 4096)
	r = post(t, url, bomb, "Content-Encoding", "gzip")
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.status, "the decompressed size counts")

	r = post(t, url, track("g2", "u"), "Content-Encoding", "gzip")
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Contains(t, r.body.Error, "gzip")
	r = post(t, url, zip(track("g3", "u"))[:20], "Content-Encoding", "gzip")
	assert.Equal(t, http.StatusBadRequest, r.status, "truncated")

	r = post(t, url, track("g4", "u"), "Content-Encoding", "br")
	assert.Equal(t, http.StatusUnsupportedMediaType, r.status)
	assert.Equal(t, http.StatusOK, post(t, url, track("g5", "u"), "Content-Encoding", "identity").status)
	assert.Len(t, sink.messages(), 2)
}

// TestHandler_RuleD9_writeKeys: with write keys set, a request carries an accepted one
// in Basic credentials or in its body: none is 401, another is 403. The key never
// reaches the sink.
func TestHandler_RuleD9_writeKeys(t *testing.T) {
	sink := &fakeSink{}
	url := serve(t, sink.sink, &HandlerOptions{WriteKeys: []string{"wk_live", "wk_other"}})
	withKey := func(id, key string) string {
		return `{"type":"track","event":"E","userId":"u","messageId":"` + id + `","writeKey":"` + key + `"}`
	}
	for _, tc := range []struct {
		name, path, body string
		headers          []string
		status           int
	}{
		{"Basic header", "/v1/track", `{"event":"E","userId":"u"}`, []string{"Authorization", basic("wk_live")}, 200},
		{"Basic header, second key", "/", track("a", "u"), []string{"Authorization", basic("wk_other")}, 200},
		{"Basic without the colon", "/", track("b", "u"), []string{"Authorization", "basic " + base64.StdEncoding.EncodeToString([]byte("wk_live"))}, 200},
		{"Basic, unpadded", "/", track("c", "u"), []string{"Authorization", "Basic " + base64.RawStdEncoding.EncodeToString([]byte("wk_live:"))}, 200},
		{"writeKey in the message", "/v1/track", withKey("d", "wk_live"), nil, 200},
		{"writeKey in the envelope", "/v1/batch", `{"batch":[` + track("e", "u") + `],"writeKey":"wk_live"}`, nil, 200},
		{"every message keyed", "/", `[` + withKey("f", "wk_live") + `,` + withKey("g", "wk_other") + `]`, nil, 200},
		{"the header wins over the body", "/", withKey("h", "wrong"), []string{"Authorization", basic("wk_live")}, 200},
		// analytics-python with OAuth: a Bearer token the Handler cannot check, and the
		// write key in the body, which decides.
		{"OAuth Bearer and the key in the body", "/v1/batch", `{"batch":[` + track("i", "u") + `],"writeKey":"wk_live"}`, []string{"Authorization", "Bearer eyJhbGciOi.x.y"}, 200},

		{"no key", "/", track("x", "u"), nil, 401},
		{"Bearer, no key in the body", "/", track("x", "u"), []string{"Authorization", "Bearer wk_live"}, 401},
		{"Digest", "/", withKey("x", "wk_live"), []string{"Authorization", "Digest username=wk_live"}, 401},
		{"Basic, not base64", "/", track("x", "u"), []string{"Authorization", "Basic !!!"}, 401},
		{"a message without a key", "/", `[` + withKey("x", "wk_live") + `,` + track("y", "u") + `]`, nil, 401},
		{"bad JSON without a key", "/", `{"type":`, nil, 401},
		{"a key that is not a string", "/", `{"type":"track","event":"E","userId":"u","writeKey":42}`, nil, 403},

		{"wrong header key", "/", track("x", "u"), []string{"Authorization", basic("wk_test")}, 403},
		{"wrong body key", "/", withKey("x", "wk_test"), nil, 403},
		{"wrong envelope key", "/v1/batch", `{"batch":[` + track("x", "u") + `],"writeKey":"wk_test"}`, nil, 403},
		{"OAuth Bearer and a wrong key in the body", "/v1/batch", `{"batch":[` + track("x", "u") + `],"writeKey":"wk_test"}`, []string{"Authorization", "Bearer eyJhbGciOi.x.y"}, 403},
		{"one wrong key among good ones", "/", `[` + withKey("x", "wk_live") + `,` + withKey("y", "nope") + `]`, nil, 403},
		{"an empty key", "/", track("x", "u"), []string{"Authorization", basic("")}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(sink.messages())
			r := post(t, url+tc.path, tc.body, tc.headers...)
			require.Equal(t, tc.status, r.status, r.raw)
			if tc.status == 401 {
				assert.Equal(t, `Basic realm="segment"`, r.header.Get("WWW-Authenticate"))
			}
			if tc.status != 200 {
				assert.Len(t, sink.messages(), before)
				assert.NotContains(t, r.raw, "wk_")
				assert.Empty(t, r.body.Results, "a refused request says nothing of its payload")
			}
		})
	}
	for _, m := range sink.messages() {
		_, ok := m.Extra.Get("writeKey")
		assert.False(t, ok, "a write key is a credential, not data: %s", m.MessageID)
	}

	// An empty key in the options matches nothing: it does not turn authentication off.
	closed := serve(t, sink.sink, &HandlerOptions{WriteKeys: []string{""}})
	assert.Equal(t, http.StatusForbidden, post(t, closed, track("x", "u"), "Authorization", basic("")).status)
	assert.Equal(t, http.StatusUnauthorized, post(t, closed, track("x", "u")).status)
}

// TestHandler_RuleD8_signature: with a secret set, the raw body (an array's first
// element) must be signed with it; with write keys too, both are needed.
func TestHandler_RuleD8_signature(t *testing.T) {
	const secret = "whsec_regal"
	sink := &fakeSink{}
	url := serve(t, sink.sink, &HandlerOptions{Secret: secret})
	single := track("s1", "u")
	first := track("s2", "u")
	array := "[" + first + ",\n " + track("s3", "u") + "]"

	for _, tc := range []struct {
		name, body, sig string
		status          int
	}{
		{"signed single", single, sign(secret, single), 200},
		{"signed array, first element", array, sign(secret, first), 200},
		{"missing", single, "", 401},
		{"wrong secret", single, sign("other", single), 401},
		{"the array signed whole", array, sign(secret, array), 401},
		{"re-encoded body", single + " ", sign(secret, single), 401},
		{"not hex", single, "not-a-signature", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.sig != "" {
				hdr = []string{"X-Signature", tc.sig}
			}
			r := post(t, url, tc.body, hdr...)
			require.Equal(t, tc.status, r.status, r.raw)
		})
	}
	// The signature is checked before the payload: a bad body unsigned is a 401.
	assert.Equal(t, http.StatusUnauthorized, post(t, url, `{"type":`).status)
	assert.Equal(t, http.StatusBadRequest, post(t, url, `{"type":`, "X-Signature", sign(secret, `{"type":`)).status)

	both := serve(t, sink.sink, &HandlerOptions{Secret: secret, WriteKeys: []string{"wk"}})
	assert.Equal(t, http.StatusOK, post(t, both, single, "X-Signature", sign(secret, single), "Authorization", basic("wk")).status)
	assert.Equal(t, http.StatusUnauthorized, post(t, both, single, "Authorization", basic("wk")).status)
	assert.Equal(t, http.StatusUnauthorized, post(t, both, single, "X-Signature", sign(secret, single)).status)
	assert.Equal(t, []string{"s1", "s2", "s3", "s1"}, idsOf(sink.messages()))
}

func idsOf(msgs []event.Message) []string {
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.MessageID
	}
	return ids
}

// TestHandler_RuleD9_method: only POST delivers.
func TestHandler_RuleD9_method(t *testing.T) {
	sink := &fakeSink{}
	url := serve(t, sink.sink, nil)
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		req, err := http.NewRequest(method, url+"/v1/track", strings.NewReader(track("m", "u")))
		require.NoError(t, err)
		r := do(t, req)
		assert.Equal(t, http.StatusMethodNotAllowed, r.status, method)
		assert.Equal(t, "POST", r.header.Get("Allow"))
	}
	assert.Zero(t, sink.calls)
}

// TestHandler_RuleD9_sinkErrors: a sink failure answers 500, or the 429 or 5xx a
// SinkError asks for, with no detail of the failure in the body.
func TestHandler_RuleD9_sinkErrors(t *testing.T) {
	var logs bytes.Buffer
	var failWith error
	sink := &fakeSink{fail: func(int, int, *event.Message) error { return failWith }}
	url := serve(t, sink.sink, &HandlerOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for _, tc := range []struct {
		name       string
		err        error
		status     int
		retryAfter string
	}{
		{"plain error", errors.New("store: disk on fire"), 500, ""},
		{"unavailable", &SinkError{Status: 503, RetryAfter: 1500 * time.Millisecond, Err: errors.New("store: disk on fire")}, 503, "2"},
		{"too many requests", &SinkError{Status: 429, RetryAfter: 30 * time.Second}, 429, "30"},
		{"wrapped", errors.Join(errors.New("x"), &SinkError{Status: 502}), 502, ""},
		{"a status that would drop the delivery", &SinkError{Status: 404}, 500, ""},
		{"a status that would accept it", &SinkError{Status: 200}, 500, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			failWith = tc.err
			r := post(t, url, track("m", "u"))
			assert.Equal(t, tc.status, r.status)
			assert.Equal(t, tc.retryAfter, r.header.Get("Retry-After"))
			assert.Contains(t, r.body.Error, "deliver them again")
			assert.NotContains(t, r.raw, "disk on fire", "the sink's error is for the logs")
		})
	}
	assert.Contains(t, logs.String(), "disk on fire")
	assert.Contains(t, logs.String(), "level=WARN")

	// A sink that returns the wrong number of results failed.
	short := serve(t, func(context.Context, []event.Message) ([]SinkResult, error) { return nil, nil }, nil)
	assert.Equal(t, http.StatusInternalServerError, post(t, short, track("m", "u")).status)
}

// TestHandler_RuleE2_retryIsHarmless: a batch whose sink fails half way answers 500;
// Segment delivers it again, and the retry stores each message once.
func TestHandler_RuleE2_retryIsHarmless(t *testing.T) {
	sink := &fakeSink{fail: func(call, index int, _ *event.Message) error {
		if call == 1 && index == 2 {
			return errors.New("store: connection reset")
		}
		return nil
	}}
	url := serve(t, sink.sink, nil)
	batch := `{"batch":[` + track("r1", "u") + `,` + track("r2", "u") + `,` + track("r3", "u") + `,{"type":"page","name":"P","anonymousId":"a"}]}`

	r := post(t, url+"/v1/batch", batch)
	require.Equal(t, http.StatusInternalServerError, r.status)
	assert.Equal(t, map[string]int{"r1": 1, "r2": 1}, sink.stored, "the first two were processed before the failure")

	r = post(t, url+"/v1/batch", batch)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	require.Len(t, r.body.Results, 4)
	assert.True(t, r.body.Results[0].Duplicate)
	assert.True(t, r.body.Results[1].Duplicate)
	assert.False(t, r.body.Results[2].Duplicate)
	assert.NotEmpty(t, r.body.Results[3].MessageID, "the sink's derived messageId is reported")

	r = post(t, url+"/v1/batch", batch)
	require.Equal(t, http.StatusOK, r.status)
	for _, res := range r.body.Results {
		assert.True(t, res.Duplicate, res.MessageID)
	}
	require.Len(t, sink.stored, 4)
	for id, n := range sink.stored {
		assert.Equal(t, 1, n, id)
	}
}

// TestHandler_sinkContext: the sink gets the request's context, and the messages it
// gets share nothing with the request body (the body's buffer is reused).
func TestHandler_sinkContext(t *testing.T) {
	type key struct{}
	sink := &fakeSink{}
	h := NewHandler(sink.sink, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), key{}, "conn")))
	}))
	defer srv.Close()
	require.Equal(t, http.StatusOK, post(t, srv.URL, track("c1", "first-user")).status)
	require.Equal(t, http.StatusOK, post(t, srv.URL, track("c2", "other-user")).status)
	assert.Equal(t, "conn", sink.ctxs[0].Value(key{}))
	msgs := sink.messages()
	assert.Equal(t, "first-user", msgs[0].UserID)
	props, _ := msgs[0].Properties.Get("amount")
	assert.Equal(t, "30000", string(props))
}

// TestHandler_logsNoValues: the logger gets a line per request and never a value from
// a body: no phone, no email, no write key.
func TestHandler_logsNoValues(t *testing.T) {
	var logs bytes.Buffer
	sink := &fakeSink{}
	url := serve(t, sink.sink, &HandlerOptions{
		WriteKeys: []string{"wk_secret_value"},
		Logger:    slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	pii := `{"type":"identify","userId":"u","messageId":"p1","traits":{"phone":"+19545552399","email":"rebecca@example.com"}}`
	bad := `{"type":"identify","userId":"u","messageId":"p2","traits":{"phone":"+19545552399","email":"rebecca@example.com"},"type":"x"}`
	assert.Equal(t, 200, post(t, url, pii, "Authorization", basic("wk_secret_value")).status)
	assert.Equal(t, 400, post(t, url, bad, "Authorization", basic("wk_secret_value")).status)
	assert.Equal(t, 403, post(t, url, pii, "Authorization", basic("wk_secret_value_not")).status)
	assert.Equal(t, 400, post(t, url, `{"phone":"+19545552399"`, "Authorization", basic("wk_secret_value")).status)
	out := logs.String()
	assert.Equal(t, 4, strings.Count(out, "\n"), out)
	assert.Contains(t, out, `"msg":"segmentio: delivery handled"`)
	assert.Contains(t, out, `"msg":"segmentio: delivery refused"`)
	for _, secret := range []string{"9545552399", "rebecca", "example.com", "wk_secret"} {
		assert.NotContains(t, out, secret)
	}
}

// TestHandler_concurrent: requests in parallel each get their own results (run with
// -race).
func TestHandler_concurrent(t *testing.T) {
	sink := &fakeSink{}
	url := serve(t, sink.sink, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				id := string(rune('a'+g)) + string(rune('0'+i))
				r := post(t, url, `[`+track(id, "u")+`,`+track(id+"x", "u")+`]`)
				if assert.Equal(t, http.StatusOK, r.status) && assert.Len(t, r.body.Results, 2) {
					assert.Equal(t, id, r.body.Results[0].MessageID)
					assert.Equal(t, id+"x", r.body.Results[1].MessageID)
				}
			}
		})
	}
	wg.Wait()
	assert.Len(t, sink.stored, 160)
}

// TestHandler_trailingGarbage: messages before a syntax error that ends the input are
// processed; what could not be read is a diagnostic of its own.
func TestHandler_trailingGarbage(t *testing.T) {
	sink := &fakeSink{}
	url := serve(t, sink.sink, nil)
	r := post(t, url, track("t1", "u")+" "+track("t2", "u")+" ]")
	require.Equal(t, http.StatusOK, r.status, r.raw)
	require.Len(t, r.body.Results, 3)
	assert.Equal(t, []diag.Code{diag.MessageInvalid}, codes(r.body.Results))
	assert.Equal(t, []string{"t1", "t2"}, idsOf(sink.messages()))
}

func TestNewHandler_nilSink(t *testing.T) {
	assert.PanicsWithValue(t, "segmentio: NewHandler with a nil sink", func() { NewHandler(nil, nil) })
}

func TestEndpointOf(t *testing.T) {
	for path, want := range map[string]string{
		"/v1/track": "track", "/v1/track/": "track", "/api/v1/identify": "identify", "v1/alias": "alias",
		"/": "", "": "", "/v1": "", "/v1/": "", "/v1/batch": "", "/v1/import": "", "/v2/track": "",
		"/xv1/track": "", "/v1/Track": "", "/v1/track//": "", "/v1/delete": "", "/track": "",
		"/v1/t": "track", "/v1/i": "identify", "/v1/p": "page", "/v1/s": "screen", "/v1/g": "group", "/v1/a": "alias", // analytics.js
		"/v1/d": "", "/v1/x": "", "/v1/T": "",
	} {
		assert.Equal(t, want, endpointOf(path).name, path)
	}
}

// TestHandler_lingeringClose: a client that writes its whole body before it reads the
// reply (Python's urllib, many HTTP libraries) gets the 413, not a connection reset:
// the Handler reads and discards the rest of an oversized body first (issue 12).
func TestHandler_lingeringClose(t *testing.T) {
	sink := &fakeSink{}
	url := serve(t, sink.sink, nil) // Segment's 500 KB limit
	body := bytes.Repeat([]byte(" "), 6<<20)
	for _, tc := range []struct {
		name   string
		header string
	}{
		{"declared length", "Content-Length: " + strconv.Itoa(len(body)) + "\r\n"},
		{"chunked", "Transfer-Encoding: chunked\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
			require.NoError(t, err)
			defer conn.Close()
			require.NoError(t, conn.SetDeadline(time.Now().Add(20*time.Second)))
			w := bufio.NewWriterSize(conn, 64<<10)
			_, err = io.WriteString(w, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+tc.header+"\r\n")
			require.NoError(t, err)
			if tc.header[0] == 'T' {
				_, err = fmt.Fprintf(w, "%x\r\n", len(body))
				require.NoError(t, err)
			}
			_, err = w.Write(body)
			require.NoError(t, err, "the server reads what the client writes")
			if tc.header[0] == 'T' {
				_, err = io.WriteString(w, "\r\n0\r\n\r\n")
				require.NoError(t, err)
			}
			require.NoError(t, w.Flush(), "the server reads what the client writes")
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			require.NoError(t, err, "the reply reaches the client")
			defer resp.Body.Close()
			assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
			assert.True(t, resp.Close, "the connection is closed after the refusal")
			var r HandlerResponse
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
			assert.Equal(t, diag.MessageLimit, r.Code)
		})
	}
	assert.Zero(t, sink.calls)
}

// TestHandler_emptyArraySigned: an empty array can never be signed, so with a secret
// it is a payload that can never succeed: 400, which Segment does not retry, not 401
// (issue 12).
func TestHandler_emptyArraySigned(t *testing.T) {
	sink := &fakeSink{}
	url := serve(t, sink.sink, &HandlerOptions{Secret: "whsec_regal"})
	for _, body := range []string{`[]`, " [ \n ] "} {
		r := post(t, url, body)
		assert.Equal(t, http.StatusBadRequest, r.status, r.raw)
		assert.Equal(t, diag.MessageInvalid, r.body.Code)
	}
	assert.Equal(t, http.StatusUnauthorized, post(t, url, `[{}]`).status, "a non-empty array still needs its signature")
	assert.Zero(t, sink.calls)
}

// TestHandler_token: with a token, every request carries it as Bearer credentials;
// without it, a signed array with a forged item appended is accepted, with it the
// forgery is refused (issue 12; Rule D8 signs only the first element).
func TestHandler_token(t *testing.T) {
	const secret, token = "whsec_regal", "tok_0123456789abcdef"
	signed := track("t1", "u1")
	forged := `{"type":"track","event":"SMS Opt Out","messageId":"f1","userId":"victim"}`
	attack := "[" + signed + "," + forged + "]"

	sink := &fakeSink{}
	weak := serve(t, sink.sink, &HandlerOptions{Secret: secret})
	assert.Equal(t, http.StatusOK, post(t, weak, attack, "X-Signature", sign(secret, signed)).status,
		"the weakness the token remedies: the signature covers the first element only")

	sink = &fakeSink{}
	url := serve(t, sink.sink, &HandlerOptions{Secret: secret, Token: token, WriteKeys: []string{"wk"}})
	withKey := `{"type":"track","event":"E","messageId":"t2","userId":"u1","writeKey":"wk"}`
	for _, tc := range []struct {
		name, auth string
		status     int
	}{
		{"no token", "", 401},
		{"wrong token", "Bearer tok_0123456789abcdeX", 401},
		{"token prefix only", "Bearer tok_", 401},
		{"basic credentials", basic("wk"), 401},
		{"token", "Bearer " + token, 200},
		{"scheme in another case", "bearer " + token, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, url, withKey, "X-Signature", sign(secret, withKey), "Authorization", tc.auth)
			require.Equal(t, tc.status, r.status, r.raw)
			if tc.status == 401 {
				assert.Equal(t, `Bearer realm="segment"`, r.header.Get("WWW-Authenticate"))
				assert.NotContains(t, r.raw, "tok_")
			}
		})
	}
	// The attacker holds a signed message but not the token.
	assert.Equal(t, http.StatusUnauthorized, post(t, url, attack, "X-Signature", sign(secret, signed)).status)
	assert.Equal(t, []string{"t2", "t2"}, idsOf(sink.messages()))
}

// TestHandler_receivedAt: the tracking-API endpoints stamp receivedAt, as Segment's
// API does, on messages without one, and the event time is computed with it (Rule D5);
// a webhook delivery keeps what Segment put there (issue 12).
func TestHandler_receivedAt(t *testing.T) {
	clock := time.Date(2015, 12, 12, 19, 11, 1, 266_000_000, time.UTC)
	sink := &fakeSink{}
	url := serve(t, sink.sink, &HandlerOptions{Now: func() time.Time { return clock.In(time.FixedZone("X", 3600)) }})
	skewed := `{"type":"track","event":"E","userId":"u","messageId":"%s","sentAt":"2015-12-12T19:11:01.169Z","originalTimestamp":"2015-12-12T19:11:01.152Z"%s}`
	for _, tc := range []struct {
		path, extra  string
		received     string // want, "" for none
		eventTime    string
		batchPayload bool
	}{
		{"/v1/track", "", `"2015-12-12T19:11:01.266Z"`, "2015-12-12T19:11:01.249Z", false},
		{"/api/v1/track/", "", `"2015-12-12T19:11:01.266Z"`, "2015-12-12T19:11:01.249Z", false},
		{"/v1/batch", "", `"2015-12-12T19:11:01.266Z"`, "2015-12-12T19:11:01.249Z", true},
		{"/v1/import", "", `"2015-12-12T19:11:01.266Z"`, "2015-12-12T19:11:01.249Z", true},
		{"/v1/b", "", `"2015-12-12T19:11:01.266Z"`, "2015-12-12T19:11:01.249Z", true}, // analytics.js batching, analytics-kotlin, analytics-swift
		{"/v1/track", `,"receivedAt":"2015-12-12T19:11:02.266Z"`, `"2015-12-12T19:11:02.266Z"`, "2015-12-12T19:11:02.249Z", false},
		{"/", "", "", "2015-12-12T19:11:01.152Z", false},
		{"/", `,"receivedAt":"2015-12-12T19:11:02.266Z"`, `"2015-12-12T19:11:02.266Z"`, "2015-12-12T19:11:02.249Z", false},
	} {
		t.Run(tc.path+tc.extra, func(t *testing.T) {
			id := "r" + strconv.Itoa(len(sink.messages()))
			body := fmt.Sprintf(skewed, id, tc.extra)
			if tc.batchPayload {
				body = `{"batch":[` + body + `]}`
			}
			r := post(t, url+tc.path, body)
			require.Equal(t, http.StatusOK, r.status, r.raw)
			msgs := sink.messages()
			m := msgs[len(msgs)-1]
			require.Equal(t, id, m.MessageID)
			assert.Equal(t, tc.received, string(m.Timestamps.ReceivedAt))
			assert.Equal(t, tc.eventTime, m.Time.Format(time.RFC3339Nano))
		})
	}
}

// TestHandler_derivedIDBeforeReceivedAt_RuleE2: a tracking-API call without a
// messageId gets the ID derived from its content before receivedAt is stamped, so that a
// client's retry, stamped later, is the same message; the stamp still dates it (D5).
func TestHandler_derivedIDBeforeReceivedAt_RuleE2(t *testing.T) {
	clock := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	sink := &fakeSink{}
	url := serve(t, sink.sink, &HandlerOptions{Now: func() time.Time { return clock }})
	body := `{"type":"track","event":"E","userId":"u"}`
	for range 2 {
		r := post(t, url+"/v1/track", body)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		clock = clock.Add(time.Minute)
	}
	msgs := sink.messages()
	require.Len(t, msgs, 2)
	assert.True(t, strings.HasPrefix(msgs[0].MessageID, event.DerivedIDPrefix), msgs[0].MessageID)
	assert.Equal(t, msgs[0].MessageID, msgs[1].MessageID, "a retry is the same message")
	assert.Equal(t, "2024-03-01T12:00:00Z", msgs[0].Time.Format(time.RFC3339))
	assert.Equal(t, "2024-03-01T12:01:00Z", msgs[1].Time.Format(time.RFC3339))

	// A receivedAt the call brought is content: another one is another message.
	for _, recv := range []string{"2024-03-01T11:00:00Z", "2024-03-01T11:30:00Z"} {
		r := post(t, url+"/v1/track", `{"type":"track","event":"E","userId":"u","receivedAt":"`+recv+`"}`)
		require.Equal(t, http.StatusOK, r.status, r.raw)
	}
	msgs = sink.messages()
	require.Len(t, msgs, 4)
	assert.Empty(t, msgs[2].MessageID, "left to the processor to derive")
	assert.NotEqual(t, event.DeriveMessageID(&msgs[2]), event.DeriveMessageID(&msgs[3]))
}

// TestHandler_EmptyDocumentsCount_RuleD7: documents that hold no message count as
// items of the request, so that 2,499 of them and one message are 2,500, and accepted.
func TestHandler_EmptyDocumentsCount_RuleD7(t *testing.T) {
	sink := &fakeSink{}
	url := serve(t, sink.sink, nil)
	r := post(t, url, strings.Repeat("[]\n", 2499)+track("m", "u"))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Len(t, r.body.Results, 1)
	r = post(t, url, strings.Repeat("[]\n", 2500)+track("m2", "u"))
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.status, r.raw)
}

// TestHandler_LongMessageIDNotEchoed_RuleD6: a messageId refused for its length may
// hold anything, a sender's email included: no result or diagnostic echoes it, whether
// the decoder refuses the message or the sink does.
func TestHandler_LongMessageIDNotEchoed_RuleD6(t *testing.T) {
	long := strings.Repeat("x", 90) + "bob.secret@example.com"
	echo := func(ctx context.Context, msgs []event.Message) ([]SinkResult, error) {
		out := make([]SinkResult, len(msgs))
		for i, m := range msgs {
			out[i] = SinkResult{MessageID: m.MessageID, Diagnostics: []diag.Diagnostic{{MessageID: m.MessageID, Code: diag.MessageInvalidID}}}
		}
		return out, nil
	}
	url := serve(t, echo, nil)
	for _, body := range []string{
		`{"type":"track","event":"E","userId":"u","messageId":"` + long + `"}`,                                              // refused by the decoder
		`[{"type":"track","event":"E","userId":"u","messageId":"` + long + `"},{"type":"nope","messageId":"` + long + `"}]`, // and in a batch
	} {
		r := post(t, url, body)
		assert.NotContains(t, r.raw, "bob.secret", body)
		assert.NotContains(t, r.raw, strings.Repeat("x", 90), body)
	}
}

// TestHandler_declaredLengthNotPreallocated_RuleD7: a declared Content-Length is only a claim:
// the handler sets aside at most 64 KB for a body before it arrives, so that clients
// declaring 500 KB and sending nothing cannot make each connection hold 500 KB.
func TestHandler_declaredLengthNotPreallocated_RuleD7(t *testing.T) {
	h := NewHandler((&fakeSink{}).sink, nil)
	serveOne := func() uint64 {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("[]"))
		req.ContentLength = 500 << 10 // declared; the reader ends after two bytes
		// Two collections empty the body pool, so that each run allocates its own.
		runtime.GC()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		h.ServeHTTP(httptest.NewRecorder(), req)
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	serveOne() // the handler's other pools, once
	assert.Less(t, serveOne(), uint64(200<<10))
}

// TestHandler_envelopeKeysSaidAfterReceivedAt_RuleD1: stamping receivedAt on a
// tracking-API batch works out the message's time again (D5); the decoder's other
// diagnostics, here an envelope key not read, stay with the message.
func TestHandler_envelopeKeysSaidAfterReceivedAt_RuleD1(t *testing.T) {
	sink := &fakeSink{}
	url := serve(t, sink.sink, nil)
	r := post(t, url+"/v1/batch", `{"batch":[{"type":"track","event":"E","userId":"u","messageId":"e1","timestamp":"nope"}],"userId":"other"}`)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	m := sink.messages()[0]
	var got []diag.Code
	for _, d := range m.Diagnostics {
		got = append(got, d.Code)
		assert.Equal(t, "e1", d.MessageID)
	}
	assert.ElementsMatch(t, []diag.Code{diag.TimestampInvalid, diag.MessageEnvelopeKey}, got)
}

// TestHandler_RuleD9_browsers: analytics.js posts to the tracking API from other
// origins; the answer allows any origin to read it, and a CORS preflight is answered
// (a review found no CORS header and OPTIONS refused with 405). Webhook paths, which
// Segment's servers call, get no CORS header.
func TestHandler_RuleD9_browsers(t *testing.T) {
	sink := &fakeSink{}
	url := serve(t, sink.sink, nil)
	r := post(t, url+"/v1/t", track("cors-1", "u"), "Origin", "https://shop.example.com", "Content-Type", "text/plain")
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "*", r.header.Get("Access-Control-Allow-Origin"))

	req, err := http.NewRequest(http.MethodOptions, url+"/v1/batch", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://shop.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Methods"), "POST")
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "Content-Type")

	r = post(t, url+"/hook", track("cors-2", "u"), "Origin", "https://shop.example.com")
	assert.Equal(t, http.StatusOK, r.status)
	assert.Empty(t, r.header.Get("Access-Control-Allow-Origin"), "a webhook path")
	req, err = http.NewRequest(http.MethodOptions, url+"/hook", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://shop.example.com")
	assert.Equal(t, http.StatusMethodNotAllowed, do(t, req).status)
	assert.Equal(t, 2, sink.calls)
}

// TestHandler_RuleD7_answerDiagnosticsBounded: an answer lists at most
// MaxAnswerDiagnostics diagnostics in all; past them each message's result lists one,
// message.limit, counting its others. A review measured a 48 MB answer to a 400 KB
// request (2,500 messages of 34 empty optIn records, three diagnostics each, with a sink
// that reports them as the Processor does).
func TestHandler_RuleD7_answerDiagnosticsBounded(t *testing.T) {
	sink := func(_ context.Context, msgs []event.Message) ([]SinkResult, error) {
		out := make([]SinkResult, len(msgs))
		for i, m := range msgs {
			for range 100 { // the most a message's result carries (regalkit.MaxDiagnostics)
				out[i].Diagnostics = append(out[i].Diagnostics, diag.Diagnostic{MessageID: m.MessageID, Code: diag.OptinInvalid, Field: "traits.optIn[0].subscribed", Message: "subscribed is required; the record is refused (Rule C2)"})
			}
		}
		return out, nil
	}
	url := serve(t, sink, nil)
	var b strings.Builder
	b.WriteString("[")
	for i := range 2500 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"type":"identify","userId":"h%d","messageId":"m%d","traits":{"optIn":[{},{},{}]}}`, i, i)
	}
	b.WriteString("]")
	r := post(t, url+"/", b.String())
	require.Equal(t, http.StatusOK, r.status)
	require.Len(t, r.body.Results, 2500)
	total := 0
	for _, res := range r.body.Results {
		total += len(res.Diagnostics)
	}
	assert.LessOrEqual(t, total, MaxAnswerDiagnostics+2500)
	last := r.body.Results[2499].Diagnostics
	require.Len(t, last, 1)
	assert.Equal(t, diag.MessageLimit, last[0].Code)
	assert.Equal(t, "m2499", last[0].MessageID)
	assert.Contains(t, last[0].Message, "100 diagnostics left out")
	assert.Less(t, len(r.raw), 4<<20, "bytes in the answer, for a %d-byte request", b.Len())
}
