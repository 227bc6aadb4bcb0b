package event

import (
	"encoding/json"
	"errors"
	"math"
	"time"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/internal/timestamp"
)

// Timestamps are a message's raw time fields, each the exact JSON value received (a
// string or a number of epoch seconds or milliseconds, Rule D4), nil when absent or
// null. [Timestamps.EventTime] turns them into the message's time (Rule D5).
type Timestamps struct {
	Timestamp         json.RawMessage // when the call says it happened
	OriginalTimestamp json.RawMessage // the device's clock when the call was made
	SentAt            json.RawMessage // the device's clock when the call was sent
	ReceivedAt        json.RawMessage // Segment's clock when it received the call
}

// IsZero reports whether none of the four timestamps is present.
func (ts Timestamps) IsZero() bool {
	return ts.Timestamp == nil && ts.OriginalTimestamp == nil && ts.SentAt == nil && ts.ReceivedAt == nil
}

// EventTime returns when the message happened (Rule D5), in UTC: timestamp; else
// receivedAt - (sentAt - originalTimestamp) when all three parse (Segment's clock-skew
// correction: the device's clock may be wrong, the gap between its own two readings is
// not); else originalTimestamp; else receivedAt. The zero time means none applies and
// the processor's clock is to be used.
//
// Every present timestamp that cannot be parsed gives a diagnostic
// (diag.TimestampInvalid, Rule D4), whether or not it was needed; the diagnostics have
// no MessageID, which the caller fills in.
func (ts Timestamps) EventTime() (time.Time, []diag.Diagnostic) {
	var diags []diag.Diagnostic
	parse := func(field string, raw json.RawMessage) (time.Time, bool) {
		if raw == nil {
			return time.Time{}, false
		}
		t, err := timestamp.ParseJSON(raw)
		if err != nil {
			diags = append(diags, diag.Diagnostic{
				Code:    diag.TimestampInvalid,
				Field:   field,
				Message: "cannot parse " + field + ": " + reasonOf(err),
			})
			return time.Time{}, false
		}
		return t, true
	}
	ts0, okT := parse("timestamp", ts.Timestamp)
	orig, okO := parse("originalTimestamp", ts.OriginalTimestamp)
	sent, okS := parse("sentAt", ts.SentAt)
	recv, okR := parse("receivedAt", ts.ReceivedAt)
	switch {
	case okT:
		return ts0, diags
	case okR && okS && okO && skewedInRange(recv, sent, orig):
		return recv.Add(-sent.Sub(orig)), diags
	case okO: // also when the corrected time would leave Rule D4's years
		return orig, diags
	case okR:
		return recv, diags
	}
	return time.Time{}, diags
}

// arrivalDecides reports which of the delivery's own timestamps, receivedAt and sentAt,
// take part in the event time EventTime works out (Rule D5): none when a timestamp or an
// originalTimestamp alone decides it, receivedAt when it is the time, both for Segment's
// clock-skew correction. DeriveMessageID hashes those that do.
func (ts Timestamps) arrivalDecides() (recv, sent bool) {
	parsed := func(raw json.RawMessage) (time.Time, bool) {
		if raw == nil {
			return time.Time{}, false
		}
		t, err := timestamp.ParseJSON(raw)
		return t, err == nil
	}
	if _, ok := parsed(ts.Timestamp); ok {
		return false, false
	}
	orig, okO := parsed(ts.OriginalTimestamp)
	sentAt, okS := parsed(ts.SentAt)
	recvAt, okR := parsed(ts.ReceivedAt)
	switch {
	case okR && okS && okO && skewedInRange(recvAt, sentAt, orig):
		return true, true
	case okO:
		return false, false
	}
	return okR, false
}

// skewedInRange reports whether receivedAt - (sentAt - originalTimestamp) is a time
// Rule D4 admits: the three are, but a clock skew of centuries would put it outside,
// and time.Duration saturates past 292 years, which would make the sum wrong.
func skewedInRange(recv, sent, orig time.Time) bool {
	skew := sent.Sub(orig)
	if skew == math.MaxInt64 || skew == math.MinInt64 {
		return false
	}
	return timestamp.InRange(recv.Add(-skew))
}

// reasonOf returns why a timestamp failed without quoting it.
func reasonOf(err error) string {
	var te *timestamp.Error
	if errors.As(err, &te) {
		return te.Reason
	}
	return "not a timestamp"
}
