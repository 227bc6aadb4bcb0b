package contactcore_test

import (
	"fmt"
	"time"

	"github.com/regalkit/regalkit/event"
	contact "github.com/regalkit/regalkit/internal/contactcore"
)

func traits(members ...string) event.Object {
	var o event.Object
	for i := 0; i+1 < len(members); i += 2 {
		o = append(o, event.Member{Key: members[i], Value: []byte(members[i+1])})
	}
	return o
}

func ExampleContact_ApplyTraits() {
	c := contact.New("c-1")
	c.SetUserID("92980cfccc067")

	t0 := time.Date(2020, 8, 25, 21, 23, 43, 0, time.UTC)
	newer := &event.Message{
		Kind: event.Identify, MessageID: "m2", UserID: "92980cfccc067", Time: t0.Add(time.Hour),
		Traits: traits("first_name", `"Rebecca"`, "phone", `"+1 555 555 5555"`, "salaryBracket", `"$100k-$500k"`),
	}
	older := &event.Message{
		Kind: event.Identify, MessageID: "m1", UserID: "92980cfccc067", Time: t0,
		Traits: traits("firstName", `"Becky"`, "phone", `19545552399`),
	}
	// The newer message arrives first; the older one cannot overwrite its first name.
	for _, m := range []*event.Message{newer, older} {
		ch := c.ApplyTraits(m, nil)
		fmt.Println(m.MessageID, "changed", ch.Fields)
		for _, d := range ch.Diagnostics {
			fmt.Println(m.MessageID, "refused", d.Field, d.Code)
		}
	}
	salary, _ := c.Custom("salaryBracket")
	fmt.Println(c.FirstName(), c.Phone(), salary, c.InAudience())
	// Output:
	// m2 changed [firstName custom.salaryBracket]
	// m2 refused traits.phone phone.invalid
	// m1 changed [phones]
	// Rebecca +19545552399 "$100k-$500k" true
}
