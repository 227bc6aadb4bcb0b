package trigger

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/regalkit/regalkit/internal/jsonvalue"
	"github.com/regalkit/regalkit/optin"
)

// Trigger is a journey trigger (Rule J1): "contacts who did Entry, and then none of
// Exit within its window, are due Delay after the entry, while they meet Require".
// Regal's Segment guide gives the example: a "Loan Application Approved" event, but no
// "Loan Signed" within 48 hours, makes the contact due for a call 2 hours after the
// approval.
//
// A Trigger is a plain value: build it in Go, or decode it from its JSON form (see
// [Decode]). Check a Trigger built in Go with [Trigger.Validate].
type Trigger struct {
	// Name names the trigger; it must not be empty.
	Name string
	// Entry is the event that puts a contact in the trigger.
	Entry Entry
	// Exit lists the events that take a contact out: each cancels the entries it
	// follows within its window.
	Exit []Exit
	// Delay is how long after its entry event a contact is due. Zero: at once.
	Delay time.Duration
	// Require lists what the contact itself must be. The zero Require asks nothing.
	Require Require
}

// Entry is a trigger's entry event: a kind and name, conditions on its properties, and
// optionally a number of such events within a window.
type Entry struct {
	// Kind is the kind of the event: track, page or screen. Zero means track.
	Kind event.Kind
	// Event is the event's name (a track's event, a page's or screen's name).
	Event string
	// Where lists conditions on the event's properties, all of which must hold.
	Where []Condition
	// Count, when AtLeast is above 1, makes an event an entry only when it is at least
	// the AtLeast-th such event within Count.Within ("did A at least 3 times in 30
	// days").
	Count Count
}

// Count is the "at least n times within T" rule of an [Entry].
type Count struct {
	// AtLeast is the number of matching events needed; 0 and 1 mean one.
	AtLeast int
	// Within is the window, ending at the entry event, the events must fall in. Zero
	// means no bound.
	Within time.Duration
}

// Exit is an event that takes a contact out of a trigger: one that happens at or after
// an entry event and at most Within after it cancels that entry.
type Exit struct {
	// Kind is the kind of the event. Zero means track.
	Kind event.Kind
	// Event is the event's name.
	Event string
	// Within is the window after the entry. Zero means no bound: any later exit event
	// cancels.
	Within time.Duration
}

// Require lists what a contact must be to be in a trigger.
type Require struct {
	// InAudience asks that the contact be in the audience: have a valid phone (Rule A1).
	InAudience bool
	// Subscribed, when not empty, asks that the contact be subscribed on the channel
	// (Rule A2).
	Subscribed optin.Channel
	// Trait, when not nil, is a condition on one of the contact's traits: a custom
	// property by its key, or a standard trait (firstName, lastName, email, phone,
	// gender, age, address) by any key Rule T1 matches to it. The standard traits that
	// are no single value (phones, emails, optIn, and name, which fills firstName and
	// lastName) are refused: see InAudience and Subscribed.
	Trait *Condition
}

// Op is the operator of a [Condition].
type Op string

// The operators. Equality compares numbers by value and other JSON values exactly;
// the orderings compare two numbers by value or two strings bytewise, and are false for
// any other pair; Exists asks only that the value be there and not null.
const (
	OpEq     Op = "=="
	OpNe     Op = "!="
	OpGt     Op = ">"
	OpGe     Op = ">="
	OpLt     Op = "<"
	OpLe     Op = "<="
	OpExists Op = "exists"
)

var ops = []Op{OpEq, OpNe, OpGt, OpGe, OpLt, OpLe, OpExists}

// Condition is a test of one property (or trait) value: Property Op Value, such as
// amount >= 10000 or loanType == "Personal loan". A missing or null value meets only
// OpNe.
type Condition struct {
	Property string
	Op       Op
	// Value is a JSON value; unused for OpExists.
	Value json.RawMessage
}

// Errors of this package.
var (
	// ErrInvalid: a trigger is not well formed. Errors wrapping it are *FieldError.
	ErrInvalid = errors.New("trigger: invalid trigger")
)

// FieldError is an invalid trigger with the field at fault, named by its JSON path
// such as "exit[0].within" (Rule J1). It unwraps to ErrInvalid.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return "trigger: " + e.Reason
	}
	return fmt.Sprintf("trigger: field %s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// A trigger's text is written by its operator, but the values it quotes are masked as
// every error's are (RULES.md, X): a field name or a value may be a phone number or an
// email address.
func fieldError(field, format string, args ...any) error {
	return &FieldError{Field: diag.MaskKey(field), Reason: diag.Mask(fmt.Sprintf(format, args...))}
}

// Validate reports the first thing wrong with t, as a *FieldError: an empty name or
// entry event, a kind other than track, page or screen, an unknown operator, a
// condition value that is not JSON, a negative duration or count, an exit that is the
// entry event itself or another exit's event, or an unknown channel.
func (t *Trigger) Validate() error {
	if t == nil {
		return fieldError("", "nil trigger")
	}
	if t.Name == "" {
		return fieldError("name", "must not be empty")
	}
	if err := checkEvent("entry", t.Entry.Kind, t.Entry.Event); err != nil {
		return err
	}
	for i, c := range t.Entry.Where {
		if err := c.check(fmt.Sprintf("entry.where[%d]", i)); err != nil {
			return err
		}
	}
	if t.Entry.Count.AtLeast < 0 {
		return fieldError("entry.count.atLeast", "must not be negative")
	}
	if t.Entry.Count.Within < 0 {
		return fieldError("entry.count.within", "must not be negative")
	}
	for i, x := range t.Exit {
		field := fmt.Sprintf("exit[%d]", i)
		if err := checkEvent(field, x.Kind, x.Event); err != nil {
			return err
		}
		if x.Within < 0 {
			return fieldError(field+".within", "must not be negative")
		}
		if kindOr(x.Kind) == kindOr(t.Entry.Kind) && x.Event == t.Entry.Event {
			return fieldError(field+".event", "is the entry event: every entry would cancel itself")
		}
		for j, y := range t.Exit[:i] {
			if kindOr(y.Kind) == kindOr(x.Kind) && y.Event == x.Event {
				return fieldError(field+".event", "is exit[%d]'s event too: give one exit the longest window", j)
			}
		}
	}
	if t.Delay < 0 {
		return fieldError("delay", "must not be negative")
	}
	if ch := t.Require.Subscribed; ch != "" && !ch.Valid() {
		return fieldError("require.subscribed", "unknown channel %q (sms, voice or email)", string(ch))
	}
	if t.Require.Trait != nil {
		if err := t.Require.Trait.check("require.trait"); err != nil {
			return err
		}
		switch contactcore.NormalizeTraitKey(t.Require.Trait.Property) {
		case "phones", "emails", "optin", "name":
			// Standard traits (Rule T1) that are not one value of the contact: a
			// condition on them would never find one, and hold or fail for everyone.
			return fieldError("require.trait.property", "%q is no single trait: use require.inAudience or require.subscribed, or the phone, email, firstName or lastName trait",
				t.Require.Trait.Property)
		}
	}
	return nil
}

func checkEvent(field string, k event.Kind, name string) error {
	if name == "" {
		return fieldError(field+".event", "must not be empty")
	}
	if k != 0 && k != event.Track && k != event.Page && k != event.Screen {
		return fieldError(field+".kind", "must be track, page or screen")
	}
	return nil
}

func (c Condition) check(field string) error {
	if c.Property == "" {
		return fieldError(field+".property", "must not be empty")
	}
	if !slices.Contains(ops, c.Op) {
		return fieldError(field+".op", "unknown operator %q (==, !=, >, >=, <, <=, exists)", string(c.Op))
	}
	if c.Op == OpExists && len(c.Value) == 0 {
		return nil // exists needs no value; one given must still be JSON
	}
	var sc jsonvalue.Scanner
	if _, err := sc.Compact(nil, c.Value); err != nil || len(c.Value) == 0 {
		return fieldError(field+".value", "must be a JSON value")
	}
	switch p := sc.Problem(); {
	case errors.Is(p, jsonvalue.ErrDuplicateKey):
		return fieldError(field+".value", "repeats a key: which one counts would be a guess")
	case p != nil:
		return fieldError(field+".value", "holds a number of more than %d characters", jsonvalue.DefaultMaxNumberLength)
	}
	return nil
}

// kindOr returns k, or Track for the zero kind.
func kindOr(k event.Kind) event.Kind {
	if k == 0 {
		return event.Track
	}
	return k
}
