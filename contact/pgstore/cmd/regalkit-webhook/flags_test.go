package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// do sends a request and returns its status and body.
func do(t *testing.T, method, url, body string, headers ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var b strings.Builder
	_, err = io.Copy(&b, resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b.String()
}

// TestRun_ExampleFlags: the server takes examples/webhook's flags and serves its routes,
// since both run internal/webhookserver: -token guards the deliveries, -trigger serves
// GET /triggers/{name}/due, GET /guard answers, -regal-token turns POST /regal on, and
// a path no route takes is a JSON 404 rather than a delivery.
func TestRun_ExampleFlags(t *testing.T) {
	dsn := testDSN(t)
	trig := filepath.Join(t.TempDir(), "t.json")
	require.NoError(t, os.WriteFile(trig, []byte(`{"name":"approved","entry":{"event":"Loan Application Approved"},"delay":"2h"}`), 0o600))
	url, _ := replica(t, dsn, "-token", "tok_pg", "-trigger", trig, "-regal-token", "rt", "-context-traits")

	const track = `{"type":"track","messageId":"m-1","userId":"u-flags","event":"Loan Application Approved","timestamp":"2026-03-02T09:00:00Z"}`
	status, _ := do(t, http.MethodPost, url+"/", track)
	assert.Equal(t, http.StatusUnauthorized, status, "-token: a delivery without the bearer token is refused")
	status, body := do(t, http.MethodPost, url+"/", track, "Authorization", "Bearer tok_pg")
	require.Equal(t, http.StatusOK, status, body)

	status, body = do(t, http.MethodGet, url+"/triggers/approved/due?at=2026-03-02T12:00:00Z", "")
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"userId":"u-flags"`)
	assert.Contains(t, body, `"dueAt":"2026-03-02T11:00:00Z"`)
	status, _ = do(t, http.MethodGet, url+"/triggers/other/due", "")
	assert.Equal(t, http.StatusNotFound, status)

	status, body = do(t, http.MethodGet, url+"/guard?phone=%2B19545552399&at=2026-06-10T15:00:00Z", "")
	assert.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"allowed"`)

	status, _ = do(t, http.MethodPost, url+"/regal", `{}`)
	assert.Equal(t, http.StatusUnauthorized, status, "-regal-token: POST /regal is on, and wants the token")
	status, body = do(t, http.MethodPost, url+"/elsewhere", track, "Authorization", "Bearer tok_pg")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Contains(t, body, `"error"`)
}
