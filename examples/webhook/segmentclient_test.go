package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// analyticsNodeEnv names the folder where `npm ci` installed Segment's Node.js library
// from testdata/analytics-node (.ci/segment-clients sets it).
const analyticsNodeEnv = "REGALKIT_ANALYTICS_NODE"

// analyticsNodeLegacyEnv is analyticsNodeEnv for the older library, from
// testdata/analytics-node-legacy.
const analyticsNodeLegacyEnv = "REGALKIT_ANALYTICS_NODE_LEGACY"

// segmentCall is one call send.js makes: analytics[method](params).
type segmentCall struct {
	Method string         `json:"method"`
	Params map[string]any `json:"params"`
}

// lossyProxy stands between a client and the server. It forwards every request; to
// the first lose requests that carry a batch it answers 503 after the server has
// processed them, as a load balancer that lost the server's answer would, so that
// the client sends the same messages again.
type lossyProxy struct {
	next http.Handler
	lose int

	mu         sync.Mutex
	batches    int
	messageIDs []string // every messageId the client sent, re-sends included
	auth       []string // the Authorization header of each request
	keys       []string // the keys of every batch envelope the client sent
}

func (p *lossyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var b struct {
		Batch []struct {
			MessageID string `json:"messageId"`
		} `json:"batch"`
	}
	_ = json.Unmarshal(body, &b)
	var envelope map[string]json.RawMessage
	_ = json.Unmarshal(body, &envelope)
	p.mu.Lock()
	if _, ok := envelope["batch"]; ok {
		for k := range envelope {
			p.keys = append(p.keys, k)
		}
	}
	p.auth = append(p.auth, r.Header.Get("Authorization"))
	for _, m := range b.Batch {
		p.messageIDs = append(p.messageIDs, m.MessageID)
	}
	p.batches++
	lost := len(b.Batch) > 0 && p.batches <= p.lose
	p.mu.Unlock()

	r.Body = io.NopCloser(bytes.NewReader(body))
	if !lost {
		p.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	p.next.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		http.Error(w, "the server refused the batch: "+rec.Body.String(), http.StatusBadGateway)
		return
	}
	http.Error(w, "answer lost", http.StatusServiceUnavailable)
}

// TestRun_analyticsNode sends traffic with Segment's own Node.js library
// (@segment/analytics-node, the version testdata/analytics-node pins) to the server's
// tracking API, through a proxy that loses the server's answer to the first two
// batches, so that the library re-sends them as it does after a 5xx. It checks that
// the library's requests are accepted (its batch form, its Basic write-key
// credentials: Rules D1, D8), that every call reaches the contact it names through
// the links and the alias the traffic makes (Rules I3, I5), and that re-sent messages
// are recorded once (Rule E2).
func TestRun_analyticsNode(t *testing.T) {
	testNodeLibrary(t, analyticsNodeEnv, "testdata/analytics-node/send.js")
}

// TestRun_analyticsNodeLegacy is TestRun_analyticsNode with Segment's older Node.js
// library (analytics-node, the version testdata/analytics-node-legacy pins), still
// widely installed. Its requests differ: a "timestamp" beside "sentAt" in the batch
// envelope, "_metadata" in every message, a timestamp it adds to every message that
// has none, and retries by axios-retry.
func TestRun_analyticsNodeLegacy(t *testing.T) {
	testNodeLibrary(t, analyticsNodeLegacyEnv, "testdata/analytics-node-legacy/send.js")
}

// testNodeLibrary runs send.js at script with the library `npm ci` installed in the
// folder the environment variable env names, and checks what the server made of its
// traffic.
func testNodeLibrary(t *testing.T, env, script string) {
	dir := os.Getenv(env)
	if dir == "" {
		t.Skip("needs one of Segment's Node.js libraries: run .ci/segment-clients from the repository root (it installs them with npm and runs this test), or set " +
			env + " to a folder where `npm ci` ran with the package*.json beside " + script)
	}
	node, err := exec.LookPath("node")
	require.NoError(t, err, "%s is set, so Node.js must be on PATH", env)
	script, err = filepath.Abs(script)
	require.NoError(t, err)

	s := start(t, "-write-key", "wk_node")
	target, err := url.Parse(s.base)
	require.NoError(t, err)
	proxy := &lossyProxy{next: httputil.NewSingleHostReverseProxy(target), lose: 2}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)

	ts := func(s string) string { return "2026-11-30T10:" + s + "Z" }
	calls := []segmentCall{
		{"page", map[string]any{"anonymousId": "anon-n2", "name": "Pricing", "properties": map[string]any{"path": "/pricing"}, "timestamp": ts("00:00")}},
		{"track", map[string]any{"anonymousId": "anon-n2", "event": "Viewed Plans", "properties": map[string]any{"plan": "pro", "price": 49.5}, "timestamp": ts("01:00")}},
		{"identify", map[string]any{
			"userId": "u-node", "anonymousId": "anon-n2", "timestamp": ts("02:00"),
			"context": map[string]any{"ip": "8.8.8.8", "timezone": "America/Los_Angeles"},
			"traits": map[string]any{
				"firstName": "Ada", "lastName": "Lovelace", "email": "Ada@Example.com", "phone": "(415) 555-2671",
				"plan": "pro", "address": map[string]any{"city": "San Francisco", "state": "CA", "country": "US"},
				"optIn": []any{map[string]any{"channel": "sms", "subscribed": true, "timestamp": ts("02:00"), "source": "signup form", "text": "Reply STOP to stop"}},
			},
		}},
		{"track", map[string]any{"userId": "u-node", "event": "Order Completed", "properties": map[string]any{"revenue": 42.5, "items": []any{"a", "b"}}, "timestamp": ts("03:00"),
			"context": map[string]any{"campaign": map[string]any{"name": "spring", "source": "newsletter"}}}},
		{"screen", map[string]any{"userId": "u-node", "name": "Home", "timestamp": ts("04:00")}},
		{"group", map[string]any{"userId": "u-node", "groupId": "g-acme", "traits": map[string]any{"name": "Acme"}, "timestamp": ts("05:00")}},
		{"alias", map[string]any{"userId": "u-node-2", "previousId": "u-node", "timestamp": ts("06:00")}},
		{"track", map[string]any{"userId": "u-node-2", "event": "Loan Approved", "timestamp": ts("07:00")}},
	}
	in, err := json.Marshal(calls)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, front.URL, "wk_node")
	cmd.Dir = dir // where node_modules holds the library
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "send.js: %s", out)

	proxy.mu.Lock()
	sent, auth, keys := slices.Clone(proxy.messageIDs), slices.Clone(proxy.auth), slices.Clone(proxy.keys)
	proxy.mu.Unlock()
	for _, k := range keys {
		// Any other key of an envelope gives each of its messages a diagnostic
		// (message.envelope_key, Rule D1): the library's own must not.
		assert.Contains(t, []string{"batch", "context", "integrations", "sentAt", "writeKey", "messageId", "timestamp", "sequence", "requestTimestamp"}, k, "a key of the library's batch envelope")
	}
	assert.NotEmpty(t, keys, "the library sent batch envelopes")
	unique := slices.Compact(slices.Sorted(slices.Values(sent)))
	require.Len(t, unique, len(calls), "each call is one message with a messageId of its own")
	assert.Greater(t, len(sent), len(unique), "the library re-sent the batches whose answer was lost")
	for _, a := range auth {
		assert.Equal(t, "Basic "+basic("wk_node"), a, "the write key as Basic credentials, as the library sends it")
	}

	c := getContact(t, s.base, "u-node-2")
	assert.Equal(t, "u-node-2", c.UserID, "the alias renamed the user (Rule I5)")
	assert.Equal(t, "+14155552671", c.Phone, "the phone in E.164 (Rule T8)")
	assert.Equal(t, "Ada@example.com", c.Email)
	assert.Equal(t, "Ada", c.FirstName)
	assert.Equal(t, "subscribed", c.Subscriptions["sms"], "the opt-in, with its IP from context.ip (Rules C3, C4)")
	assert.True(t, c.InAudience)
	var kinds []string
	for _, e := range c.Events {
		kinds = append(kinds, e.Kind+":"+e.Name)
	}
	assert.Equal(t, []string{"page:Pricing", "track:Viewed Plans", "track:Order Completed", "screen:Home", "group:", "track:Loan Approved"}, kinds,
		"every event once, in time order, the anonymous ones linked by the identify (Rules E2, E4, I3)")
	if len(c.Events) > 2 {
		ctx := c.Events[2].Context
		assert.JSONEq(t, `{"name":"spring","source":"newsletter"}`, string(ctx["campaign"]), "the event keeps the context the call gave (Rule E1)")
		assert.Contains(t, string(ctx["library"]), `"name"`, "and the one the library added")
	}
	assert.Equal(t, http.StatusNotFound, send(t, http.MethodGet, s.base+"/contacts/u-node", "").status,
		"the route serves a contact by its External ID, not by a former one (Rule I5)")
}
