package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/internal/webhookserver"
)

// testDSN returns a DSN whose search_path is a fresh schema, dropped when the test
// ends. Without REGALKIT_POSTGRES_DSN the test skips, or fails when CI is set.
func testDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("REGALKIT_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("REGALKIT_POSTGRES_DSN is not set, and CI is: the PostgreSQL tests must run (.ci/postgres starts a server and sets it)")
		}
		t.Skip("PostgreSQL tests need a database: run .ci/postgres from the repository root, or set REGALKIT_POSTGRES_DSN")
	}
	if !strings.Contains(dsn, "://") {
		t.Skip("this test adds the schema to a URL DSN; REGALKIT_POSTGRES_DSN is in key=value form")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	schema := fmt.Sprintf("webhook_test_%d_%d", os.Getpid(), time.Now().UnixNano())
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("dropping schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema: %v", err)
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

// replica runs a server on dsn, with the extra flags, until the test ends or stop is
// called, and returns its base URL.
func replica(t *testing.T, dsn string, extra ...string) (url string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	var mu sync.Mutex
	done := make(chan error, 1)
	go func() {
		args := append([]string{"-addr", "127.0.0.1:0", "-postgres", dsn, "-max-conns", "4"}, extra...)
		err := run(ctx, args, pw, &lockedWriter{w: &stderr, mu: &mu})
		pw.Close()
		done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("server did not start: %v (%v) %s", err, <-done, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		assert.NoError(t, <-done, "server stopped")
	}
	t.Cleanup(stop)
	return strings.TrimSpace(strings.TrimPrefix(line, "listening on ")), stop
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func post(t *testing.T, url, body string) map[string]any {
	t.Helper()
	resp, err := http.Post(url+"/", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

func getContact(t *testing.T, url, userID string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url + "/contacts/" + userID)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

// TestTwoReplicasOneDatabase: what one replica receives, the other serves; a delivery
// retried on the other replica is a duplicate; and a replica started after a restart
// still has it.
func TestTwoReplicasOneDatabase(t *testing.T) {
	dsn := testDSN(t)
	a, stopA := replica(t, dsn)
	b, _ := replica(t, dsn)

	identify := `{"type":"identify","messageId":"w-1","userId":"u-1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8"},"traits":{"firstName":"Ann","phone":"+19545552399","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:00:00Z"}}}`
	post(t, a, identify)
	post(t, a, `{"type":"track","messageId":"w-2","userId":"u-1","timestamp":"2024-03-01T12:01:00Z","event":"Signed Up"}`)

	status, c := getContact(t, b, "u-1")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "Ann", c["firstName"])
	assert.Equal(t, true, c["inAudience"])
	assert.Len(t, c["events"], 1)

	res := post(t, b, identify) // Segment retrying on the other replica
	assert.Contains(t, fmt.Sprint(res), "duplicate:true")

	status, _ = getContact(t, b, "nobody")
	assert.Equal(t, http.StatusNotFound, status)

	stopA()
	again, _ := replica(t, dsn)
	status, c = getContact(t, again, "u-1")
	require.Equal(t, http.StatusOK, status, "after a restart")
	assert.Equal(t, "Ann", c["firstName"])

	resp, err := http.Get(again + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestRun_NoDatabaseIsAUsageError(t *testing.T) {
	t.Setenv("REGALKIT_POSTGRES_DSN", "")
	var stderr bytes.Buffer
	err := run(context.Background(), nil, io.Discard, &stderr)
	assert.ErrorIs(t, err, webhookserver.ErrUsage)
	assert.Contains(t, stderr.String(), "-postgres")
}

// TestRun_UsageHidesTheDSN: the usage text, which flag prints for -h, a mistyped flag
// or a stray argument, never shows the DSN of the environment, password included.
func TestRun_UsageHidesTheDSN(t *testing.T) {
	t.Setenv("REGALKIT_POSTGRES_DSN", "postgres://app:S3cretPw@db.internal:5432/regal")
	for _, args := range [][]string{{"-h"}, {"-adr", "x"}, {"extra"}} {
		var stderr bytes.Buffer
		_ = run(context.Background(), args, io.Discard, &stderr)
		assert.NotEmpty(t, stderr.String(), "args %v", args)
		assert.NotContains(t, stderr.String(), "S3cretPw", "args %v", args)
	}
}

// outboxOf returns a replica's GET /outbox.
func outboxOf(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url + "/outbox")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out map[string]float64
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

// TestTwoReplicasShareTheForwarding: two replicas with -regal-key on one database
// forward what either processes to a fake Regal: every event once, in order per user,
// and GET /outbox on either counts the shared outbox.
func TestTwoReplicasShareTheForwarding(t *testing.T) {
	dsn := testDSN(t)
	var mu sync.Mutex
	got := map[string][]string{} // by userId: the events' messageIds, in arrival order
	requests := 0
	regal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			UserID     string `json:"userId"`
			Name       string `json:"name"`
			Properties struct {
				M string `json:"m"`
			} `json:"properties"`
		}
		if r.Header.Get("Authorization") != "secret-key" || r.URL.Path != "/events" || json.NewDecoder(r.Body).Decode(&b) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		requests++
		if b.Name != "" {
			got[b.UserID] = append(got[b.UserID], b.Properties.M)
		}
		mu.Unlock()
	}))
	t.Cleanup(regal.Close)
	flags := []string{"-regal-key", "secret-key", "-regal-url", regal.URL + "/events"}
	a, stopA := replica(t, dsn, flags...)
	b, stopB := replica(t, dsn, flags...)

	const users, events = 4, 6
	want := map[string][]string{}
	for u := range users {
		userID := fmt.Sprintf("u-%d", u)
		post(t, a, fmt.Sprintf(`{"type":"identify","messageId":"%s-id","userId":"%s","timestamp":"2024-03-01T12:00:00Z","traits":{"firstName":"Ann"}}`, userID, userID))
		for n := 1; n <= events; n++ {
			m := fmt.Sprintf("%s-%d", userID, n)
			to := a
			if n%2 == 0 {
				to = b
			}
			post(t, to, fmt.Sprintf(`{"type":"track","messageId":"%s","userId":"%s","timestamp":"2024-03-01T12:%02d:00Z","event":"Step","properties":{"m":"%s"}}`, m, userID, n, m))
			want[userID] = append(want[userID], m)
		}
	}
	entries := float64(users * (events + 1))
	deadline := time.Now().Add(20 * time.Second)
	var counts map[string]float64
	for {
		counts = outboxOf(t, b)
		if counts["sent"] >= entries && counts["pending"] == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	assert.Equal(t, map[string]float64{"pending": 0, "sent": entries, "dead": 0, "oldestPendingSeconds": 0}, counts)
	assert.Equal(t, counts, outboxOf(t, a), "either replica counts the shared outbox")
	stopA()
	stopB()
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, want, got, "every event once, in order per user")
	assert.Equal(t, int(entries), requests, "one request per entry")
}

func TestRun_BadRegalURLIsAUsageError(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"-postgres", "postgres://x@127.0.0.1:1/db", "-regal-key", "k", "-regal-url", "https://example.com/other"}, io.Discard, &stderr)
	assert.ErrorIs(t, err, webhookserver.ErrUsage)
	assert.Contains(t, stderr.String(), "-regal-url")
}
