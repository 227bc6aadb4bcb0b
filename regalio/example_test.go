package regalio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/regalio"
)

// Encode a contact with one phone and an event, then send it with a Client.
func Example() {
	at := time.Date(2020, 8, 25, 21, 23, 43, 0, time.UTC)
	body, diags := regalio.Encode(regalio.Contact{
		UserID:    "92980cfccc067",
		FirstName: "Rebecca",
		Phones: []regalio.Phone{{Number: "+19545552399", Label: "Mobile", Primary: true,
			SMS: &regalio.OptIn{Subscribed: true, Time: at, IP: "8.8.8.8", Source: "booking_flow"}}},
		Custom: event.Object{{Key: "salaryBracket", Value: json.RawMessage(`"$100k-$500k"`)}},
	}, &regalio.Event{Name: "Student Enrolled", Time: at, Source: "Backend"})
	fmt.Println(string(body))
	fmt.Println(len(diags), "diagnostics")

	regal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("Authorization:", r.Header.Get("Authorization"))
	}))
	defer regal.Close()
	c := regalio.NewClient("my-api-key", &regalio.ClientOptions{BaseURL: regal.URL})
	fmt.Println(c.Send(context.Background(), "m1", body))
	fmt.Println(c.Send(context.Background(), "m1", body), "(sent once)")
	// Output:
	// {"userId":"92980cfccc067","traits":{"firstName":"Rebecca","phones":{"+19545552399":{"label":"Mobile","isPrimary":true,"smsOptIn":{"subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":"8.8.8.8","source":"booking_flow"}}},"salaryBracket":"$100k-$500k"},"name":"Student Enrolled","originalTimestamp":"2020-08-25T21:23:43Z","eventSource":"Backend"}
	// 0 diagnostics
	// Authorization: my-api-key
	// <nil>
	// <nil> (sent once)
}

// Decode the event Regal's reporting webhook sends when a contact unsubscribes.
func ExampleDecodeEvent() {
	e, err := regalio.DecodeEvent([]byte(`{"userId":"92980cfccc067","traits":{"phone":"+19545552399"},
		"name":"contact.unsubscribed","eventId":"e-1","originalTimestamp":"1598477023",
		"properties":{"channel":"SMS","phone":"+19545552399","source":"RegalVoice.agent_desktop"},
		"eventSource":"Regal Voice"}`))
	if err != nil {
		panic(err)
	}
	m := e.Message()
	fmt.Println(m.Kind, m.Event, m.UserID, m.MessageID, m.Time.Format(time.RFC3339), regalio.IsRegal(&m))
	// Output:
	// track contact.unsubscribed 92980cfccc067 regal-e-1 2020-08-26T21:23:43Z true
}

// Serve Regal's webhook: the token Regal is configured with, in a header.
func ExampleHandler() {
	h, err := regalio.NewHandler(func(ctx context.Context, msgs []event.Message) ([]regalio.Result, error) {
		out := make([]regalio.Result, len(msgs))
		for i, m := range msgs {
			fmt.Println("sink:", m.Event)
			out[i] = regalio.Result{MessageID: m.MessageID}
		}
		return out, nil
	}, &regalio.HandlerOptions{Token: "s3cret", Header: "X-Regal-Token"})
	if err != nil {
		panic(err)
	}
	for range 2 {
		req := httptest.NewRequest("POST", "/regal", strings.NewReader(`{"name":"sms.sent","eventId":"e-2","userId":"u1"}`))
		req.Header.Set("X-Regal-Token", "s3cret")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	// Output:
	// sink: sms.sent
	// 200 {"results":[{"eventId":"e-2","messageId":"regal-e-2"}]}
	// 200 {"results":[{"eventId":"e-2","messageId":"regal-e-2","duplicate":true}]}
}
