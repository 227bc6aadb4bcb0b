package event

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/internal/timestamp"
	"github.com/stretchr/testify/assert"
)

func raw(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

// TestEventTime_RuleD5 walks the sources in order, with Segment's own clock-skew
// example: receivedAt …01.266, sentAt …01.169, originalTimestamp …01.152 gives …01.249.
func TestEventTime_RuleD5(t *testing.T) {
	const (
		recv = `"2015-12-12T19:11:01.266Z"`
		sent = `"2015-12-12T19:11:01.169Z"`
		orig = `"2015-12-12T19:11:01.152Z"`
	)
	tests := []struct {
		name                 string
		ts, orig, sent, recv string
		want                 string // RFC3339Nano or "" for zero
		diagFields           []string
	}{
		{"timestamp wins", `"2020-08-25T21:23:43.000Z"`, orig, sent, recv, "2020-08-25T21:23:43Z", nil},
		{"clock skew", "", orig, sent, recv, "2015-12-12T19:11:01.249Z", nil},
		{"originalTimestamp without sentAt", "", orig, "", recv, "2015-12-12T19:11:01.152Z", nil},
		{"originalTimestamp without receivedAt", "", orig, sent, "", "2015-12-12T19:11:01.152Z", nil},
		{"receivedAt only", "", "", sent, recv, "2015-12-12T19:11:01.266Z", nil},
		{"sentAt alone is no event time", "", "", sent, "", "", nil},
		{"nothing", "", "", "", "", "", nil},
		{"invalid timestamp falls to skew", `"yesterday"`, orig, sent, recv, "2015-12-12T19:11:01.249Z", []string{"timestamp"}},
		{"invalid sentAt falls to originalTimestamp", "", orig, `"soon"`, recv, "2015-12-12T19:11:01.152Z", []string{"sentAt"}},
		{"non-string timestamp", `true`, "", "", recv, "2015-12-12T19:11:01.266Z", []string{"timestamp"}},
		{"invalid unused field still reported", `"2020-08-25"`, `{}`, "", "", "2020-08-25T00:00:00Z", []string{"originalTimestamp"}},
		{"epoch millis number", `1598390623123`, "", "", "", "2020-08-25T21:23:43.123Z", nil},
		{"epoch seconds string", `"1598390623"`, "", "", "", "2020-08-25T21:23:43Z", nil},
		{"unpadded", `"2015-2-02T00:30:08.276Z"`, "", "", "", "2015-02-02T00:30:08.276Z", nil},
		{"escaped string", `"2020-08-25T21:23:43\u002B02:00"`, "", "", "", "2020-08-25T19:23:43Z", nil},
		{"all invalid", `""`, `"x"`, `"y"`, `"z"`, "", []string{"timestamp", "originalTimestamp", "sentAt", "receivedAt"}},
		// A skew of centuries would put the corrected time outside Rule D4's years (or
		// past what a Duration holds): originalTimestamp stands.
		{"skew past the years", "", `"2200-01-01T00:00:00Z"`, `"2000-01-01T00:00:00Z"`, `"2262-01-01T00:00:00Z"`, "2200-01-01T00:00:00Z", nil},
		{"skew past a Duration", "", `"1700-01-01T00:00:00Z"`, `"2200-01-01T00:00:00Z"`, `"2200-01-01T00:00:00Z"`, "1700-01-01T00:00:00Z", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, diags := Timestamps{Timestamp: raw(tt.ts), OriginalTimestamp: raw(tt.orig), SentAt: raw(tt.sent), ReceivedAt: raw(tt.recv)}.EventTime()
			if tt.want == "" {
				assert.True(t, got.IsZero(), got.String())
			} else {
				assert.Equal(t, tt.want, timestamp.Format(got))
				assert.Equal(t, time.UTC, got.Location())
			}
			var fields []string
			for _, d := range diags {
				assert.Equal(t, diag.TimestampInvalid, d.Code)
				assert.NotContains(t, d.Message, "yesterday", "diagnostics don't quote values")
				fields = append(fields, d.Field)
			}
			assert.Equal(t, tt.diagFields, fields)
		})
	}
}
