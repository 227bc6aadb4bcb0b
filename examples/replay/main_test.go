package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the .golden files in testdata")

// ids matches the random contact ids (UUIDs) in the output, replaced before comparing.
var ids = regexp.MustCompile(`"id": "[0-9a-f-]{36}"`)

func replay(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, ids.ReplaceAllString(out.String(), `"id": "<uuid>"`), errOut.String()
}

// TestReplay_Golden runs the program over each testdata input and compares its output
// with the input's .golden file (-update rewrites them).
func TestReplay_Golden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"seed", []string{"-now", "2020-08-26T00:00:00Z", "testdata/seed.json"}},
		{"mixed", []string{"-now", "2024-03-02T00:00:00Z", "-optin-event", "SMS Opt In:sms", "testdata/mixed.ndjson"}},
		{"seed+mixed", []string{"-now", "2024-03-02T00:00:00Z", "testdata/seed.json", "testdata/mixed.ndjson"}},
		{"stats-only", []string{"-now", "2024-03-02T00:00:00Z", "-stats-only", "testdata/mixed.ndjson"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := replay(t, "", tt.args...)
			require.Equal(t, 0, code, errOut)
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(out), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			assert.Equal(t, string(want), out)
		})
	}
}

// TestReplay_Workers runs each golden case with one and with four workers: the output
// is the golden one either way (messages sharing an identifier keep input order, and
// Rule S3 makes the rest order-independent).
func TestReplay_Workers(t *testing.T) {
	cases := map[string][]string{
		"seed":       {"-now", "2020-08-26T00:00:00Z", "testdata/seed.json"},
		"mixed":      {"-now", "2024-03-02T00:00:00Z", "-optin-event", "SMS Opt In:sms", "testdata/mixed.ndjson"},
		"seed+mixed": {"-now", "2024-03-02T00:00:00Z", "testdata/seed.json", "testdata/mixed.ndjson"},
	}
	for name, args := range cases {
		want, err := os.ReadFile(filepath.Join("testdata", name+".golden"))
		require.NoError(t, err)
		for _, w := range []string{"1", "4"} {
			t.Run(name+"/workers="+w, func(t *testing.T) {
				for range 20 { // the schedule varies from run to run
					code, out, errOut := replay(t, "", append([]string{"-workers", w}, args...)...)
					require.Equal(t, 0, code, errOut)
					require.Equal(t, string(want), out)
				}
			})
		}
	}
	code, _, errOut := replay(t, "", "-workers", "0")
	assert.Equal(t, 2, code, "-workers 0 is a usage error")
	assert.Contains(t, errOut, "-workers")
}

func TestReplay_MixedInput(t *testing.T) {
	code, out, _ := replay(t, "", "-now", "2024-03-02T00:00:00Z", "-optin-event", "SMS Opt In:sms", "testdata/mixed.ndjson")
	require.Equal(t, 0, code)
	var doc struct {
		Contacts []struct {
			UserID        string            `json:"userId"`
			Phone         string            `json:"phone"`
			Subscriptions map[string]string `json:"subscriptions"`
			Custom        map[string]any    `json:"custom"`
			Events        []struct {
				MessageID string `json:"messageId"`
			} `json:"events"`
		} `json:"contacts"`
		Diagnostics []struct {
			Code, Field, MessageID string
		} `json:"diagnostics"`
		Stats Stats `json:"stats"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	assert.Equal(t, Stats{Messages: 10, Applied: 7, Duplicates: 1, Failed: 2}, doc.Stats)
	var codes []string
	for _, d := range doc.Diagnostics {
		codes = append(codes, d.Code)
	}
	assert.Equal(t, []string{"phone.invalid", "message.invalid", "phone.invalid", "trait.invalid", "message.no_event",
		"optin.unknown_channel", "optin.no_ip"}, codes,
		"diagnostics in input order")
	require.Len(t, doc.Contacts, 3)
	ann := doc.Contacts[0]
	assert.Equal(t, "u-42", ann.UserID)
	assert.Equal(t, "+19545552399", ann.Phone)
	assert.Equal(t, "subscribed", ann.Subscriptions["sms"])
	assert.Equal(t, "trial", ann.Custom["plan"], "the anonymous visitor's traits joined the user (Rule I3)")
	assert.Len(t, ann.Events, 2, "the anonymous page view moved over; the duplicate track counted once")
	assert.Equal(t, "u-7", doc.Contacts[1].UserID)
	assert.Equal(t, "u-99", doc.Contacts[2].UserID)
}

func TestReplay_Stdin(t *testing.T) {
	seed, err := os.ReadFile("testdata/seed.json")
	require.NoError(t, err)
	code, out, _ := replay(t, string(seed), "-stats-only")
	require.Equal(t, 0, code)
	assert.JSONEq(t, `{"stats":{"messages":1,"applied":1,"duplicates":0,"failed":0}}`, out)
}

func TestReplay_ExitCodes(t *testing.T) {
	code, _, errOut := replay(t, "", "-h")
	assert.Equal(t, 0, code, "-h asks for the usage")
	assert.Contains(t, errOut, "-workers")
	code, _, errOut = replay(t, "", "-region")
	assert.Equal(t, 2, code, "a flag without its value is a usage error")
	assert.NotEmpty(t, errOut)
	code, _, _ = replay(t, "", "-optin-event", "Opt In:fax")
	assert.Equal(t, 2, code)
	code, _, _ = replay(t, "", "-region", "XX")
	assert.Equal(t, 2, code)
	code, _, _ = replay(t, "", "-now", "yesterday")
	assert.Equal(t, 2, code)
	code, _, errOut = replay(t, "", "testdata/no-such-file.json")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no-such-file.json")
	code, out, _ := replay(t, "{not json", "-stats-only")
	assert.Equal(t, 0, code, "input that was read exits 0 whatever the diagnostics")
	assert.JSONEq(t, `{"stats":{"messages":1,"applied":0,"duplicates":0,"failed":1}}`, out)
}

// TestReplay_emptyListsAreArrays: with no diagnostics, and with no contacts, the
// output's lists are [] as documented, never null (issue 12).
func TestReplay_emptyListsAreArrays(t *testing.T) {
	code, out, errOut := replay(t, "", "-now", "2020-08-26T00:00:00Z", "testdata/seed.json")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"diagnostics": []`)
	code, out, errOut = replay(t, "")
	require.Equal(t, 0, code, errOut)
	assert.JSONEq(t, `{"contacts":[],"diagnostics":[],"stats":{"messages":0,"applied":0,"duplicates":0,"failed":0}}`, out)
	assert.NotContains(t, out, "null")
}

// TestReplay_contextTraits: -context-traits applies the context.traits of events;
// without it they are only recorded (issue 12).
func TestReplay_contextTraits(t *testing.T) {
	in := `{"type":"track","userId":"u1","event":"E","messageId":"t1","timestamp":"2024-03-01T12:00:00Z","context":{"traits":{"email":"ann@example.com"}}}`
	for _, tc := range []struct {
		args  []string
		email string
	}{{nil, ""}, {[]string{"-context-traits"}, "ann@example.com"}} {
		code, out, errOut := replay(t, in, tc.args...)
		require.Equal(t, 0, code, errOut)
		var doc struct {
			Contacts []struct {
				Email  string `json:"email"`
				Events []struct {
					Context struct {
						Traits map[string]string `json:"traits"`
					} `json:"context"`
				} `json:"events"`
			} `json:"contacts"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &doc))
		require.Len(t, doc.Contacts, 1)
		assert.Equal(t, tc.email, doc.Contacts[0].Email, tc.args)
		require.Len(t, doc.Contacts[0].Events, 1)
		assert.Equal(t, "ann@example.com", doc.Contacts[0].Events[0].Context.Traits["email"], "recorded either way")
	}
}

// TestReplay_MemProfile: -memprofile writes a profile pprof can read (the gzipped
// protobuf it starts with) without changing the output; a profile that cannot be
// written is a usage error before the replay, not a silent gap after it. (-cpuprofile is left out: it would fail under
// go test -cpuprofile, which holds the one CPU profiler a process has.)
func TestReplay_MemProfile(t *testing.T) {
	dir := t.TempDir()
	heap := filepath.Join(dir, "heap.prof")
	code, out, errOut := replay(t, "", "-now", "2024-03-02T00:00:00Z", "-stats-only", "-memprofile", heap, "testdata/mixed.ndjson")
	require.Equal(t, 0, code, errOut)
	want, err := os.ReadFile(filepath.Join("testdata", "stats-only.golden"))
	require.NoError(t, err)
	assert.Equal(t, string(want), out)
	b, err := os.ReadFile(heap)
	require.NoError(t, err)
	require.Greater(t, len(b), 2)
	assert.Equal(t, []byte{0x1f, 0x8b}, b[:2], "not a gzipped profile")

	// A path that cannot be written is a usage error, found before the replay runs.
	code, out, errOut = replay(t, "", "-stats-only", "-memprofile", filepath.Join(dir, "no", "such", "dir", "heap.prof"), "testdata/mixed.ndjson")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "-memprofile")
	assert.Empty(t, out, "nothing was replayed")
}
