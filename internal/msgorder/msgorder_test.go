package msgorder

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestCompare(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Nanosecond)
	tests := []struct {
		at   time.Time
		aID  string
		bt   time.Time
		bID  string
		want int
	}{
		{t0, "b", t1, "a", -1},                              // time first
		{t1, "a", t0, "b", 1},                               // time first
		{t0, "a", t0, "b", -1},                              // then messageId
		{t0, "b", t0, "a", 1},                               // then messageId
		{t0, "a", t0, "a", 0},                               // the same message
		{t0, "a", t0.In(time.FixedZone("x", 3600)), "a", 0}, // one instant in two zones
		{t0, "Z", t0, "a", -1},                              // bytes, not letters: 'Z' < 'a'
		{time.Time{}, "z", t0, "a", -1},                     // the zero time is the earliest
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Compare(tt.at, tt.aID, tt.bt, tt.bID), "%v %q vs %v %q", tt.at, tt.aID, tt.bt, tt.bID)
	}
}
