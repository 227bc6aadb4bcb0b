package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/webhookserver"
	"github.com/regalkit/regalkit/segmentio"
)

const secret = "whsec_test"

// The seed's identify, with the IP its opt-ins need (Rule C4).
const identify = `{"type":"identify","messageId":"id-1","anonymousId":"507f191e810c19729de860ea","userId":"92980cfccc067",
"timestamp":"2020-08-25T21:23:43.000Z","context":{"ip":"8.8.8.8"},
"traits":{"email":"rebecca@example.com","firstName":"Rebecca","lastName":"Greene","phone":"+19545552399","age":23,
"optIn":[{"channel":"sms","subscribed":true,"timestamp":"2020-08-25T21:23:43Z","source":"booking_flow","text":"By checking this box you agree to receive texts from Regal."}]}}`

func trackMsg(id, user, name string) string {
	return `{"type":"track","messageId":"` + id + `","userId":"` + user + `","event":"` + name + `","timestamp":"2020-08-26T15:02:11.000Z","properties":{"amount":30000}}`
}

func sign(body string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(body))
	return hex.EncodeToString(mac.Sum(nil))
}

// lockedBuffer is the server's stderr: written by its goroutines, read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// server is run started on a random loopback port.
type server struct {
	base   string // http://127.0.0.1:PORT
	stderr *lockedBuffer
	cancel context.CancelFunc
	done   chan struct{} // closed when run has returned err
	err    error
}

func start(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &server{stderr: &lockedBuffer{}, cancel: cancel, done: make(chan struct{})}
	go func() {
		s.err = run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), pw, s.stderr)
		pw.Close()
		close(s.done)
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err, s.stderr.String())
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	s.base = strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	require.True(t, strings.HasPrefix(s.base, "http://127.0.0.1:"), line)
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	return s
}

// stop sends the shutdown signal and waits for run to return.
func (s *server) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case <-s.done:
		return s.err
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after shutdown")
		return nil
	}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) response(t *testing.T) segmentio.HandlerResponse {
	t.Helper()
	var resp segmentio.HandlerResponse
	require.NoError(t, json.Unmarshal(r.body, &resp), string(r.body))
	return resp
}

func send(t *testing.T, method, url, body string, headers ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{resp.StatusCode, resp.Header, b}
}

// exported is the part of a contact export (RULES.md, X) the tests read.
type exported struct {
	UserID        string            `json:"userId"`
	InAudience    bool              `json:"inAudience"`
	Phone         string            `json:"phone"`
	Email         string            `json:"email"`
	FirstName     string            `json:"firstName"`
	Subscriptions map[string]string `json:"subscriptions"`
	Events        []struct {
		Kind      string                     `json:"kind"`
		Name      string                     `json:"name"`
		MessageID string                     `json:"messageId"`
		Context   map[string]json.RawMessage `json:"context"`
	} `json:"events"`
	Clocks json.RawMessage `json:"clocks"`
}

func getContact(t *testing.T, base, userID string) exported {
	t.Helper()
	r := send(t, http.MethodGet, base+"/contacts/"+userID, "")
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	var c exported
	require.NoError(t, json.Unmarshal(r.body, &c))
	return c
}

func eventIDs(c exported) []string {
	ids := make([]string, len(c.Events))
	for i, e := range c.Events {
		ids[i] = e.MessageID
	}
	return ids
}

// TestRun_likeSegment drives the server as Segment's Webhooks destination does, signed
// with the shared secret (Rules D8, D9), and reads the contact back.
func TestRun_likeSegment(t *testing.T) {
	s := start(t, "-secret", secret)
	u := s.base

	// A signed single message.
	r := send(t, http.MethodPost, u+"/", identify, "X-Signature", sign(identify))
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	assert.Equal(t, []segmentio.SinkResult{{MessageID: "id-1"}}, r.response(t).Results)

	// A signed array: Segment signs its first element.
	first := trackMsg("tr-1", "92980cfccc067", "Loan Application Approved")
	array := "[" + first + "," + trackMsg("tr-2", "92980cfccc067", "Loan Funded") + "]"
	r = send(t, http.MethodPost, u+"/", array, "X-Signature", sign(first))
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	assert.Len(t, r.response(t).Results, 2)

	// A bad signature, a body over Segment's 500 KB, bad JSON.
	r = send(t, http.MethodPost, u+"/", identify, "X-Signature", sign(identify+" "))
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Contains(t, r.response(t).Error, "X-Signature")
	r = send(t, http.MethodPost, u+"/", identify, "X-Signature", "")
	assert.Equal(t, http.StatusUnauthorized, r.status)
	big := "[" + strings.Repeat(first+",", 5000) + first + "]"
	r = send(t, http.MethodPost, u+"/", big, "X-Signature", sign(first))
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.status)
	bad := `{"type":"track","userId":"92980cfccc067",`
	r = send(t, http.MethodPost, u+"/", bad, "X-Signature", sign(bad))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Contains(t, r.response(t).Error, "syntax error at offset")

	// A batch from a server library, through the tracking API, with a message whose
	// phone is refused: a diagnostic, not a failure.
	batch := `{"batch":[` + trackMsg("tr-3", "92980cfccc067", "Offer Viewed") + `,` +
		trackMsg("tr-4", "anon-only-user", "Landing Viewed") + `,` +
		`{"type":"identify","messageId":"id-2","userId":"other-user","traits":{"phone":"+1 555 555 5555"}}` +
		`],"context":{"library":{"name":"analytics-go"}},"sentAt":"2020-08-26T15:02:12Z"}`
	r = send(t, http.MethodPost, u+"/v1/batch", batch, "X-Signature", sign(batch))
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	results := r.response(t).Results
	require.Len(t, results, 3)
	require.Len(t, results[2].Diagnostics, 1)
	assert.Equal(t, "phone.invalid", string(results[2].Diagnostics[0].Code))
	assert.NotContains(t, string(r.body), "5555555", "no whole phone in a response")

	// The contact, with each event once.
	c := getContact(t, u, "92980cfccc067")
	assert.Equal(t, "92980cfccc067", c.UserID)
	assert.True(t, c.InAudience)
	assert.Equal(t, "+19545552399", c.Phone)
	assert.Equal(t, "Rebecca", c.FirstName)
	assert.Equal(t, "subscribed", c.Subscriptions["sms"])
	assert.Equal(t, []string{"tr-1", "tr-2", "tr-3"}, eventIDs(c))
	assert.Empty(t, c.Clocks, "the export is for people: no merge clocks")

	// Segment re-delivers the array: nothing is recorded twice (Rule E2).
	r = send(t, http.MethodPost, u+"/", array, "X-Signature", sign(first))
	require.Equal(t, http.StatusOK, r.status)
	for _, res := range r.response(t).Results {
		assert.True(t, res.Duplicate, res.MessageID)
	}
	assert.Equal(t, []string{"tr-1", "tr-2", "tr-3"}, eventIDs(getContact(t, u, "92980cfccc067")))

	// A tracking-API call, the type from the endpoint.
	call := `{"userId":"92980cfccc067","event":"Signed Agreement","messageId":"tr-5","timestamp":"2020-08-27T10:00:00Z"}`
	r = send(t, http.MethodPost, u+"/v1/track", call, "X-Signature", sign(call))
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	c = getContact(t, u, "92980cfccc067")
	assert.Equal(t, []string{"tr-1", "tr-2", "tr-3", "tr-5"}, eventIDs(c))
	assert.Equal(t, "Signed Agreement", c.Events[3].Name)

	// Unknown users, the audience, health.
	r = send(t, http.MethodGet, u+"/contacts/nobody", "")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.Equal(t, []string{"tr-4"}, eventIDs(getContact(t, u, "anon-only-user")), "a track before any identify makes a contact (Rule E3)")

	r = send(t, http.MethodGet, u+"/audience", "")
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "application/x-ndjson", r.header.Get("Content-Type"))
	lines := strings.Split(strings.TrimSpace(string(r.body)), "\n")
	require.Len(t, lines, 1, "only the contact with a valid phone is in the audience (Rule A1)")
	var member exported
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &member))
	assert.Equal(t, "92980cfccc067", member.UserID)
	assert.Empty(t, member.Events)

	r = send(t, http.MethodGet, u+"/healthz", "")
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "ok\n", string(r.body))
	assert.Equal(t, http.StatusMethodNotAllowed, send(t, http.MethodGet, u+"/", "").status, "deliveries are POSTed")
	assert.Equal(t, http.StatusMethodNotAllowed, send(t, http.MethodGet, u+"/v1/track", "").status)
	assert.Equal(t, http.StatusNotFound, send(t, http.MethodGet, u+"/nothing", "").status)

	require.NoError(t, s.stop(t))
	logs := s.stderr.String()
	assert.Contains(t, logs, "delivery refused")
	for _, pii := range []string{"9545552399", "rebecca@", "5555555"} {
		assert.NotContains(t, logs, pii)
	}
}

// TestRun_writeKey: with -write-key, deliveries carry the key as Basic credentials or
// in the body.
func TestRun_writeKey(t *testing.T) {
	s := start(t, "-write-key", "wk_one", "-write-key", "wk_two")
	body := trackMsg("k-1", "u-key", "Signed Up")
	assert.Equal(t, http.StatusUnauthorized, send(t, http.MethodPost, s.base+"/v1/batch", body).status)
	assert.Equal(t, http.StatusForbidden, send(t, http.MethodPost, s.base+"/", body, "Authorization", "Basic "+basic("wk_three")).status)
	assert.Equal(t, http.StatusOK, send(t, http.MethodPost, s.base+"/", body, "Authorization", "Basic "+basic("wk_two")).status)
	keyed := `{"batch":[` + trackMsg("k-2", "u-key", "Signed Up") + `],"writeKey":"wk_one"}`
	assert.Equal(t, http.StatusOK, send(t, http.MethodPost, s.base+"/v1/batch", keyed).status)
	assert.Equal(t, []string{"k-1", "k-2"}, eventIDs(getContact(t, s.base, "u-key")))
}

func basic(key string) string {
	return base64.StdEncoding.EncodeToString([]byte(key + ":"))
}

// TestRun_gracefulShutdown: a request in flight when the signal comes is finished and
// answered; new connections are refused; run returns nil.
func TestRun_gracefulShutdown(t *testing.T) {
	s := start(t)
	body := trackMsg("g-1", "u-graceful", "Signed Up")
	pr, pw := io.Pipe()
	defer pw.Close()
	// The client sends the body only once the handler reads it (100 Continue): then
	// the request is in flight for sure.
	reading := make(chan struct{})
	trace := &httptrace.ClientTrace{Got100Continue: func() { close(reading) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodPost, s.base+"/", pr)
	require.NoError(t, err)
	req.Header.Set("Expect", "100-continue")
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	type result struct {
		status int
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			got <- result{err: err}
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got <- result{status: resp.StatusCode}
	}()
	select {
	case <-reading:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler never read the body")
	}
	_, err = io.WriteString(pw, body[:20])
	require.NoError(t, err)

	s.cancel()
	addr := strings.TrimPrefix(s.base, "http://")
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 5*time.Second, 20*time.Millisecond, "the listener closes at once")
	select {
	case <-s.done:
		t.Fatal("run returned with a request in flight")
	case <-time.After(100 * time.Millisecond):
	}

	_, err = io.WriteString(pw, body[20:])
	require.NoError(t, err)
	require.NoError(t, pw.Close())
	res := <-got
	require.NoError(t, res.err)
	assert.Equal(t, http.StatusOK, res.status)
	require.NoError(t, s.stop(t))
	assert.Contains(t, s.stderr.String(), "shutting down")
}

// TestRun_usage: a bad command line is a usage error (exit status 2), with the usage on
// stderr; -h prints it and succeeds.
func TestRun_usage(t *testing.T) {
	for _, args := range [][]string{{"-nope"}, {"extra"}, {"-write-key", ""}, {"-addr"}} {
		var stderr bytes.Buffer
		err := run(context.Background(), args, io.Discard, &stderr)
		assert.ErrorIs(t, err, webhookserver.ErrUsage, args)
		assert.Contains(t, stderr.String(), "-secret", args)
	}
	var stderr bytes.Buffer
	assert.NoError(t, run(context.Background(), []string{"-h"}, io.Discard, &stderr))
	assert.Contains(t, stderr.String(), "-write-key")

	err := run(context.Background(), []string{"-addr", "127.0.0.1:-1"}, io.Discard, io.Discard)
	assert.Error(t, err)
	assert.NotErrorIs(t, err, webhookserver.ErrUsage)
}

// flakyStore fails the Update calls whose numbers are in failAt, as a database whose
// connection drops would, and passes the others to the store.
type flakyStore struct {
	contact.Store
	failAt map[int32]bool
	calls  atomic.Int32
}

func (s *flakyStore) Update(ctx context.Context, fn func(contact.Tx) error) error {
	if s.failAt[s.calls.Add(1)] {
		return errors.New("flaky: connection reset")
	}
	return s.Store.Update(ctx, fn)
}

// TestRetryIsHarmless_RuleE2: the store fails half way through a batch; the handler
// answers 500, Segment delivers the batch again, and the contact has each event once.
func TestRetryIsHarmless_RuleE2(t *testing.T) {
	store := &flakyStore{Store: memstore.New(), failAt: map[int32]bool{3: true}}
	var logs lockedBuffer
	srv := httptest.NewServer(newServer(store, nil, nil, slog.New(slog.NewTextHandler(&logs, nil))))
	defer srv.Close()

	batch := `{"batch":[` + identify + `,` + trackMsg("r-1", "92980cfccc067", "A") + `,` +
		trackMsg("r-2", "92980cfccc067", "B") + `,` + trackMsg("r-3", "92980cfccc067", "C") + `]}`
	r := send(t, http.MethodPost, srv.URL+"/v1/batch", batch)
	require.Equal(t, http.StatusInternalServerError, r.status, string(r.body))
	assert.Equal(t, []string{"r-1"}, eventIDs(getContact(t, srv.URL, "92980cfccc067")), "processed before the failure")
	assert.Contains(t, logs.String(), "flaky: connection reset")

	r = send(t, http.MethodPost, srv.URL+"/v1/batch", batch)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	res := r.response(t).Results
	require.Len(t, res, 4)
	assert.Equal(t, []bool{true, true, false, false}, []bool{res[0].Duplicate, res[1].Duplicate, res[2].Duplicate, res[3].Duplicate})

	r = send(t, http.MethodPost, srv.URL+"/v1/batch", batch)
	require.Equal(t, http.StatusOK, r.status)
	c := getContact(t, srv.URL, "92980cfccc067")
	assert.Equal(t, []string{"r-1", "r-2", "r-3"}, eventIDs(c))
	assert.Equal(t, "+19545552399", c.Phone)

	var n int
	for _, err := range store.Events(context.Background(), mustFind(t, store, "92980cfccc067").ID(), contact.EventQuery{}) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 3, n)
}

func mustFind(t *testing.T, store contact.Store, userID string) *contact.Contact {
	t.Helper()
	found, err := store.Find(context.Background(), identity.UserKey(userID))
	require.NoError(t, err)
	require.Len(t, found, 1)
	return found[0]
}

// TestProcessorSink_conflict: a store that gave up on a conflict asks Segment to retry
// soon: 503 with Retry-After.
func TestProcessorSink_conflict(t *testing.T) {
	store := conflictStore{memstore.New()}
	srv := httptest.NewServer(newServer(store, nil, nil, slog.New(slog.DiscardHandler)))
	defer srv.Close()
	r := send(t, http.MethodPost, srv.URL+"/", trackMsg("c-1", "u", "E"))
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Equal(t, "1", r.header.Get("Retry-After"))
}

type conflictStore struct{ contact.Store }

func (conflictStore) Update(context.Context, func(contact.Tx) error) error {
	return contact.ErrConflict
}

// TestRun_unknownPaths: only the documented routes take deliveries; any other path
// answers 404 with a JSON error and processes nothing (issue 12).
func TestRun_unknownPaths(t *testing.T) {
	s := start(t)
	body := trackMsg("np-1", "u-nowhere", "Signed Up")
	for _, path := range []string{"/v1/nope", "/anything/else", "/v1/track/extra", "/v2/track", "/regal", "/contacts/a/b", "/triggers/x"} {
		r := send(t, http.MethodPost, s.base+path, body)
		assert.Equal(t, http.StatusNotFound, r.status, path)
		assert.Equal(t, "application/json", r.header.Get("Content-Type"), path)
		var e map[string]string
		require.NoError(t, json.Unmarshal(r.body, &e), path)
		assert.NotEmpty(t, e["error"], path)
	}
	for _, path := range []string{"/contacts/x1", "/audience", "/healthz", "/guard"} { // routes read with GET
		r := send(t, http.MethodPost, s.base+path, body)
		assert.Equal(t, http.StatusMethodNotAllowed, r.status, path)
		assert.Equal(t, "application/json", r.header.Get("Content-Type"), path)
		assert.Equal(t, "GET, HEAD", r.header.Get("Allow"), path)
	}
	assert.Equal(t, http.StatusNotFound, send(t, http.MethodGet, s.base+"/contacts/u-nowhere", "").status, "nothing was processed")
	for _, path := range []string{"/", "/v1/identify", "/v1/track", "/v1/page", "/v1/screen", "/v1/group", "/v1/alias", "/v1/batch",
		"/v1/import", "/v1/b", "/v1/i", "/v1/t", "/v1/p", "/v1/s", "/v1/g", "/v1/a"} {
		want := http.StatusOK
		if strings.HasPrefix(path, "/v1/") && path != "/v1/track" && path != "/v1/batch" && path != "/v1/import" && path != "/v1/b" && path != "/v1/t" {
			want = http.StatusBadRequest // the handler's: a typed endpoint takes its own type
		}
		r := send(t, http.MethodPost, s.base+path, `{"type":"track","userId":"u-routed","event":"E","messageId":"`+path+`"}`)
		assert.Equal(t, want, r.status, path)
		assert.NotEmpty(t, r.response(t).Results, path)
	}
	assert.Len(t, getContact(t, s.base, "u-routed").Events, 6, "the track endpoints (/v1/track, analytics.js's /v1/t), the webhook, batch, import and b took the track")
}

// TestRun_token: with -token, every delivery carries "Authorization: Bearer T"; a
// signed array with a forged item appended is refused without it (issue 12, Rule D8).
func TestRun_token(t *testing.T) {
	const token = "tok_webhook_test"
	s := start(t, "-secret", secret, "-token", token)
	first := trackMsg("tk-1", "u-token", "Signed Up")
	forged := trackMsg("tk-forged", "victim", "SMS Opt Out")
	array := "[" + first + "," + forged + "]"
	r := send(t, http.MethodPost, s.base+"/", array, "X-Signature", sign(first))
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, `Bearer realm="segment"`, r.header.Get("WWW-Authenticate"))
	r = send(t, http.MethodPost, s.base+"/", first, "X-Signature", sign(first), "Authorization", "Bearer wrong")
	assert.Equal(t, http.StatusUnauthorized, r.status)
	r = send(t, http.MethodPost, s.base+"/", first, "X-Signature", sign(first), "Authorization", "Bearer "+token)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	assert.Equal(t, []string{"tk-1"}, eventIDs(getContact(t, s.base, "u-token")))
	assert.Equal(t, http.StatusNotFound, send(t, http.MethodGet, s.base+"/contacts/victim", "").status)
	require.NoError(t, s.stop(t))
	assert.NotContains(t, s.stderr.String(), token, "the token is never logged")
}

// TestRun_exportShowsWhatWasRecorded: GET /contacts/{id} shows a group call's traits,
// every event's context, and the receivedAt the tracking API stamped (issue 12,
// RULES.md, X).
func TestRun_exportShowsWhatWasRecorded(t *testing.T) {
	s := start(t)
	group := `{"userId":"u-export","groupId":"acme","messageId":"g-1","timestamp":"2020-08-26T15:02:11Z",
		"traits":{"name":"Acme Inc","plan":"enterprise"},
		"context":{"ip":"8.8.8.8","userAgent":"UA","locale":"en-US","library":{"name":"analytics-go","version":"3.0.0"},"page":{"path":"/pricing"}}}`
	before := time.Now().UTC().Add(-time.Second)
	require.Equal(t, http.StatusOK, send(t, http.MethodPost, s.base+"/v1/group", group).status)
	r := send(t, http.MethodGet, s.base+"/contacts/u-export", "")
	require.Equal(t, http.StatusOK, r.status)
	var c struct {
		Events []struct {
			Kind       string          `json:"kind"`
			GroupID    string          `json:"groupId"`
			Traits     json.RawMessage `json:"traits"`
			Context    json.RawMessage `json:"context"`
			ReceivedAt time.Time       `json:"receivedAt"`
		} `json:"events"`
	}
	require.NoError(t, json.Unmarshal(r.body, &c), string(r.body))
	require.Len(t, c.Events, 1)
	e := c.Events[0]
	assert.Equal(t, "group", e.Kind)
	assert.Equal(t, "acme", e.GroupID)
	assert.JSONEq(t, `{"name":"Acme Inc","plan":"enterprise"}`, string(e.Traits))
	assert.JSONEq(t, `{"ip":"8.8.8.8","userAgent":"UA","locale":"en-US","library":{"name":"analytics-go","version":"3.0.0"},"page":{"path":"/pricing"}}`, string(e.Context))
	assert.True(t, e.ReceivedAt.After(before), "stamped on arrival: %v", e.ReceivedAt)
}

// TestRun_contextTraits: with -context-traits, an event's context.traits apply as
// traits; without it they are only recorded (issue 12).
func TestRun_contextTraits(t *testing.T) {
	body := `{"type":"track","userId":"u-ct","event":"E","messageId":"ct-1","context":{"traits":{"phone":"+19545552399"}}}`
	for _, tc := range []struct {
		args  []string
		phone string
	}{{nil, ""}, {[]string{"-context-traits"}, "+19545552399"}} {
		s := start(t, tc.args...)
		require.Equal(t, http.StatusOK, send(t, http.MethodPost, s.base+"/", body).status)
		assert.Equal(t, tc.phone, getContact(t, s.base, "u-ct").Phone, tc.args)
	}
}

// newServer is the example's routes on store, as webhookserver.Run builds them.
func newServer(store contact.Store, popts *regalkit.Options, opts *segmentio.HandlerOptions, logger *slog.Logger) http.Handler {
	return webhookserver.NewHandler(webhookserver.Config{Name: "webhook", Store: store, Logger: logger}, popts, opts)
}

// TestRun_batchEndpointB_RuleD9: analytics.js in batching mode, analytics-kotlin and
// analytics-swift post their batches to /v1/b as text/plain (kotlin gzipped), the
// write key in the body only (Rule D9).
func TestRun_batchEndpointB_RuleD9(t *testing.T) {
	s := start(t, "-write-key", "wk_b")
	body := `{"batch":[{"type":"identify","userId":"u-b","messageId":"b-1","timestamp":"2024-03-01T12:00:00Z","traits":{"firstName":"Bea"}},
		{"type":"track","userId":"u-b","event":"Signed Up","messageId":"b-2","timestamp":"2024-03-01T12:01:00Z"}],
		"sentAt":"2024-03-01T12:01:01.000Z","writeKey":"wk_b"}`
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, err := w.Write([]byte(body))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	for _, r := range []reply{
		send(t, http.MethodPost, s.base+"/v1/b", body, "Content-Type", "text/plain"),
		send(t, http.MethodPost, s.base+"/v1/b", gz.String(), "Content-Type", "text/plain", "Content-Encoding", "gzip"),
	} {
		require.Equal(t, http.StatusOK, r.status, string(r.body))
	}
	c := getContact(t, s.base, "u-b")
	assert.Equal(t, "Bea", c.FirstName)
	assert.Len(t, c.Events, 1, "the track once: the gzipped batch is a re-delivery (Rule E2)")
	assert.Equal(t, http.StatusForbidden, send(t, http.MethodPost, s.base+"/v1/b", strings.Replace(body, `"wk_b"`, `"other"`, 1), "Content-Type", "text/plain").status, "a wrong write key")
}

// TestServer_answerStaysAboutTheRequestsSize_RulesD7T10 (Rules D7, T10): a review sent 16
// identifies of 30 KB, each with an optIn array of 15,000 records of two bytes, within
// every limit: the server answered 200 with 60 MB of diagnostics, 240,000 of them, and
// allocated 785 MB on the way. A message's result carries at most 100 diagnostics now,
// and an optIn array is read for its first 100 records.
func TestServer_answerStaysAboutTheRequestsSize_RulesD7T10(t *testing.T) {
	recs := strings.TrimSuffix(strings.Repeat("1,", 15000), ",")
	items := make([]string, 16)
	for i := range items {
		items[i] = `{"type":"identify","userId":"u","messageId":"` + strings.Repeat("m", 95) + string(rune('a'+i)) + `","traits":{"optIn":[` + recs + `]}}`
	}
	body := "[" + strings.Join(items, ",") + "]"
	rec := httptest.NewRecorder()
	newServer(memstore.New(), &regalkit.Options{}, nil, nil).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Less(t, rec.Body.Len(), 2*len(body), "a %d-byte request", len(body))
	assert.Equal(t, 16*regalkit.MaxDiagnostics, strings.Count(rec.Body.String(), `"code":`))
}
