package segmentio_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/segmentio"
)

// One message: the seed's identify call, as a webhook delivers it.
func Example_single() {
	body := []byte(`{"type":"identify","messageId":"ajs-next-7d0a4e4b2ad0c5d5f3b1a6c9d8e7f601",
		"anonymousId":"507f191e810c19729de860ea","userId":"92980cfccc067",
		"timestamp":"2020-08-25T21:23:43.000Z","context":{"ip":"8.8.8.8"},
		"traits":{"firstName":"Rebecca","phone":"+19545552399","age":23}}`)
	var m event.Message
	if err := segmentio.Unmarshal(body, &m); err != nil {
		fmt.Println(err)
		return
	}
	age, _ := m.Traits.Get("age")
	fmt.Println(m.Kind, m.UserID, m.Time.Format(time.RFC3339), m.Context.IP, string(age))
	// Output:
	// identify 92980cfccc067 2020-08-25T21:23:43Z 8.8.8.8 23
}

// A JSON array, as Segment's Actions webhooks batch messages: each gets its own result,
// in order, and a bad one fails alone.
func Example_array() {
	body := []byte(`[
		{"type":"track","event":"Loan Application Approved","userId":"92980cfccc067","properties":{"amount":30000}},
		{"type":"track","userId":"92980cfccc067"},
		{"type":"page","name":"Offer","userId":123456789012345678}
	]`)
	results, err := segmentio.DecodeAll(body, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		var ie *segmentio.ItemError
		if errors.As(r.Err, &ie) {
			fmt.Println("refused:", ie.Code())
			continue
		}
		fmt.Println(r.Message.Kind, r.Message.UserID, r.Message.Event+r.Message.Name)
	}
	// Output:
	// track 92980cfccc067 Loan Application Approved
	// refused: message.no_event
	// page 123456789012345678 Offer
}

// A batch envelope from a server library: its context and integrations reach every
// message, the message's own keys winning.
func Example_batch() {
	body := []byte(`{"batch":[
		{"type":"identify","userId":"019mr8mf4r","timestamp":"2015-2-02T00:30:08.276Z"},
		{"type":"track","userId":"019mr8mf4r","event":"Song Played","context":{"ip":"10.0.0.7"}}
	],"context":{"ip":"1.2.3.4","library":{"name":"analytics-node","version":"1.0.0"}},
	"sentAt":"2015-2-02T00:30:13.001Z","writeKey":"key"}`)
	results, err := segmentio.DecodeAll(body, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		m := r.Message
		fmt.Println(m.Kind, m.Context.IP, m.Context.Library.Name, m.Time.Format(time.RFC3339Nano))
	}
	// Output:
	// identify 1.2.3.4 analytics-node 2015-02-02T00:30:08.276Z
	// track 10.0.0.7 analytics-node 0001-01-01T00:00:00Z
}

// NDJSON, one message a line, read from a stream: a line that is not JSON fails alone.
func Example_ndjson() {
	input := strings.NewReader(`{"type":"identify","userId":"u1","traits":{"email":"ann@example.com"}}
{"type":"track","userId":"u1","event":"Signed Up"}
this line is not JSON

{"type":"screen","userId":"u1","name":"Home"}
`)
	dec := segmentio.NewDecoder(input)
	for {
		var m event.Message
		err := dec.Decode(&m)
		if err == io.EOF {
			break
		}
		var ie *segmentio.ItemError
		if errors.As(err, &ie) {
			fmt.Println("line", ie.Line, "refused:", ie.Code())
			continue
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(m.Kind, m.UserID)
	}
	// Output:
	// identify u1
	// track u1
	// line 3 refused: message.invalid
	// screen u1
}

func ExampleVerifySignature() {
	body := []byte(`{"type":"track","event":"Signed Up","userId":"u1"}`)
	secret := []byte("my-webhook-secret")
	header := "c0db7099dde5d63795898c7e406b25056e14ec96" // the X-Signature header
	fmt.Println(segmentio.VerifySignature(body, header, secret))
	fmt.Println(segmentio.VerifySignature(append(body, ' '), header, secret))
	// Output:
	// <nil>
	// segmentio: signature mismatch
}

func ExampleMarshal() {
	var m event.Message
	_ = segmentio.Unmarshal([]byte(`{"type":"track","event":"E","userId":42,"context":{"app":{"build":"7"}},"projectId":"p1"}`), &m)
	b, err := segmentio.Marshal(&m)
	fmt.Println(string(b), err)
	// Output:
	// {"type":"track","userId":"42","event":"E","context":{"app":{"build":"7"}},"projectId":"p1"} <nil>
}
