// Package reuse lets package regalkit decode messages into memory it recycles, through
// a function package segmentio provides, without adding to segmentio's API.
//
// Only a caller that owns the decoded messages and knows when the last use of one
// ends may recycle: [github.com/regalkit/regalkit.Processor.ProcessStream], whose
// messages never leave it. Stores copy what they keep of a message (contact.Store,
// "Copies"), so once the Processor has processed a message, nothing refers to its
// traits and properties any more.
package reuse

import "github.com/regalkit/regalkit/event"

// DecodeInto is (*segmentio.Decoder).Decode (dec is a *segmentio.Decoder) that takes
// the members of the message's traits and properties from the memory of *arena (from
// its start, whatever its length; replacing it with a larger slice when it has too
// little room), instead of allocating them. *arena is then the memory the message's
// objects share, free to be reused once the message is no longer used (cleared first,
// or it keeps the message's text alive).
// Set by package segmentio when it is initialized.
var DecodeInto func(dec any, m *event.Message, arena *[]event.Member) error
