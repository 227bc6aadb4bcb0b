package regalkit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	slogpkg "log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/callwindow"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/optin"
	"github.com/regalkit/regalkit/segmentio"
)

// A whole email address, and a run of 10 or more digits (a whole phone number): what
// no diagnostic, error or log line may hold (RULES.md, X).
var (
	wholeEmail = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
	longDigits = regexp.MustCompile(`[0-9]{10,}`)
)

// hostileCorpus echoes contact data where the SDK echoes input: a type, a trait key
// (cut to 32 bytes when too long), a channel, a phones or emails key, a timestamp, a
// path (issue 12).
var hostileCorpus = []string{
	`{"type":"bob.secret@example.com","userId":"u","messageId":"h1"}`,
	`{"type":"+19545552399","userId":"u","messageId":"h2"}`,
	`{"type":"19545552399","userId":"u","messageId":"h3"}`,
	`{"type":"identify","userId":"u","messageId":"h4","traits":{"bob.secret@example.com` + strings.Repeat("x", 260) + `":1}}`,
	`{"type":"identify","userId":"u","messageId":"h5","traits":{"+19545552399` + strings.Repeat("9", 260) + `":1}}`,
	`{"type":"identify","userId":"u","messageId":"h6","traits":{"phone":"+1 555 555 5555","email":"bob.secret@@example.com"}}`,
	`{"type":"identify","userId":"u","messageId":"h7","traits":{"phone":"19545552399","optIn":[{"channel":"bob.secret@example.com","subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":"8.8.8.8"},{"channel":"+19545552399","subscribed":"yes","timestamp":"bob.secret@example.com"}]}}`,
	`{"type":"identify","userId":"u","messageId":"h8","traits":{"phones":{"+11115555555":{"isPrimary":"bob.secret@example.com","smsOptIn":{"subscribed":true,"timestamp":"x"}},"+19545552399":{"label":7,"voiceOptIn":[]}},"emails":{"bob.secret@":{"isPrimary":true},"carol@example.com":{"emailOptIn":{"subscribed":"maybe"}}}}}`,
	`{"type":"track","userId":"u","messageId":"h9","event":"E","timestamp":"bob.secret@example.com","originalTimestamp":"+19545552399","sentAt":"19545552399000000","receivedAt":{"a":"bob.secret@example.com"}}`,
	`{"type":"identify","userId":"u","messageId":"h10","traits":{"age":"19545552399","firstName":{"email":"bob.secret@example.com"},"address":["19545552399"],"gender":19545552399}}`,
	`{"type":"identify","userId":"u","messageId":"h11","context":{"traits":{"+19545552399":"x","email":"dave@example.com","phone":"not a phone 19545552399"}},"traits":{}}`,
	`{"type":"alias","userId":"bob.secret@example.com","previousId":"+19545552399","messageId":"h12"}`,
	`{"type":"track","userId":"u","messageId":"h13","event":"SMS Opt In","context":{"ip":"bob.secret@example.com"}}`,
	`{"type":"identify","userId":"u","messageId":"` + strings.Repeat("19545552399", 10) + `"}`,
	`{"type":"identify","userId":"u","messageId":"h15","traits":{"phone":"+19545552399"},"traits":{"phone":"bob.secret@example.com"}}`,
	`{"type":"identify","userId":"u","messageId":"h16","traits":{"phone":"+19545552399"` + strings.Repeat(" ", 40000) + `}}`,
	`[{"type":"bob.secret@example.com"},{"type":"identify"},"+19545552399",{"type":"group","userId":"u","groupId":"+19545552399","traits":[]}]`,
	"{\"type\":\"identify\",\"userId\":\"u\",\"traits\":{\"email\":\"bob.secret@example.com\xff\"}}\nbob.secret@example.com +19545552399\n",
}

// privacyCorpus is the hostile corpus, the fuzz seeds and corpora, and every payload in
// the repository's testdata.
func privacyCorpus(t *testing.T) [][]byte {
	var out [][]byte
	for _, s := range hostileCorpus {
		out = append(out, []byte(s))
	}
	for _, s := range processBytesSeeds {
		out = append(out, []byte(s))
	}
	for _, pattern := range []string{"segmentio/testdata/*.json", "segmentio/testdata/*.ndjson", "examples/*/testdata/*.json", "examples/*/testdata/*.ndjson"} {
		files, err := filepath.Glob(pattern)
		require.NoError(t, err)
		for _, f := range files {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			out = append(out, b)
		}
	}
	// The fuzz corpora: each file's []byte or string values.
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(filepath.ToSlash(path), "/testdata/fuzz/") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(b), "\n") {
			for _, prefix := range []string{"[]byte(", "string("} {
				if v, ok := strings.CutPrefix(line, prefix); ok {
					if s, err := strconv.Unquote(strings.TrimSuffix(v, ")")); err == nil {
						out = append(out, []byte(s))
					}
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, len(out), len(hostileCorpus)+len(processBytesSeeds), "the testdata was found")
	return out
}

// syncBuffer is a log sink written by server goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(s.b.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// leaks returns what in s is a whole email or phone.
func leaks(s string) []string {
	return append(wholeEmail.FindAllString(s, -1), longDigits.FindAllString(s, -1)...)
}

// scrubIDs drops the identifier attributes of a JSON log line, which are the sender's
// own ids (a messageId, a contact id), and returns the rest as text.
func scrubIDs(t *testing.T, line string) string {
	var attrs map[string]any
	require.NoError(t, json.Unmarshal([]byte(line), &attrs), line)
	delete(attrs, "messageId")
	delete(attrs, "contactId")
	delete(attrs, "time")
	b, err := json.Marshal(attrs)
	require.NoError(t, err)
	return string(b)
}

func checkDiagnostics(t *testing.T, where string, diags []diag.Diagnostic) {
	t.Helper()
	for _, d := range diags {
		assert.Empty(t, leaks(d.Field), "%s: field of %v", where, d)
		assert.Empty(t, leaks(d.Message), "%s: message of %v", where, d)
	}
}

// TestPrivacy_SpecX: no diagnostic, error or log line that the hostile-input corpus,
// the fuzz corpora and the testdata payloads produce holds a whole email address or a
// run of 10 or more digits, through the Processor and through the HTTP handler
// (RULES.md, X; issue 12).
func TestPrivacy_SpecX(t *testing.T) {
	corpus := privacyCorpus(t)
	var logs syncBuffer
	logger := jsonLogger(&logs)
	n := 0
	p := regalkit.New(memstore.New(), &regalkit.Options{
		Logger:       logger,
		NewID:        func() string { n++; return "c" + strconv.Itoa(n) },
		Now:          func() time.Time { return time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC) },
		OptInEvents:  map[string][]optin.Channel{"SMS Opt In": nil},
		MatchByPhone: true,
	})
	ctx := context.Background()
	diagnostics := 0
	for i, data := range corpus {
		results, err := p.ProcessBytes(ctx, data)
		require.NoError(t, err)
		for _, r := range results {
			diagnostics += len(r.Diagnostics)
			checkDiagnostics(t, "ProcessBytes #"+strconv.Itoa(i), r.Diagnostics)
		}
	}

	srv := httptest.NewServer(segmentio.NewHandler(p.Sink(), &segmentio.HandlerOptions{Logger: logger, MaxBodyBytes: 64 << 10}))
	defer srv.Close()
	paths := []string{"/", "/v1/batch", "/v1/track", "/hooks/bob.secret@example.com", "/v1/+19545552399"}
	for i, data := range corpus {
		resp, err := http.Post(srv.URL+paths[i%len(paths)], "application/json", bytes.NewReader(data))
		require.NoError(t, err)
		var body segmentio.HandlerResponse
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		resp.Body.Close()
		assert.Empty(t, leaks(body.Error), "handler #%d error", i)
		for _, r := range body.Results {
			diagnostics += len(r.Diagnostics)
			checkDiagnostics(t, "Handler #"+strconv.Itoa(i), r.Diagnostics)
		}
	}
	lines := logs.lines()
	for _, line := range lines {
		assert.Empty(t, leaks(scrubIDs(t, line)), "log line %s", line)
	}
	assert.Greater(t, diagnostics, 2*len(hostileCorpus), "the corpus gives diagnostics to check")
	assert.Greater(t, len(lines), len(corpus), "the logs have lines to check")
}

func jsonLogger(w *syncBuffer) *slogpkg.Logger {
	return slogpkg.New(slogpkg.NewJSONHandler(w, &slogpkg.HandlerOptions{Level: slogpkg.LevelDebug}))
}

// TestConfigErrors_RuleX_maskQuotedValues: errors about a program's own configuration quote
// its values masked too (RULES.md, X), as a privacy review asked: a region, a call
// window's prefix or a trigger's field may hold a whole number.
func TestConfigErrors_RuleX_maskQuotedValues(t *testing.T) {
	o := regalkit.Options{Region: "+19545552399"}
	err := o.Validate()
	require.Error(t, err)
	_, perr := identity.ParsePhone("954 555", "bob.secret@example.com")
	require.Error(t, perr)
	werr := &callwindow.WindowError{Prefix: "+19545552399", Reason: "start after end"}
	for _, e := range []error{err, perr, werr} {
		assert.NotContains(t, e.Error(), "5552399")
		assert.NotContains(t, e.Error(), "bob.secret")
	}
}
