package answercap

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/diag"
)

type result struct {
	id    string
	diags []diag.Diagnostic
}

func of(r *result) (*[]diag.Diagnostic, string) { return &r.diags, r.id }

func diags(id string, n int) []diag.Diagnostic {
	out := make([]diag.Diagnostic, n)
	for i := range out {
		out[i] = diag.Diagnostic{MessageID: id, Code: diag.OptinInvalid}
	}
	return out
}

// TestCap_RuleD7: results keep their diagnostics while the answer's total stays within
// max; from the first that does not fit, each result with any gets one message.limit
// that counts its own, with its messageId, and one with none stays without.
func TestCap_RuleD7(t *testing.T) {
	results := []result{
		{id: "a", diags: diags("a", 3)},
		{id: "b", diags: diags("b", 2)}, // 5: exactly max
		{id: "c"},
		{id: "d", diags: diags("d", 1)},
		{id: "e", diags: diags("", 4)}, // the result's id, when the diagnostic has none
	}
	Cap(results, 5, "x: ", of)
	assert.Len(t, results[0].diags, 3)
	assert.Len(t, results[1].diags, 2)
	assert.Empty(t, results[2].diags)
	for _, r := range results[3:] {
		require.Len(t, r.diags, 1, r.id)
		assert.Equal(t, diag.MessageLimit, r.diags[0].Code, r.id)
		assert.Equal(t, r.id, r.diags[0].MessageID)
	}
	assert.Equal(t, "x: 1 diagnostics left out: an answer lists at most 5 in all (Rule D7)", results[3].diags[0].Message)
	assert.Contains(t, results[4].diags[0].Message, "x: 4 diagnostics left out")
}

// TestCap_RuleD7_partialFitLeavesNone: a result whose diagnostics do not all fit keeps
// none of them, and the later ones that would have fit are counted too, so that the
// answer's order stays the results' order.
func TestCap_RuleD7_partialFitLeavesNone(t *testing.T) {
	results := []result{{id: "a", diags: diags("a", 4)}, {id: "b", diags: diags("b", 3)}, {id: "c", diags: diags("c", 1)}}
	Cap(results, 6, "", of)
	assert.Len(t, results[0].diags, 4)
	for _, r := range results[1:] {
		require.Len(t, r.diags, 1)
		assert.Equal(t, diag.MessageLimit, r.diags[0].Code)
	}
}
