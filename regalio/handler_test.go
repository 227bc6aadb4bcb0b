package regalio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
)

// recordingSink keeps what it receives and answers one Result per message.
type recordingSink struct {
	mu   sync.Mutex
	msgs []event.Message
	err  error
}

func (s *recordingSink) sink(ctx context.Context, msgs []event.Message) ([]Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	s.msgs = append(s.msgs, msgs...)
	out := make([]Result, len(msgs))
	for i, m := range msgs {
		out[i] = Result{MessageID: m.MessageID}
	}
	return out, nil
}

func newTestHandler(t *testing.T, s Sink, opts *HandlerOptions) *Handler {
	t.Helper()
	if opts == nil {
		opts = &HandlerOptions{Token: "T0k3n"}
	}
	h, err := NewHandler(s, opts)
	require.NoError(t, err)
	return h
}

func post(h http.Handler, body string, header ...string) (int, HandlerResponse) {
	req := httptest.NewRequest(http.MethodPost, "/regal", strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var resp HandlerResponse
	_ = json.Unmarshal(rec.Body.Bytes(), &resp)
	return rec.Code, resp
}

func sample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/webhook/" + name + ".json")
	require.NoError(t, err)
	return string(b)
}

func TestNewHandlerNeedsToken(t *testing.T) {
	_, err := NewHandler(nil, nil)
	assert.ErrorIs(t, err, ErrNoToken)
	_, err = NewHandler(nil, &HandlerOptions{Header: "X-Token"})
	assert.ErrorIs(t, err, ErrNoToken)
}

// Rule R4: the token in the configured header, or as Bearer credentials.
func TestHandlerToken(t *testing.T) {
	s := &recordingSink{}
	body := sample(t, "sms.received")
	const plain, custom, authz = "", "X-Regal-Token", "Authorization"
	tests := []struct {
		name   string
		opt    string // HandlerOptions.Header
		header []string
		want   int
	}{
		{"raw in Authorization without a Header", plain, []string{"Authorization", "T0k3n"}, 401},
		{"bearer", plain, []string{"Authorization", "Bearer T0k3n"}, 200},
		{"bearer any case", plain, []string{"Authorization", "bearer T0k3n"}, 200},
		{"missing", plain, nil, 401},
		{"wrong", plain, []string{"Authorization", "Bearer nope"}, 401},
		{"prefix of the token", plain, []string{"Authorization", "Bearer T0k"}, 401},
		{"token longer", plain, []string{"Authorization", "Bearer T0k3nX"}, 401},
		{"custom header", custom, []string{"X-Regal-Token", "T0k3n"}, 200},
		{"custom header wrong", custom, []string{"X-Regal-Token", "x"}, 401},
		{"bearer with a custom header", custom, []string{"Authorization", "Bearer T0k3n"}, 200},
		{"raw Authorization with a custom header", custom, []string{"Authorization", "T0k3n"}, 401},
		{"raw in Authorization as the Header", authz, []string{"Authorization", "T0k3n"}, 200},
		{"bearer with Authorization as the Header", authz, []string{"Authorization", "Bearer T0k3n"}, 200},
		{"raw wrong with Authorization as the Header", authz, []string{"Authorization", "T0k3"}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// a fresh one each time: no duplicates
			h := newTestHandler(t, s.sink, &HandlerOptions{Token: "T0k3n", Header: tt.opt})
			code, resp := post(h, body, tt.header...)
			assert.Equal(t, tt.want, code)
			if code == 401 {
				assert.NotEmpty(t, resp.Error)
				assert.Empty(t, resp.Results)
			}
		})
	}
}

func TestHandlerDedupe(t *testing.T) {
	s := &recordingSink{}
	h := newTestHandler(t, s.sink, nil)
	body := sample(t, "contact.unsubscribed")
	code, first := post(h, body, "Authorization", "Bearer T0k3n")
	require.Equal(t, 200, code)
	require.Len(t, first.Results, 1)
	assert.False(t, first.Results[0].Duplicate)
	assert.Equal(t, "0c9e8d7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f", first.Results[0].EventID)
	assert.Equal(t, "regal-0c9e8d7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f", first.Results[0].MessageID)

	code, second := post(h, body, "Authorization", "Bearer T0k3n")
	require.Equal(t, 200, code)
	require.Len(t, second.Results, 1)
	assert.True(t, second.Results[0].Duplicate)
	assert.Len(t, s.msgs, 1, "a duplicate never reaches the sink")
	assert.Equal(t, "contact.unsubscribed", s.msgs[0].Event)
}

func TestHandlerDuplicateWireFormat(t *testing.T) {
	h := newTestHandler(t, (&recordingSink{}).sink, nil)
	body := sample(t, "call.completed")
	post(h, body, "Authorization", "Bearer T0k3n")
	req := httptest.NewRequest(http.MethodPost, "/regal", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer T0k3n")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.JSONEq(t, `{"results":[{"eventId":"9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d","messageId":"regal-9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d","duplicate":true}]}`, rec.Body.String())
}

func TestHandlerRefusals(t *testing.T) {
	s := &recordingSink{}
	h := newTestHandler(t, s.sink, &HandlerOptions{Token: "T0k3n", MaxBodyBytes: 2048})
	tests := []struct {
		name, body string
		code       diag.Code
	}{
		{"not JSON", `{"name":`, diag.RegalInvalid},
		{"no name", `{"eventId":"e"}`, diag.RegalInvalid},
		{"empty array", `[]`, diag.RegalInvalid},
		{"too large", `{"name":"x","pad":"` + strings.Repeat("a", 4096) + `"}`, diag.MessageLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, resp := post(h, tt.body, "Authorization", "Bearer T0k3n")
			assert.Equal(t, 400, status)
			assert.Equal(t, tt.code, resp.Code)
		})
	}
	assert.Empty(t, s.msgs)

	req := httptest.NewRequest(http.MethodGet, "/regal", nil)
	req.Header.Set("Authorization", "Bearer T0k3n")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, 405, rec.Code)
	assert.Equal(t, "POST", rec.Header().Get("Allow"))
}

func TestHandlerArray(t *testing.T) {
	s := &recordingSink{}
	h := newTestHandler(t, s.sink, nil)
	body := "[" + sample(t, "contact.subscribed") + "," + sample(t, "sms.received") + "]"
	code, resp := post(h, body, "Authorization", "Bearer T0k3n")
	require.Equal(t, 200, code)
	require.Len(t, resp.Results, 2)
	assert.Equal(t, "6b1d3c2e-2f4a-4e0b-9a55-0f1e2d3c4b5a", resp.Results[0].EventID)
	assert.Equal(t, "3f2e1d0c-9b8a-4765-a4b3-c2d1e0f9a8b7", resp.Results[1].EventID)
	require.Len(t, s.msgs, 2)

	// Whitespace around the elements changes nothing; an element that is no event
	// fails alone (Rule R4: Regal does not send it again, so the others must not be
	// lost with it); an array that is not JSON, an empty one and one of more than 2,500
	// events are refused whole.
	code, resp = post(h, "[\n  "+sample(t, "contact.subscribed")+" ,\n\t"+sample(t, "sms.received")+"\n]", "Authorization", "Bearer T0k3n")
	require.Equal(t, 200, code)
	require.Len(t, resp.Results, 2)
	before := len(s.msgs)
	code, resp = post(h, `[{"name":"call.completed","eventId":"fresh-1"},42,{"eventId":"e"}]`, "Authorization", "Bearer T0k3n")
	require.Equal(t, 200, code)
	require.Len(t, resp.Results, 3)
	assert.Empty(t, resp.Results[0].Diagnostics)
	for _, r := range resp.Results[1:] {
		require.Len(t, r.Diagnostics, 1)
		assert.Equal(t, diag.RegalInvalid, r.Diagnostics[0].Code)
	}
	assert.Len(t, s.msgs, before+1, "the good event reached the sink")
	many := "[" + strings.Repeat(`{"name":"x"},`, 2500) + `{"name":"x"}]`
	for _, bad := range []string{"[" + sample(t, "contact.subscribed") + ",", "[]", many} {
		before := len(s.msgs)
		code, _ = post(h, bad, "Authorization", "Bearer T0k3n")
		assert.Equal(t, 400, code, "%.40s", bad)
		assert.Len(t, s.msgs, before, "nothing of a refused array reaches the sink")
	}
}

func TestHandlerSinkFailures(t *testing.T) {
	s := &recordingSink{err: errors.New("store down")}
	h := newTestHandler(t, s.sink, nil)
	body := sample(t, "sms.received")
	code, resp := post(h, body, "Authorization", "Bearer T0k3n")
	assert.Equal(t, 500, code)
	assert.NotContains(t, resp.Error, "store down", "the cause stays in the logs")

	s.err = nil
	code, resp = post(h, body, "Authorization", "Bearer T0k3n")
	assert.Equal(t, 200, code, "a failed event is not remembered as seen")
	require.Len(t, resp.Results, 1)
	assert.False(t, resp.Results[0].Duplicate)

	wrong := newTestHandler(t, func(context.Context, []event.Message) ([]Result, error) { return nil, nil }, nil)
	code, _ = post(wrong, body, "Authorization", "Bearer T0k3n")
	assert.Equal(t, 500, code, "a sink that returns the wrong number of results failed")
}

// Regal waits 5 seconds: a slow sink is cut off by Timeout and the Handler answers 503.
func TestHandlerTimeout(t *testing.T) {
	slow := func(ctx context.Context, msgs []event.Message) ([]Result, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	h := newTestHandler(t, slow, &HandlerOptions{Token: "T0k3n", Timeout: 20 * time.Millisecond})
	start := time.Now()
	code, _ := post(h, sample(t, "sms.received"), "Authorization", "Bearer T0k3n")
	assert.Equal(t, 503, code)
	assert.Less(t, time.Since(start), 2*time.Second)
	dflt := newTestHandler(t, slow, nil)
	assert.Equal(t, 4*time.Second, dflt.timeout, "the default answers within Regal's 5 s")
}

func TestHandlerSinkDiagnostics(t *testing.T) {
	sink := func(ctx context.Context, msgs []event.Message) ([]Result, error) {
		return []Result{{Duplicate: true, Diagnostics: []diag.Diagnostic{{Code: diag.OptinNoIP, Message: "x"}}}}, nil
	}
	h := newTestHandler(t, sink, nil)
	code, resp := post(h, sample(t, "contact.subscribed"), "Authorization", "Bearer T0k3n")
	require.Equal(t, 200, code)
	require.Len(t, resp.Results, 1)
	r := resp.Results[0]
	assert.True(t, r.Duplicate)
	assert.Equal(t, "regal-6b1d3c2e-2f4a-4e0b-9a55-0f1e2d3c4b5a", r.MessageID, "the message's own id fills an empty one")
	assert.Equal(t, diag.OptinNoIP, r.Diagnostics[0].Code)
}

// TestHandlerLongEventIDNotEchoed: an eventId too long for a messageId (Rule D6) may
// hold anything, a sender's email included: the answer does not echo it.
func TestHandlerLongEventIDNotEchoed(t *testing.T) {
	s := &recordingSink{}
	h := newTestHandler(t, s.sink, nil)
	long := strings.Repeat("x", 90) + "bob.secret@example.com"
	code, resp := post(h, `{"name":"call.completed","eventId":"`+long+`","traits":{"phone":"+19545552399"}}`, "Authorization", "Bearer T0k3n")
	require.Equal(t, 200, code)
	require.Len(t, resp.Results, 1)
	assert.Empty(t, resp.Results[0].EventID)
	assert.Empty(t, resp.Results[0].MessageID)

	// An eventId of 100 characters or fewer that still makes a messageId over 100 is
	// neither echoed nor remembered: nothing was applied.
	mid := strings.Repeat("y", 82) + "bob@example.com" // 97 characters: "regal-" + 97 = 103
	for range 2 {
		code, resp = post(h, `{"name":"call.completed","eventId":"`+mid+`","traits":{"phone":"+19545552399"}}`, "Authorization", "Bearer T0k3n")
		require.Equal(t, 200, code)
		require.Len(t, resp.Results, 1)
		assert.Empty(t, resp.Results[0].EventID)
		assert.Empty(t, resp.Results[0].MessageID)
		assert.False(t, resp.Results[0].Duplicate)
	}
}

// TestHandlerEventSizeLimit_RuleR4: an event over 32 KB of compact JSON, Segment's limit on
// one message (Rule D7), which each event becomes, is no event: alone it is refused
// (400), in an array it fails alone (regal.invalid) and the others go on.
func TestHandlerEventSizeLimit_RuleR4(t *testing.T) {
	s := &recordingSink{}
	h := newTestHandler(t, s.sink, nil)
	big := `{"name":"call.completed","eventId":"big","properties":{"pad":"` + strings.Repeat("a", 33<<10) + `"}}`
	spaced := `{"name":"call.completed","eventId":"spaced","properties":{"pad":"` + strings.Repeat("a", 30<<10) + `"}` + strings.Repeat(" ", 4<<10) + `}`
	status, resp := post(h, big, "Authorization", "Bearer T0k3n")
	assert.Equal(t, 400, status)
	assert.Equal(t, diag.RegalInvalid, resp.Code)
	assert.Empty(t, s.msgs)

	status, resp = post(h, spaced, "Authorization", "Bearer T0k3n")
	assert.Equal(t, 200, status, "measured as compact JSON: whitespace does not count")
	require.Len(t, resp.Results, 1)

	status, resp = post(h, "["+big+`,{"name":"call.completed","eventId":"small"}]`, "Authorization", "Bearer T0k3n")
	require.Equal(t, 200, status)
	require.Len(t, resp.Results, 2)
	require.Len(t, resp.Results[0].Diagnostics, 1)
	assert.Equal(t, diag.RegalInvalid, resp.Results[0].Diagnostics[0].Code)
	assert.Empty(t, resp.Results[1].Diagnostics)
	assert.Len(t, s.msgs, 2, "the spaced event and the small one")
}

// TestHandler_arrayDepth_RuleR4: an array adds a level above its events, and an event
// at the depth limit is read in one as alone; one too deep fails alone, the others go
// on (R4). A review found either refusing the whole array as "not JSON".
func TestHandler_arrayDepth_RuleR4(t *testing.T) {
	s := &recordingSink{}
	h := newTestHandler(t, s.sink, nil)
	nested := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	ev := `{"name":"y","eventId":"b2","properties":` + nested(63) + `}`
	code, resp := post(h, ev, "Authorization", "Bearer T0k3n")
	require.Equal(t, http.StatusOK, code, "%+v", resp)
	code, resp = post(h, `[{"name":"ok","eventId":"b1"},`+strings.Replace(ev, "b2", "b5", 1)+`]`, "Authorization", "Bearer T0k3n")
	require.Equal(t, http.StatusOK, code, "%+v", resp)
	require.Len(t, resp.Results, 2)
	code, resp = post(h, `[{"name":"ok","eventId":"b3"},{"name":"y","eventId":"b4","properties":`+nested(70)+`}]`, "Authorization", "Bearer T0k3n")
	require.Equal(t, http.StatusOK, code, "%+v", resp)
	require.Len(t, resp.Results, 2)
	assert.Empty(t, resp.Results[0].Diagnostics)
	require.NotEmpty(t, resp.Results[1].Diagnostics)
	assert.Equal(t, diag.RegalInvalid, resp.Results[1].Diagnostics[0].Code)
	var ids []string
	for _, m := range s.msgs {
		ids = append(ids, m.MessageID)
	}
	assert.Equal(t, []string{"regal-b2", "regal-b1", "regal-b5", "regal-b3"}, ids, "every event read reached the sink")
}

// TestHandler_RuleR4_answerDiagnosticsBounded: an answer lists at most MaxAnswerDiagnostics
// diagnostics in all, as Segment's handler's (D7); past them an event's result lists
// one, message.limit, counting its own.
func TestHandler_RuleR4_answerDiagnosticsBounded(t *testing.T) {
	sink := func(_ context.Context, msgs []event.Message) ([]Result, error) {
		out := make([]Result, len(msgs))
		for i, m := range msgs {
			out[i].MessageID = m.MessageID
			for range 100 {
				out[i].Diagnostics = append(out[i].Diagnostics, diag.Diagnostic{MessageID: m.MessageID, Code: diag.RegalInvalid, Field: "properties", Message: "regalio: a field of the wrong kind"})
			}
		}
		return out, nil
	}
	h := newTestHandler(t, sink, nil)
	var b strings.Builder
	b.WriteString("[")
	for i := range 2000 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"name":"call.completed","eventId":"ev-%d","userId":"u%d"}`, i, i)
	}
	b.WriteString("]")
	code, resp := post(h, b.String(), "Authorization", "Bearer T0k3n")
	require.Equal(t, 200, code)
	require.Len(t, resp.Results, 2000)
	total := 0
	for _, r := range resp.Results {
		total += len(r.Diagnostics)
	}
	assert.LessOrEqual(t, total, MaxAnswerDiagnostics+2000)
	last := resp.Results[1999].Diagnostics
	require.Len(t, last, 1)
	assert.Equal(t, diag.MessageLimit, last[0].Code)
	assert.Contains(t, last[0].Message, "100 diagnostics left out")
}
