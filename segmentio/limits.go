package segmentio

import "github.com/regalkit/regalkit/internal/jsonvalue"

// Segment's limits (Rule D7), the defaults of [Limits].
const (
	// DefaultMaxMessageBytes is Segment's limit on one message: 32 KB.
	DefaultMaxMessageBytes = 32 << 10
	// DefaultMaxBatchBytes is Segment's limit on one batch request: 500 KB.
	DefaultMaxBatchBytes = 500 << 10
	// DefaultMaxBatchItems is the most messages one array or batch may hold.
	DefaultMaxBatchItems = 2500
	// DefaultMaxDepth is the deepest nesting of objects and arrays in one message.
	DefaultMaxDepth = jsonvalue.DefaultMaxDepth
	// DefaultMaxNumberLength is the longest number literal accepted, in bytes. Segment
	// has no such limit; regalkit keeps numbers digit for digit, and one of thousands of
	// digits only costs whoever parses it later.
	DefaultMaxNumberLength = jsonvalue.DefaultMaxNumberLength
)

// Limits bound what a decoder accepts (Rule D7). The zero value of each field means its
// default; a nil *Limits means all defaults.
type Limits struct {
	// MaxMessageBytes caps one message, measured on its compact JSON text as sent
	// (whitespace outside strings does not count; what a batch envelope adds to it is
	// held to MaxBatchBytes instead). Default DefaultMaxMessageBytes.
	MaxMessageBytes int
	// MaxBatchBytes caps one JSON document of any form (a message, an array or a batch
	// envelope; in NDJSON, one line) as read: a larger one is refused without being
	// read further. It also caps what a batch envelope's context, integrations and
	// sentAt add to its items, counted once per item (they are merged into each).
	// Default DefaultMaxBatchBytes.
	MaxBatchBytes int
	// MaxBatchItems caps the messages in one array or batch; a Handler applies it to
	// the whole request body, whatever its form: every message, every NDJSON line that
	// is not one, and every document that holds none counts (blank lines do not). Default
	// DefaultMaxBatchItems.
	MaxBatchItems int
	// MaxDepth caps the nesting of objects and arrays, counted from the message object
	// (level 1): a message inside an array or batch may nest as deep as a lone one, and
	// one nested deeper fails alone. A document nested deeper than 1,024 levels (or
	// MaxDepth, when more) is refused whole. Default DefaultMaxDepth.
	MaxDepth int
	// MaxNumberLength caps the length of a number literal, in bytes. Default
	// DefaultMaxNumberLength.
	MaxNumberLength int
}

// withDefaults returns l with every zero or negative field set to its default.
func (l *Limits) withDefaults() Limits {
	var out Limits
	if l != nil {
		out = *l
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&out.MaxMessageBytes, DefaultMaxMessageBytes)
	def(&out.MaxBatchBytes, DefaultMaxBatchBytes)
	def(&out.MaxBatchItems, DefaultMaxBatchItems)
	def(&out.MaxDepth, DefaultMaxDepth)
	def(&out.MaxNumberLength, DefaultMaxNumberLength)
	return out
}

// Limit names one of the limits, for a [*LimitError].
type Limit uint8

// The limits of [Limits], in its field order.
const (
	LimitMessageBytes Limit = iota + 1
	LimitBatchBytes
	LimitBatchItems
	LimitDepth
	LimitNumberLength
)

var limitNames = [...]string{"", "message size", "batch size", "batch items", "depth", "number length"}

// String returns the limit's name, such as "message size".
func (l Limit) String() string {
	if int(l) < len(limitNames) && l != 0 {
		return limitNames[l]
	}
	return "unknown limit"
}
