// Package answercap bounds the diagnostics of an HTTP handler's answer in all (RULES.md
// D7), for the Segment and the Regal handlers alike.
package answercap

import (
	"strconv"

	"github.com/regalkit/regalkit/diag"
)

// Cap keeps at most max diagnostics over all of results: a result whose diagnostics do
// not fit in what is left gets one instead, message.limit, that counts its own, so that
// nothing is left out without a word. of returns a result's diagnostics and messageId;
// prefix starts the limit's message ("segmentio: ").
func Cap[R any](results []R, max int, prefix string, of func(*R) (diags *[]diag.Diagnostic, messageID string)) {
	left := max
	for i := range results {
		diags, id := of(&results[i])
		n := len(*diags)
		if n <= left {
			left -= n
			continue
		}
		if (*diags)[0].MessageID != "" {
			id = (*diags)[0].MessageID
		}
		*diags = []diag.Diagnostic{{MessageID: id, Code: diag.MessageLimit, Message: prefix + strconv.Itoa(n) +
			" diagnostics left out: an answer lists at most " + strconv.Itoa(max) + " in all (Rule D7)"}}
		left = 0
	}
}
