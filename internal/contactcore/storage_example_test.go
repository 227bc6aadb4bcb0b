package contactcore_test

import (
	"fmt"
	"time"

	"github.com/regalkit/regalkit/event"
	contact "github.com/regalkit/regalkit/internal/contactcore"
)

// A durable Store keeps a contact with EncodeStorage and reads it back with
// DecodeStorage: the contact read back keeps merging as the original would, so an older
// message still cannot overwrite a newer one's first name (Rule S3).
func ExampleEncodeStorage() {
	t0 := time.Date(2020, 8, 25, 21, 23, 43, 0, time.UTC)
	c := contact.New("c-1")
	c.SetUserID("92980cfccc067")
	c.ApplyTraits(&event.Message{
		Kind: event.Identify, MessageID: "m2", UserID: "92980cfccc067", Time: t0.Add(time.Hour),
		Traits: traits("firstName", `"Rebecca"`),
	}, nil)

	doc, err := contact.EncodeStorage(c)
	if err != nil {
		fmt.Println(err)
		return
	}
	back, err := contact.DecodeStorage(doc)
	if err != nil {
		fmt.Println(err)
		return
	}
	back.ApplyTraits(&event.Message{
		Kind: event.Identify, MessageID: "m1", UserID: "92980cfccc067", Time: t0,
		Traits: traits("firstName", `"Becky"`),
	}, nil)
	fmt.Println(back.ID(), back.UserID(), back.FirstName())
	// Output:
	// c-1 92980cfccc067 Rebecca
}
