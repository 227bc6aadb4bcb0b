package contactcore

import (
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/regalkit/regalkit/internal/msgorder"
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
