package contact_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/identity"
)

// A contact is what the Processor made of a user's messages; a user reads it. The newer
// identify arrives first, and the older one cannot overwrite its first name (Rule T4).
func ExampleContact() {
	ctx := context.Background()
	store := memstore.New()
	p := regalkit.New(store, &regalkit.Options{Region: "US"})
	_, err := p.ProcessBytes(ctx, []byte(`{"type":"identify","userId":"92980cfccc067","messageId":"m2",
		"timestamp":"2020-08-25T22:23:43Z","traits":{"first_name":"Rebecca","phone":"+1 954 555 2399","salaryBracket":"$100k-$500k"}}
{"type":"identify","userId":"92980cfccc067","messageId":"m1",
		"timestamp":"2020-08-25T21:23:43Z","traits":{"firstName":"Becky"}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	found, err := store.Find(ctx, identity.UserKey("92980cfccc067"))
	if err != nil || len(found) != 1 {
		fmt.Println(len(found), err)
		return
	}
	c := found[0]
	salary, _ := c.Custom("salaryBracket")
	fmt.Println(c.FirstName(), c.Phone(), salary, c.InAudience())

	// json.Marshal writes the people format (RULES.md, X): no merge clocks.
	doc, _ := json.Marshal(c)
	fmt.Println(strings.Contains(string(doc), `"firstName":"Rebecca"`), strings.Contains(string(doc), `"clocks"`))
	// Output:
	// Rebecca +19545552399 "$100k-$500k" true
	// true false
}

// A durable Store keeps a contact with EncodeStorage and reads it back with
// DecodeStorage: the document holds every field with the stamp that set it, so the
// contact read back is the one written, and keeps merging as it would have (Rule S3).
func ExampleEncodeStorage() {
	ctx := context.Background()
	store := memstore.New()
	p := regalkit.New(store, nil)
	_, err := p.ProcessBytes(ctx, []byte(`{"type":"identify","userId":"u-1","messageId":"m1",
		"timestamp":"2020-08-25T21:23:43Z","traits":{"firstName":"Rebecca","email":"rebecca@example.com"}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	found, _ := store.Find(ctx, identity.UserKey("u-1"))

	doc, err := contact.EncodeStorage(found[0])
	if err != nil {
		fmt.Println(err)
		return
	}
	back, err := contact.DecodeStorage(doc)
	if err != nil {
		fmt.Println(err)
		return
	}
	again, _ := contact.EncodeStorage(back)
	fmt.Println(back.UserID(), back.FirstName(), back.Email(), string(again) == string(doc))
	// Output:
	// u-1 Rebecca rebecca@example.com true
}
