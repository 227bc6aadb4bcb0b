package corpus

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWrite_Deterministic(t *testing.T) {
	var a, b, c bytes.Buffer
	require.NoError(t, Write(&a, Config{Messages: 2000, Seed: 7}))
	require.NoError(t, Write(&b, Config{Messages: 2000, Seed: 7}))
	require.NoError(t, Write(&c, Config{Messages: 2000, Seed: 8}))
	assert.Equal(t, a.Bytes(), b.Bytes(), "the same seed gives the same bytes")
	assert.NotEqual(t, a.Bytes(), c.Bytes(), "another seed gives another corpus")
	assert.Equal(t, Lines(Config{Messages: 2000, Seed: 7}), bytes.SplitAfter(a.Bytes(), []byte("\n"))[:2000])
}

func TestWrite_Mix(t *testing.T) {
	lines := Lines(Config{Messages: 20000, Seed: 1})
	kinds := map[string]int{}
	ids := map[string]int{}
	var optIns, anonOnly, numberPhones int
	for _, line := range lines {
		var m struct {
			Type       string         `json:"type"`
			MessageID  string         `json:"messageId"`
			UserID     string         `json:"userId"`
			Traits     map[string]any `json:"traits"`
			Properties map[string]any `json:"properties"`
		}
		require.NoError(t, json.Unmarshal(line, &m), "every line is one JSON object")
		require.True(t, strings.HasSuffix(string(line), "}\n"))
		kinds[m.Type]++
		ids[m.MessageID]++
		if m.UserID == "" {
			anonOnly++
		}
		if _, ok := m.Traits["optIn"]; ok {
			optIns++
		}
		if _, ok := m.Traits["phone"].(float64); ok {
			numberPhones++
		}
		if m.Type == "track" {
			assert.GreaterOrEqual(t, len(m.Properties), 5)
			assert.LessOrEqual(t, len(m.Properties), 15)
		}
	}
	redelivered := 0
	for _, n := range ids {
		redelivered += n - 1
	}
	n := float64(len(lines))
	assert.InDelta(t, 0.30, float64(kinds["identify"])/n, 0.02)
	assert.InDelta(t, 0.60, float64(kinds["track"])/n, 0.02)
	assert.InDelta(t, 0.10, float64(kinds["page"])/n, 0.02)
	assert.InDelta(t, 0.05, float64(redelivered)/n, 0.01)
	assert.InDelta(t, 0.5, float64(optIns)/float64(kinds["identify"]), 0.05, "half the identifies carry an optIn")
	assert.InDelta(t, 0.10, float64(anonOnly)/n, 0.02)
	assert.Positive(t, numberPhones, "some phones are JSON numbers")
}
