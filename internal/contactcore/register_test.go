package contactcore

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"pgregory.net/rapid"

	"github.com/regalkit/regalkit/internal/msgorder"
	"github.com/regalkit/regalkit/internal/timestamp"
)

// TestStampCompare_matchesMsgorder: within the years a stamp keeps exactly, stamps order
// as msgorder.Compare orders messages (Rule T4).
func TestStampCompare_matchesMsgorder(t *testing.T) {
	base := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	rapid.Check(t, func(t *rapid.T) {
		draw := func(name string) (time.Time, string) {
			at := base.Add(time.Duration(rapid.Int64Range(-3, 3).Draw(t, name+".s")) * time.Second).
				Add(time.Duration(rapid.IntRange(0, 2).Draw(t, name+".ns")))
			return at, rapid.SampledFrom([]string{"", "a", "b", "B", "ab"}).Draw(t, name+".id")
		}
		at, aID := draw("a")
		bt, bID := draw("b")
		want := msgorder.Compare(at, aID, bt, bID)
		if got := stampOf(at, aID).compare(stampOf(bt, bID)); got != want {
			t.Fatalf("stamp compare %d, msgorder %d", got, want)
		}
	})
}

// TestStampTime_exactToTheLimits_RuleD4: a stamp keeps every time Rule D4 accepts exactly, up
// to the last nanoseconds of timestamp.Min and Max, so that a contact read back from a
// store's document (which writes the stamp's time) finds what the message stamped.
// Times beyond the range saturate and still order.
func TestStampTime_exactToTheLimits_RuleD4(t *testing.T) {
	for _, at := range []time.Time{
		timestamp.Max, timestamp.Max.Add(-time.Nanosecond), timestamp.Max.Add(-854775807), timestamp.Max.Add(-1500 * time.Millisecond),
		timestamp.Min, timestamp.Min.Add(time.Nanosecond), timestamp.Min.Add(time.Second), timestamp.Min.Add(1500 * time.Millisecond),
		time.Unix(0, 0).UTC(), time.Unix(-1, 999_999_999).UTC(),
	} {
		assert.True(t, at.Equal(stampOf(at, "m").time()), "%s came back as %s", at, stampOf(at, "m").time())
	}
	assert.Equal(t, 1, stampOf(timestamp.Max.Add(time.Second), "m").compare(stampOf(timestamp.Max.Add(-time.Second), "m")))
	assert.Equal(t, -1, stampOf(timestamp.Min.Add(-time.Second), "m").compare(stampOf(timestamp.Min.Add(time.Second), "m")))
}
