package event_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/regalkit/regalkit/event"
)

// The clock-skew correction of Rule D5, on Segment's own example.
func ExampleTimestamps_EventTime() {
	ts := event.Timestamps{
		OriginalTimestamp: json.RawMessage(`"2015-12-12T19:11:01.152Z"`),
		SentAt:            json.RawMessage(`"2015-12-12T19:11:01.169Z"`),
		ReceivedAt:        json.RawMessage(`"2015-12-12T19:11:01.266Z"`),
		Timestamp:         json.RawMessage(`"not a time"`),
	}
	t, diags := ts.EventTime()
	fmt.Println(t.Format(time.RFC3339Nano))
	for _, d := range diags {
		fmt.Println(d)
	}
	// Output:
	// 2015-12-12T19:11:01.249Z
	// timestamp.invalid timestamp: cannot parse timestamp: want a date as YYYY-MM-DD
}

func ExampleMessage_Validate() {
	m := event.Message{Kind: event.Track, AnonymousID: "507f191e810c19729de860ea"}
	err := m.Validate()
	var ve *event.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Code, ve.Field)
	}
	fmt.Println(err)
	// Output:
	// message.no_event event
	// event: invalid track message: needs a non-empty event name (message.no_event)
}
