package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/event"
)

// apply does the store's part of applying a track message: skip a messageId already
// processed (Rule E2), find the user's contact or create it, record the event. (The
// Processor finds a contact by its keys and fills it from messages; this example names
// the contact after the user.)
func apply(ctx context.Context, s contact.Store, userID string, r event.Record) (duplicate bool, err error) {
	err = s.Update(ctx, func(tx contact.Tx) error {
		done, err := tx.Processed(r.MessageID)
		if err != nil || done {
			duplicate = done
			return err
		}
		id := "c-" + userID
		if _, err := tx.Contact(id); errors.Is(err, contact.ErrNotFound) {
			if err := tx.Insert(contact.New(id)); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if _, err := tx.AddEvent(id, r); err != nil {
			return err
		}
		return tx.MarkProcessed(r.MessageID)
	})
	return duplicate, err
}

func Example() {
	ctx := context.Background()
	s := memstore.New()
	t0 := time.Date(2020, 8, 25, 21, 23, 43, 0, time.UTC)

	msgs := []event.Record{
		{Kind: event.Track, Name: "Loan Application Approved", Time: t0.Add(time.Hour), MessageID: "m-2"},
		{Kind: event.Page, Name: "Pricing", Time: t0, MessageID: "m-1"},
		{Kind: event.Track, Name: "Loan Application Approved", Time: t0.Add(time.Hour), MessageID: "m-2"}, // re-delivered
	}
	for _, r := range msgs {
		dup, err := apply(ctx, s, "92980cfccc067", r)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(r.MessageID, "duplicate:", dup)
	}

	// Events list in event-time order, whatever the arrival order (Rule E4).
	for r, err := range s.Events(ctx, "c-92980cfccc067", contact.EventQuery{}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(r.Time.Format(time.Kitchen), r.Kind, r.Name)
	}

	_, err := s.Contact(ctx, "c-unknown")
	fmt.Println(errors.Is(err, contact.ErrNotFound))
	// Output:
	// m-2 duplicate: false
	// m-1 duplicate: false
	// m-2 duplicate: true
	// 9:23PM page Pricing
	// 10:23PM track Loan Application Approved
	// true
}

func ExampleStore_Recent() {
	ctx := context.Background()
	s := memstore.New()
	t0 := time.Date(2020, 8, 25, 21, 23, 43, 0, time.UTC)
	_ = s.Update(ctx, func(tx contact.Tx) error {
		for i, name := range []string{"ana", "ben", "cai"} {
			if err := tx.Insert(contact.New(name)); err != nil {
				return err
			}
			for j := range 2 {
				r := event.Record{Kind: event.Track, Name: "Viewed", Time: t0.Add(time.Duration(3*j+i) * time.Minute), MessageID: fmt.Sprint(name, j)}
				if _, err := tx.AddEvent(name, r); err != nil {
					return err
				}
			}
		}
		return nil
	})
	// Regal's Recent Activity: the newest events of all contacts.
	for ce, err := range s.Recent(ctx, contact.EventQuery{Limit: 4}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(ce.ContactID, ce.Record.Time.Format(time.Kitchen))
	}
	// Output:
	// cai 9:28PM
	// ben 9:27PM
	// ana 9:26PM
	// cai 9:25PM
}
