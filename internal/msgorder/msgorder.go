// Package msgorder is the one order of messages in regalkit: by event time, then by
// messageId. It is the order in which the later write wins a field (Rule T4), events
// list (Rule E4), links are dated (Rule I4) and a delete covers what came before it
// (Rule I7). Every package that orders messages calls [Compare], so that they cannot
// disagree on a tie.
package msgorder

import (
	"strings"
	"time"
)

// Compare orders the message at time at with messageId aID against the one at bt with
// bID: by time, then messageId, comparing bytes. It returns -1, 0 or +1, as the cmp
// functions of package slices expect.
func Compare(at time.Time, aID string, bt time.Time, bID string) int {
	if c := at.Compare(bt); c != 0 {
		return c
	}
	return strings.Compare(aID, bID)
}
