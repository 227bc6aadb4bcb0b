package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit"
)

var update = flag.Bool("update", false, "rewrite testdata/quickstart.golden")

// TestQuickstart checks the quickstart's whole output against a golden file, with a
// fixed clock and ids so that it is the same on every run.
func TestQuickstart(t *testing.T) {
	n := 0
	opts := &regalkit.Options{
		Now:   func() time.Time { return time.Date(2020, 8, 27, 9, 0, 0, 0, time.UTC) },
		NewID: func() string { n++; return fmt.Sprintf("contact-%d", n) },
	}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, opts))
	if *update {
		require.NoError(t, os.WriteFile("testdata/quickstart.golden", out.Bytes(), 0o644))
	}
	want, err := os.ReadFile("testdata/quickstart.golden")
	require.NoError(t, err)
	assert.Equal(t, string(want), out.String())

	// What the guide promises: the seed's user is in the audience, subscribed on both
	// channels, with both events.
	s := out.String()
	assert.Contains(t, s, "92980cfccc067 +19545552399 sms=subscribed voice=subscribed")
	assert.Contains(t, s, `"name": "Loan Application Approved"`)
	assert.Contains(t, s, `"kind": "page"`)
	assert.NotContains(t, s, "refused")
}
