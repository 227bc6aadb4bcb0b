package segmentio

import (
	"errors"
	"io"
	"sync"

	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/reuse"
)

// Decoder reads Segment messages from an input stream, one message per call to Decode,
// whatever the form they come in (Rule D1): a single message, a JSON array of messages,
// a batch envelope, several of these one after the other, or NDJSON.
//
// A Decoder is not safe for concurrent use.
type Decoder struct {
	in  input
	st  *decodeState
	err error // sticky: the input cannot be read further
}

// NewDecoder returns a decoder that reads from r with the default limits. It reads at
// most one document ahead, and never more than the batch size limit at once.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{in: input{r: r}, st: newDecodeState(nil)}
}

// SetLimits sets the limits of Rule D7; zero fields keep their defaults. Call it before
// the first Decode.
func (d *Decoder) SetLimits(l Limits) { d.st.limits = l.withDefaults() }

// Decode reads the next message into m, which it resets first.
//
// It returns io.EOF when the input is exhausted. An error that is an [*ItemError]
// concerns that message alone: the next call goes on with the next one (m then holds
// what could be decoded, for inspection; for a message refused by Rule D6, all of it).
// Any other error means the input cannot be read further, and every later call returns
// it too: a [*SyntaxError] in a JSON document (an NDJSON line that is not JSON is an
// ItemError instead), a [*LimitError] for a document over the batch size or a batch of
// too many messages, a [*FieldError] for a malformed batch envelope, or the reader's
// error.
func (d *Decoder) Decode(m *event.Message) error {
	*m = event.Message{}
	for {
		if d.err != nil {
			return d.err
		}
		if d.st.pending() {
			return d.st.item(m)
		}
		doc, off, line, err := d.in.next(&d.st.limits)
		if err != nil {
			var long errLineTooLong
			if errors.As(err, &long) {
				return &ItemError{Index: -1, Line: line, Offset: off, Err: long.err}
			}
			d.err = err
			continue
		}
		if err := d.st.load(doc, off, line); err != nil {
			if d.in.mode == modeLines {
				return &ItemError{Index: -1, Line: line, Offset: off, Err: err}
			}
			d.err = err
		} else if !d.st.pending() {
			d.st.emptyDocs++
		}
	}
}

func init() {
	reuse.DecodeInto = func(dec any, m *event.Message, arena *[]event.Member) error {
		return dec.(*Decoder).decodeInto(m, arena)
	}
}

// decodeInto is Decode with the members of traits and properties taken from arena
// (see reuse.DecodeInto).
func (d *Decoder) decodeInto(m *event.Message, arena *[]event.Member) error {
	*arena = (*arena)[:0]
	d.st.arena = arena
	defer func() { d.st.arena = nil }()
	return d.Decode(m)
}

// Result is the outcome of decoding one message.
type Result struct {
	Message event.Message
	// Err is nil, or an [*ItemError]: this message alone failed.
	Err error
}

var states = sync.Pool{New: func() any { return newDecodeState(nil) }}

func getState(l *Limits) *decodeState {
	s := states.Get().(*decodeState)
	s.limits = l.withDefaults()
	return s
}

func putState(s *decodeState) {
	if cap(s.scratch) > 1<<20 { // a large batch: don't keep its buffer
		s.scratch = nil
	}
	s.doc = nil // it may be the caller's input
	if cap(s.items) > 4096 {
		s.items = nil
	}
	// Drop what is left of the last document: Unmarshal may leave items unread.
	s.items, s.next, s.problems, s.env, s.kind, s.emptyDocs = s.items[:0], 0, nil, envelope{}, 0, 0
	states.Put(s)
}

// DecodeAll decodes every message in data, in any form of Rule D1, with the given
// limits (nil means the defaults). It returns one Result per message, in input order;
// the error, when not nil, is one that stopped the reading (see [Decoder.Decode]), and
// the results hold the messages read before it.
func DecodeAll(data []byte, limits *Limits) ([]Result, error) {
	st := getState(limits)
	defer putState(st)
	d := Decoder{in: input{buf: data, eof: true}, st: st}
	return d.decodeAll()
}

// decodeAll decodes every message left in d, as DecodeAll describes.
func (d *Decoder) decodeAll() ([]Result, error) {
	var results []Result
	for {
		var r Result
		err := d.Decode(&r.Message)
		if err == io.EOF {
			return results, nil
		}
		var ie *ItemError
		if err != nil && !errors.As(err, &ie) {
			return results, err
		}
		r.Err = err
		results = append(results, r)
	}
}

// ErrNilMessage is what Unmarshal returns for a nil message to decode into.
var ErrNilMessage = errors.New("segmentio: Unmarshal into a nil *event.Message")

// Unmarshal decodes data holding exactly one message into m, with the default limits.
// The error, when not nil, is the reason the message was refused, as the Err of an
// [*ItemError] would be: a [*SyntaxError], [*LimitError], [*FieldError] (including
// data that is an array or a batch), [*DuplicateKeyError], [*UnsupportedTypeError] or
// *event.ValidationError; a nil m is [ErrNilMessage].
func Unmarshal(data []byte, m *event.Message) error {
	if m == nil {
		return ErrNilMessage
	}
	*m = event.Message{}
	st := getState(nil)
	defer putState(st)
	if len(data) > st.limits.MaxBatchBytes {
		return &LimitError{Limit: LimitBatchBytes, Max: st.limits.MaxBatchBytes, Offset: int64(st.limits.MaxBatchBytes)}
	}
	if err := st.load(data, 0, 1); err != nil {
		return err
	}
	switch st.form {
	case formArray:
		return &FieldError{Reason: "want one message, got an array"}
	case formBatch:
		return &FieldError{Reason: "want one message, got a batch"}
	}
	var ie *ItemError
	if err := st.item(m); errors.As(err, &ie) {
		return ie.Err
	}
	return nil
}
