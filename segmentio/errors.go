package segmentio

import (
	"errors"
	"strconv"
	"strings"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
)

// The error categories of decoding. Every error Decode, DecodeAll and Unmarshal return
// for their input matches one of them with errors.Is (a message refused by Rule D6
// matches event.ErrInvalid instead; Unmarshal into nil is ErrNilMessage). Encoding has
// ErrEncode, and signatures ErrNoSignature and ErrSignature.
var (
	// ErrSyntax: the input is not valid JSON.
	ErrSyntax = errors.New("segmentio: syntax error")
	// ErrLimit: the input breaks one of the [Limits].
	ErrLimit = errors.New("segmentio: limit exceeded")
	// ErrInvalidMessage: valid JSON that is not a Segment message: not an object, a
	// field of the wrong kind, a duplicate key, an object with both a type and a batch.
	// A message with no type is an [*UnsupportedTypeError] (Rule D2).
	ErrInvalidMessage = errors.New("segmentio: invalid message")
	// ErrUnsupportedType: a message type other than the seven (Rule D2).
	ErrUnsupportedType = errors.New("segmentio: unsupported message type")
)

// SyntaxError is input that is not valid JSON: a malformed token, invalid UTF-8, NaN or
// Infinity, truncated input. Its Reason quotes at most the offending character.
type SyntaxError struct {
	Offset int64  // byte offset of the error in the input
	Reason string // what is wrong
}

// Error describes the problem, quoting no more of the input than Reason does.
func (e *SyntaxError) Error() string {
	return "segmentio: syntax error at offset " + strconv.FormatInt(e.Offset, 10) + ": " + e.Reason
}

// Unwrap returns ErrSyntax.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// Code returns diag.MessageInvalid.
func (e *SyntaxError) Code() diag.Code { return diag.MessageInvalid }

// LimitError is input that breaks one of the [Limits] (Rule D7).
type LimitError struct {
	Limit  Limit // which limit
	Max    int   // its value
	Offset int64 // byte offset in the input where it was exceeded
}

// Error describes the problem without quoting the input.
func (e *LimitError) Error() string {
	var what string
	switch e.Limit {
	case LimitMessageBytes:
		what = "message over " + strconv.Itoa(e.Max) + " bytes"
	case LimitBatchBytes:
		what = "input over " + strconv.Itoa(e.Max) + " bytes"
	case LimitBatchItems:
		what = "batch of more than " + strconv.Itoa(e.Max) + " items"
	case LimitDepth:
		what = "JSON nested deeper than " + strconv.Itoa(e.Max) + " levels"
	case LimitNumberLength:
		what = "number longer than " + strconv.Itoa(e.Max) + " bytes"
	default:
		what = "limit " + strconv.Itoa(e.Max)
	}
	return "segmentio: " + e.Limit.String() + " limit: " + what + " at offset " + strconv.FormatInt(e.Offset, 10)
}

// Unwrap returns ErrLimit.
func (e *LimitError) Unwrap() error { return ErrLimit }

// Code returns diag.MessageLimit.
func (e *LimitError) Code() diag.Code { return diag.MessageLimit }

// FieldError is a message that is valid JSON but not a valid Segment message: Field
// names the field at fault ("type", "userId", "context", ...), or is empty when the
// message itself is not an object. It never quotes the field's value.
type FieldError struct {
	Field  string
	Reason string
}

// Error describes the problem without quoting the input.
func (e *FieldError) Error() string {
	if e.Field == "" {
		return "segmentio: invalid message: " + e.Reason
	}
	return "segmentio: invalid message: " + e.Field + ": " + e.Reason
}

// Unwrap returns ErrInvalidMessage.
func (e *FieldError) Unwrap() error { return ErrInvalidMessage }

// Code returns diag.MessageInvalid.
func (e *FieldError) Code() diag.Code { return diag.MessageInvalid }

// DuplicateKeyError is an object holding the same key twice (compared after
// unescaping): which of the two values was meant cannot be known. The key is not quoted:
// keys can be phone numbers.
type DuplicateKeyError struct {
	Offset int64 // byte offset of the second occurrence
}

// Error describes the problem without quoting the input.
func (e *DuplicateKeyError) Error() string {
	return "segmentio: invalid message: duplicate key at offset " + strconv.FormatInt(e.Offset, 10)
}

// Unwrap returns ErrInvalidMessage.
func (e *DuplicateKeyError) Unwrap() error { return ErrInvalidMessage }

// Code returns diag.MessageInvalid.
func (e *DuplicateKeyError) Code() diag.Code { return diag.MessageInvalid }

// UnsupportedTypeError is a message whose type is not one of the seven (Rule D2),
// or that has none (no `type` key, where the endpoint names no type either). A type
// that is not a string is a [*FieldError].
type UnsupportedTypeError struct {
	Type string // the type as sent, masked (see diag.Mask) and cut to 32 bytes; "" for none
}

// Error describes the problem without quoting the input.
func (e *UnsupportedTypeError) Error() string {
	if e.Type == "" {
		return "segmentio: message has no type; want one of identify, track, page, screen, group, alias, delete"
	}
	return "segmentio: unsupported message type " + strconv.Quote(e.Type)
}

// Unwrap returns ErrUnsupportedType.
func (e *UnsupportedTypeError) Unwrap() error { return ErrUnsupportedType }

// Code returns diag.MessageUnsupportedType.
func (e *UnsupportedTypeError) Code() diag.Code { return diag.MessageUnsupportedType }

// ItemError is the error for one message of the input: that message alone failed, and
// decoding goes on with the next (Rule D7). Err is the reason: a [*SyntaxError] (an
// NDJSON line that is not JSON), [*LimitError], [*FieldError], [*DuplicateKeyError],
// [*UnsupportedTypeError] or *event.ValidationError.
type ItemError struct {
	// Index is the message's position in its array or batch (0 for a lone message), or
	// -1 when the error concerns a whole NDJSON line that held no readable message.
	Index int
	// Line is the input line where the item's document starts, counting from 1.
	Line int
	// Offset is the byte offset in the input where the item starts.
	Offset int64
	// MessageID is the item's messageId when it could be read and is at most
	// event.MaxMessageIDLength characters (a longer one is not echoed, Rule D6).
	MessageID string
	Err       error
}

// Error says which item failed, where, and why.
func (e *ItemError) Error() string {
	s := "segmentio: item " + strconv.Itoa(e.Index) + " (line " + strconv.Itoa(e.Line) + ", offset " + strconv.FormatInt(e.Offset, 10) + ")"
	if e.Index < 0 {
		s = "segmentio: line " + strconv.Itoa(e.Line) + " (offset " + strconv.FormatInt(e.Offset, 10) + ")"
	}
	return s + ": " + strings.TrimPrefix(e.Err.Error(), "segmentio: ")
}

// Unwrap returns Err.
func (e *ItemError) Unwrap() error { return e.Err }

// Code returns the diagnostic code of the reason.
func (e *ItemError) Code() diag.Code { return CodeOf(e.Err) }

// Diagnostic returns the error as a diagnostic about the item.
func (e *ItemError) Diagnostic() diag.Diagnostic {
	d := diag.Diagnostic{MessageID: e.MessageID, Code: e.Code(), Message: e.Err.Error()}
	var fe *FieldError
	var ve *event.ValidationError
	switch {
	case errors.As(e.Err, &fe):
		d.Field = fe.Field
	case errors.As(e.Err, &ve):
		d.Field = ve.Field
	case errors.Is(e.Err, ErrUnsupportedType):
		d.Field = "type"
	}
	return d
}

// CodeOf returns the diagnostic code of an error from this package or of an
// *event.ValidationError, and diag.MessageInvalid for any other error.
func CodeOf(err error) diag.Code {
	var ve *event.ValidationError
	if errors.As(err, &ve) {
		return ve.Code
	}
	var c interface{ Code() diag.Code }
	if errors.As(err, &c) {
		return c.Code()
	}
	return diag.MessageInvalid
}
