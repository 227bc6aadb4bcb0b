package webhookserver

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/contact/memstore"
)

func get(t *testing.T, h http.Handler, method, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code, rec.Body.String()
}

// TestHealth: GET /healthz answers 200 without Config.Health, and 503 while Health fails.
func TestHealth(t *testing.T) {
	h := NewHandler(Config{Store: memstore.New()}, nil, nil)
	code, body := get(t, h, http.MethodGet, "/healthz")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok\n", body)

	down := errors.New("down")
	var sawDeadline bool
	h = NewHandler(Config{Store: memstore.New(), Health: func(ctx context.Context) error {
		_, sawDeadline = ctx.Deadline()
		return down
	}}, nil, nil)
	code, body = get(t, h, http.MethodGet, "/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "database unreachable\n", body)
	assert.True(t, sawDeadline, "Health is asked with a deadline")
}

// TestRoutesOff: without -regal-token POST /regal is 404, GET /outbox is Run's only,
// and a delivery route with another method is 405.
func TestRoutesOff(t *testing.T) {
	h := NewHandler(Config{Store: memstore.New()}, nil, nil)
	code, _ := get(t, h, http.MethodPost, "/regal")
	assert.Equal(t, http.StatusNotFound, code)
	code, _ = get(t, h, http.MethodGet, "/outbox")
	assert.Equal(t, http.StatusNotFound, code)
	code, body := get(t, h, http.MethodGet, "/v1/track")
	assert.Equal(t, http.StatusMethodNotAllowed, code)
	assert.Contains(t, body, "deliveries are POSTed")
}

// TestUncleanPaths_RuleD9: a path with ".." or "." gets the JSON 404 every path but the
// routes' gets, not ServeMux's redirect to the cleaned path (whose Location would echo
// the sender's path); a route with a trailing slash is any other path. A delivery POSTed
// to a delivery route written with "//" or a trailing "/" (analytics-go with an
// endpoint that ends in "/" posts to "//v1/batch") is the route's (a review found it
// refused with 404).
func TestUncleanPaths_RuleD9(t *testing.T) {
	h := NewHandler(Config{Store: memstore.New()}, nil, nil)
	for _, p := range []string{"/v1/track/../../+19545552399", "/v1/./track", "/v1/track/.", "//", "/healthz/.", "//healthz", "/v1//nope"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, p, strings.NewReader(`{}`)))
		assert.Equal(t, http.StatusNotFound, rec.Code, p)
		assert.Empty(t, rec.Header().Get("Location"), p)
		assert.JSONEq(t, `{"error":"no such route","code":"http.not_found","message":"no such route"}`, rec.Body.String(), p)
	}
	for i, p := range []string{"//v1/track", "/v1//track", "/v1/track/", "//v1/batch", "/v1/batch/"} {
		body := `{"type":"track","userId":"u-clean","event":"E","messageId":"clean-` + strconv.Itoa(i) + `"}`
		if strings.Contains(p, "batch") {
			body = `{"batch":[` + body + `]}`
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, p, strings.NewReader(body)))
		assert.Equal(t, http.StatusOK, rec.Code, "%s: %s", p, rec.Body.String())
		assert.Contains(t, rec.Body.String(), `"clean-`+strconv.Itoa(i)+`"`, p)
	}
	// analytics.js's CORS preflight reaches the Handler on the tracking API's routes,
	// written as POSTs to them may be.
	for _, p := range []string{"/v1/t", "/v1/b/", "//v1/b"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodOptions, p, nil)
		req.Header.Set("Origin", "https://shop.example.com")
		h.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusNoContent, rec.Code, p)
		assert.Equal(t, "*", rec.Header().Get("Access-Control-Allow-Origin"), p)
		assert.Equal(t, "Origin", rec.Header().Get("Vary"), p)
	}
	code, _ := get(t, h, http.MethodGet, "/healthz")
	assert.Equal(t, http.StatusOK, code)
	code, _ = get(t, h, http.MethodGet, "/healthz/")
	assert.Equal(t, http.StatusNotFound, code)
}

// TestFlags: Register sets the documented defaults, collects repeatable flags, and
// Check refuses a -regal-url that is not the Events API endpoint only with -regal-key.
func TestFlags(t *testing.T) {
	var f Flags
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.Register(fs)
	require.NoError(t, fs.Parse([]string{"-write-key", "a", "-write-key", "b", "-trigger", "x.json", "-regal-url", "https://example.com/other"}))
	assert.Equal(t, "127.0.0.1:8080", f.Addr)
	assert.Equal(t, []string{"a", "b"}, f.WriteKeys)
	assert.Equal(t, []string{"x.json"}, f.TriggerFiles)
	assert.NoError(t, f.Check(), "no -regal-key: -regal-url is unused")
	f.RegalKey = "k"
	assert.ErrorContains(t, f.Check(), "ending in /events")
	f.RegalURL = defaultRegalURL
	assert.NoError(t, f.Check())
	h := Flags{RegalHeader: "X-Regal-Token"}
	assert.ErrorContains(t, h.Check(), "needs -regal-token", "a header with no token to compare would do nothing")
	assert.Error(t, fs.Parse([]string{"-write-key", ""}), "an empty write key is refused")
}

// TestParse: -h is flag.ErrHelp; an extra argument and a bad -regal-url are ErrUsage,
// said on the flag set's output after its name.
func TestParse(t *testing.T) {
	parse := func(args ...string) (string, error) {
		var f Flags
		var out strings.Builder
		fs := flag.NewFlagSet("srv", flag.ContinueOnError)
		fs.SetOutput(&out)
		f.Register(fs)
		err := f.Parse(fs, args)
		return out.String(), err
	}
	_, err := parse("-h")
	assert.ErrorIs(t, err, flag.ErrHelp)
	out, err := parse("extra")
	assert.ErrorIs(t, err, ErrUsage)
	assert.Contains(t, out, `srv: unexpected argument "extra"`)
	out, err = parse("-regal-key", "k", "-regal-url", "ftp://x/events")
	assert.ErrorIs(t, err, ErrUsage)
	assert.Contains(t, out, "srv: -regal-url must be an http or https URL")
	_, err = parse("-addr", "127.0.0.1:0", "-token", "t")
	assert.NoError(t, err)
}

// TestRun_slowClientDoesNotTakeTheDrain: a client that sends its body slowly holds its
// request past the time requests get at shutdown; the server cuts it off and still
// stops the forwarder (and says what it leaves), and Run returns no error.
func TestRun_slowClientDoesNotTakeTheDrain(t *testing.T) {
	defer func(s, r time.Duration) { shutdownTimeout, drainReserve = s, r }(shutdownTimeout, drainReserve)
	shutdownTimeout, drainReserve = 2*time.Second, 500*time.Millisecond
	regal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer regal.Close()
	var logs strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Store: memstore.New(), Logger: logger,
			Flags: Flags{Addr: "127.0.0.1:0", RegalKey: "k", RegalURL: regal.URL + "/events"}}, pw)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	addr := strings.TrimPrefix(strings.TrimSpace(line), "listening on http://")
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond) // the request is in flight
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	assert.Less(t, time.Since(start), shutdownTimeout+time.Second)
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, logs.String(), "were cut off")
	assert.Contains(t, logs.String(), "forwarder stopped")
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestUncleanPaths_escapedUserID_RuleD9: the check reads the path as sent: a userId holding
// "//" or "/../", escaped in the path, is still served.
func TestUncleanPaths_escapedUserID_RuleD9(t *testing.T) {
	h := NewHandler(Config{Store: memstore.New()}, nil, nil)
	for _, id := range []string{"https://example.com/users/42", "a//b", "x/../y"} {
		body := `{"type":"identify","userId":"` + id + `","messageId":"m-` + url.PathEscape(id) + `","traits":{"firstName":"A"}}`
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
		require.Equal(t, http.StatusOK, rec.Code, id)
		code, out := get(t, h, http.MethodGet, "/contacts/"+url.PathEscape(id))
		assert.Equal(t, http.StatusOK, code, id)
		assert.Contains(t, out, `"firstName":"A"`, id)
	}
}

// TestFlags_credentialsFromEnvironment: a credential not given as a flag comes from its
// environment variable, so that it need not be in the process list (SECURITY.md); a
// flag wins, and -h does not print the environment's value.
func TestFlags_credentialsFromEnvironment(t *testing.T) {
	env := map[string]string{"REGALKIT_SECRET": "s-env", "REGALKIT_TOKEN": "t-env", "REGALKIT_REGAL_TOKEN": "rt-env", "REGALKIT_REGAL_KEY": "rk-env"}
	for k, v := range env {
		t.Setenv(k, v)
	}
	var f Flags
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	var help strings.Builder
	fs.SetOutput(&help)
	f.Register(fs)
	require.NoError(t, f.Parse(fs, []string{"-token", "t-flag"}))
	assert.Equal(t, "s-env", f.Secret)
	assert.Equal(t, "t-flag", f.Token, "the flag wins")
	assert.Equal(t, "rt-env", f.RegalToken)
	assert.Equal(t, "rk-env", f.RegalKey)
	fs.Usage()
	for _, v := range env {
		assert.NotContains(t, help.String(), v)
	}
}
