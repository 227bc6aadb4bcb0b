package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/internal/webhookserver"
)

// dueOf reads GET /triggers/{name}/due?at=at.
func dueOf(t *testing.T, base, name, at string) []webhookserver.DueLine {
	t.Helper()
	url := base + "/triggers/" + name + "/due"
	if at != "" {
		url += "?at=" + at
	}
	r := send(t, http.MethodGet, url, "")
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	assert.Equal(t, "application/x-ndjson", r.header.Get("Content-Type"))
	var out []webhookserver.DueLine
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	for sc.Scan() {
		var l webhookserver.DueLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
		out = append(out, l)
	}
	return out
}

// The README's quickstart, end to end: approved and not signed, the contact is due two
// hours after the approval; signed inside the 48h window, it is no longer due; a late
// approval of another contact is due at its own time (Rules J1–J3).
func TestRun_triggerDue(t *testing.T) {
	s := start(t, "-trigger", filepath.Join("testdata", "approved-not-signed.json"))
	identify := func(user, phone string) string {
		return `{"type":"identify","userId":"` + user + `","messageId":"id-` + user + `","timestamp":"2026-03-02T08:00:00Z",
			"context":{"ip":"8.8.8.8"},"traits":{"phone":"` + phone + `",
			"optIn":[{"channel":"voice","subscribed":true,"timestamp":"2026-03-02T08:00:00Z","ip":"8.8.8.8"}]}}`
	}
	approved := func(user, id, ts string, amount string) string {
		return `{"type":"track","userId":"` + user + `","messageId":"` + id + `","timestamp":"` + ts + `",
			"event":"Loan Application Approved","properties":{"amount":` + amount + `}}`
	}
	for _, body := range []string{
		identify("u-ann", "+19545552399"), identify("u-bob", "+19175554444"),
		approved("u-ann", "ann-approved", "2026-03-02T09:00:00Z", "30000"),
		approved("u-bob", "bob-small", "2026-03-02T09:00:00Z", "5000"),
	} {
		r := send(t, http.MethodPost, s.base+"/", body)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
	}
	assert.Empty(t, dueOf(t, s.base, "approved-not-signed", "2026-03-02T10:59:59Z"), "not due before 2h")
	due := dueOf(t, s.base, "approved-not-signed", "2026-03-02T11:00:00Z")
	require.Len(t, due, 1)
	assert.Equal(t, "u-ann", due[0].UserID)
	assert.Equal(t, "2026-03-02T11:00:00Z", due[0].DueAt.Format("2006-01-02T15:04:05Z07:00"))
	assert.Equal(t, "ann-approved", due[0].Entry.MessageID)
	assert.NotEmpty(t, due[0].ContactID)

	// A late approval for Bob, which happened before Ann's: first in dueAt order.
	r := send(t, http.MethodPost, s.base+"/", approved("u-bob", "bob-approved", "2026-03-02T08:30:00Z", "12000"))
	require.Equal(t, http.StatusOK, r.status)
	due = dueOf(t, s.base, "approved-not-signed", "2026-03-02T12:00:00Z")
	require.Len(t, due, 2)
	assert.Equal(t, []string{"u-bob", "u-ann"}, []string{due[0].UserID, due[1].UserID})

	// Ann signs a day later: no longer due; asking twice gives the same answer.
	r = send(t, http.MethodPost, s.base+"/", `{"type":"track","userId":"u-ann","messageId":"ann-signed",
		"timestamp":"2026-03-03T09:00:00Z","event":"Loan Signed"}`)
	require.Equal(t, http.StatusOK, r.status)
	for range 2 {
		due = dueOf(t, s.base, "approved-not-signed", "2026-03-03T10:00:00Z")
		require.Len(t, due, 1)
		assert.Equal(t, "u-bob", due[0].UserID)
	}
	// Now by default: both approvals are long past.
	assert.Len(t, dueOf(t, s.base, "approved-not-signed", ""), 1)

	r = send(t, http.MethodGet, s.base+"/triggers/nope/due", "")
	assert.Equal(t, http.StatusNotFound, r.status)
	r = send(t, http.MethodGet, s.base+"/triggers/approved-not-signed/due?at=yesterday", "")
	assert.Equal(t, http.StatusBadRequest, r.status)
}

// A trigger file that cannot be read or decoded stops the server at start, with an
// error naming the file and the field.
func TestRun_badTriggerFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"name":"x","entry":{"event":"A"},"exit":[{"event":"B","within":"2 days"}]}`), 0o600))
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-trigger", bad}, io.Discard, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad)
	assert.Contains(t, err.Error(), "exit[0].within")

	missing := filepath.Join(dir, "missing.json")
	err = run(context.Background(), []string{"-addr", "127.0.0.1:0", "-trigger", missing}, io.Discard, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), missing)

	good := filepath.Join("testdata", "approved-not-signed.json")
	err = run(context.Background(), []string{"-addr", "127.0.0.1:0", "-trigger", good, "-trigger", good}, io.Discard, io.Discard)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "field name"), err.Error())
}
