package segmentio

import (
	"errors"
	"strconv"
	"unsafe"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/jsonvalue"
)

// The forms of a document (Rule D1).
const (
	formSingle = iota + 1 // one message (or a value that is not one, refused as an item)
	formArray             // a JSON array of messages
	formBatch             // a batch envelope {"batch": [...], ...}
)

// span is a range of the compact document.
type span struct{ start, end int }

// decodeState decodes one document at a time into messages. It keeps scratch space
// between documents; it is not safe for concurrent use.
type decodeState struct {
	limits  Limits
	scanner jsonvalue.Scanner // the document pass; its offset map serves the items
	checker jsonvalue.Scanner // per-item checks
	doc     []byte            // the current document, compact: the input itself when it was compact already, else scratch
	scratch []byte            // where a document with whitespace is compacted
	members event.Object      // scratch for objects being built
	extra   event.Object      // scratch for unknown top-level keys
	top     []jsonvalue.Span  // scratch for an item's top-level members

	form      int
	docOffset int64
	line      int
	items     []span
	next      int
	problems  []error // per item, when the document pass found a duplicate key or long number
	env       envelope
	// kind is the type of a message without one (the tracking API's typed endpoints);
	// zero means such a message is refused.
	kind event.Kind
	// emptyDocs counts the documents read that held no message (an empty array or
	// batch), which the Handler counts as items too (Rule D7).
	emptyDocs int
	// arena, when not nil, is where the item being decoded takes the members of its
	// traits and properties (objectOf): memory recycled by the caller of decodeInto.
	arena *[]event.Member
}

// envelope is what a batch envelope adds to each of its items (Rule D1).
type envelope struct {
	context, integrations, sentAt span // zero spans when absent
	// writeKey is the envelope's writeKey, for the Handler's authentication; it is not
	// merged into the items.
	writeKey span
	// others counts the envelope's keys that are none of its parts nor the batch
	// metadata Segment's libraries add (see envelopeMetadata), and firstOther is the
	// first of them, masked and cut (diag.MaskKey): each item's result says they were
	// not read (Rule D1).
	others     int
	firstOther string
}

// envelopeMetadata are the keys Segment's libraries add to a batch envelope about the
// batch itself, not its messages (analytics-go and the first Android library a
// messageId, analytics-node a timestamp, analytics-java a sequence number, the first
// Android library a requestTimestamp): not read, and not reported either.
func envelopeMetadata(key string) bool {
	switch key {
	case "messageId", "timestamp", "sequence", "requestTimestamp":
		return true
	}
	return false
}

// othersDiagnostic says, for each item of an envelope with keys that are not read,
// that they were not (Rule D1: nothing is dropped silently). One diagnostic an item,
// however many keys: an envelope of many keys must not make every answer as large.
func (e *envelope) othersDiagnostic() diag.Diagnostic {
	key := e.firstOther // masked and cut once, in load: a key may be 500 KB long
	msg := "the batch envelope's " + strconv.Quote(key) + " is not part of its messages and is not read: an envelope gives them only context, integrations and sentAt (Rule D1)"
	if e.others > 1 {
		msg += "; nor are its " + strconv.Itoa(e.others-1) + " other keys of that kind"
	}
	return diag.Diagnostic{Code: diag.MessageEnvelopeKey, Field: "envelope." + key, Message: msg}
}

func newDecodeState(l *Limits) *decodeState {
	return &decodeState{limits: l.withDefaults()}
}

func (s *decodeState) pending() bool { return s.next < len(s.items) }

// load reads a document and prepares its items. An error concerns the whole document:
// then no item of it is decoded (the items collected before the error are dropped, so
// that a refused batch is not decoded anyway, each item with the envelope's context
// that the refusal was about).
func (s *decodeState) load(raw []byte, off int64, line int) error {
	err := s.loadDocument(raw, off, line)
	if err != nil {
		s.items, s.next, s.problems, s.env = s.items[:0], 0, nil, envelope{}
	}
	return err
}

func (s *decodeState) loadDocument(raw []byte, off int64, line int) error {
	s.form, s.items, s.next, s.problems, s.env = 0, s.items[:0], 0, nil, envelope{}
	s.docOffset, s.line = off, line

	// Allow the levels above the messages: an array adds one, a batch envelope two.
	extra := 0
	if i := firstNonSpace(raw); i < len(raw) {
		switch raw[i] {
		case '[':
			extra = 1
		case '{':
			extra = 2
		}
	}
	// Deeper than that, up to hardMaxDepth, the scan goes on and the messages too deep
	// are refused one by one (attributeProblems): one such message must not sink the
	// others of its array or batch (Rule D7).
	s.scanner.MaxDepth = max(s.limits.MaxDepth+extra, hardMaxDepth)
	s.scanner.MaxNumberLength = s.limits.MaxNumberLength
	// A compact document (an NDJSON line, usually) is read where it is: the message
	// copies its own text out of it, so one copy of each message is made, not two. doc
	// is valid until the next document is read, and nothing writes to it.
	doc, shared, err := s.scanner.CompactShared(s.scratch[:0], raw)
	if !shared {
		s.scratch = doc
	}
	s.doc = doc
	if err != nil {
		return s.scanError(err, 0, false)
	}
	switch doc[0] {
	case '[':
		s.form = formArray
		for _, sp := range s.scanner.Root() {
			if len(s.items) == s.limits.MaxBatchItems {
				return &LimitError{Limit: LimitBatchItems, Max: s.limits.MaxBatchItems,
					Offset: s.docOffset + int64(s.scanner.InputOffset(sp.Start))}
			}
			s.items = append(s.items, span{sp.Start, sp.End})
		}
	case '{':
		batch, err := s.findEnvelope()
		if err != nil {
			return err
		}
		if batch < 0 {
			s.form = formSingle
			s.items = append(s.items, span{0, len(doc)})
			break
		}
		s.form = formBatch
		if err := s.collect(batch); err != nil {
			return err
		}
		// The envelope's objects are merged into every item: what they add, counted
		// once per item, is held to the document's limit too, so that a small request
		// cannot hold the envelope's context thousands of times over (Rule D7).
		env := &s.env
		added := (env.context.end - env.context.start) + (env.integrations.end - env.integrations.start) + (env.sentAt.end - env.sentAt.start)
		if added > 0 && added > s.limits.MaxBatchBytes/max(len(s.items), 1) {
			return &LimitError{Limit: LimitBatchBytes, Max: s.limits.MaxBatchBytes, Offset: s.docOffset}
		}
	default:
		s.form = formSingle
		s.items = append(s.items, span{0, len(doc)})
	}
	return s.attributeProblems()
}

// firstNonSpace returns the index of the first byte of b that is not JSON whitespace.
func firstNonSpace(b []byte) int {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// scanError turns a scanner error into this package's error. at is where the scanned
// text starts in the compact document when compact is true; otherwise the error's
// offset is already one in the input document.
func (s *decodeState) scanError(err error, at int, compact bool) error {
	var je *jsonvalue.Error
	if !errors.As(err, &je) {
		return &SyntaxError{Offset: s.docOffset, Reason: err.Error()}
	}
	off := je.Offset
	if compact {
		off = s.scanner.InputOffset(at + off)
	}
	in := s.docOffset + int64(off)
	switch {
	case errors.Is(je, jsonvalue.ErrDepth):
		return &LimitError{Limit: LimitDepth, Max: s.limits.MaxDepth, Offset: in}
	case errors.Is(je, jsonvalue.ErrNumberLength):
		return &LimitError{Limit: LimitNumberLength, Max: s.limits.MaxNumberLength, Offset: in}
	case errors.Is(je, jsonvalue.ErrDuplicateKey):
		return &DuplicateKeyError{Offset: in}
	}
	return &SyntaxError{Offset: in, Reason: je.Reason}
}

// collect records the elements of the array at doc[at] as the items.
func (s *decodeState) collect(at int) error {
	it := jsonvalue.NewIter(s.doc, at)
	for it.Next() {
		if len(s.items) == s.limits.MaxBatchItems {
			start, _ := it.Value()
			return &LimitError{Limit: LimitBatchItems, Max: s.limits.MaxBatchItems,
				Offset: s.docOffset + int64(s.scanner.InputOffset(start))}
		}
		start, end := it.Value()
		s.items = append(s.items, span{start, end})
	}
	return it.Err()
}

// findEnvelope looks at the top-level object: when it has a "batch" key it is a batch
// envelope, and findEnvelope returns the position of the batch array after noting the
// context, integrations and sentAt to merge into the items. It returns -1 for a
// message.
func (s *decodeState) findEnvelope() (int, error) {
	doc := s.doc
	batch := -1
	var env envelope
	root := s.scanner.Root()
	for _, sp := range root {
		start, end := sp.Start, sp.End
		key := s.rootKey(sp)
		switch {
		case string(key) == "batch":
			if doc[start] != '[' {
				return -1, &FieldError{Field: "batch", Reason: "want an array of messages"}
			}
			batch = start
		case string(key) == "context":
			env.context = span{start, end}
		case string(key) == "integrations":
			env.integrations = span{start, end}
		case string(key) == "sentAt":
			env.sentAt = span{start, end}
		case string(key) == "writeKey":
			env.writeKey = span{start, end}
		}
	}
	if batch < 0 {
		return -1, nil
	}
	for _, sp := range root {
		switch key := s.rootKey(sp); string(key) {
		case "batch", "context", "integrations", "sentAt", "writeKey":
		default:
			if !envelopeMetadata(string(key)) {
				if env.others == 0 {
					env.firstOther = diag.MaskKey(string(key))
				}
				env.others++
			}
		}
	}
	// A key the envelope repeats is refused here, whatever its items hold: the
	// document pass reports only its first problem, which may be in an item, and
	// would leave a second "batch" or "writeKey" unseen (Rule D1).
	seen := make(map[string]bool, len(root))
	for _, sp := range root {
		key := s.rootKey(sp)
		if seen[string(key)] {
			return -1, &DuplicateKeyError{Offset: s.docOffset + int64(s.scanner.InputOffset(sp.KeyStart))}
		}
		seen[string(key)] = true
	}
	// An object with both a "type" and a "batch" is a message and an envelope at once:
	// taking the batch would drop the message without a word, taking the message would
	// drop the batch. It is refused whole (Rule D1; nothing is dropped silently).
	if seen["type"] {
		return -1, &FieldError{Field: "type", Reason: "a batch envelope has no type: send the message as an item of its batch"}
	}
	return batch, s.checkEnvelope(env)
}

// rootKey returns the key of a top-level member, unescaped.
func (s *decodeState) rootKey(sp jsonvalue.Span) []byte {
	key := s.doc[sp.KeyStart:sp.KeyEnd]
	if sp.KeyEscaped {
		key = jsonvalue.AppendUnescaped(nil, key)
	}
	return key
}

// checkEnvelope checks the envelope objects of a batch and keeps them in s.env. (A
// function of its own so that a plain message, the common case, does not move env to
// the heap.)
func (s *decodeState) checkEnvelope(env envelope) error {
	doc := s.doc
	// Envelope objects are merged into messages: they must fit a message's depth, and
	// a null or absent one adds nothing.
	for _, f := range []struct {
		name string
		sp   *span
	}{{"context", &env.context}, {"integrations", &env.integrations}} {
		if f.sp.end == 0 {
			continue
		}
		switch doc[f.sp.start] {
		case 'n':
			*f.sp = span{}
			continue
		case '{':
		default:
			if jsonvalue.IsEmptyArray(doc[f.sp.start:f.sp.end]) { // {} as PHP writes it: adds nothing
				*f.sp = span{}
				continue
			}
			return &FieldError{Field: f.name, Reason: "want an object"}
		}
		s.checker.MaxDepth = s.limits.MaxDepth - 1
		s.checker.MaxNumberLength = s.limits.MaxNumberLength
		if err := s.checker.Check(doc[f.sp.start:f.sp.end]); err != nil {
			return s.scanError(err, f.sp.start, true)
		}
	}
	if env.sentAt.end > 0 && doc[env.sentAt.start] == 'n' {
		env.sentAt = span{}
	}
	s.env = env
	return nil
}

// keyText returns the current key of it, which walks doc, unescaped only when needed.
func keyText(doc []byte, it *jsonvalue.Iter) []byte {
	start, end, escaped := it.Key()
	if escaped {
		return jsonvalue.AppendUnescaped(nil, doc[start:end])
	}
	return doc[start:end]
}

// attributeProblems finds which items hold the duplicate key or long number the
// document pass met, and which are nested deeper than the limit; such a problem
// outside every item spoils the whole document. A lone message deeper than the limit is
// its problem too.
func (s *decodeState) attributeProblems() error {
	p := s.scanner.Problem()
	if s.form == formSingle {
		switch {
		case s.scanner.Depth() > s.limits.MaxDepth:
			s.problems = []error{&LimitError{Limit: LimitDepth, Max: s.limits.MaxDepth, Offset: s.docOffset}}
		case p != nil:
			s.problems = []error{s.scanError(p, 0, false)}
		}
		return nil
	}
	deep := s.scanner.Depth() > s.limits.MaxDepth+formDepth(s.form)
	if p == nil && !deep {
		return nil
	}
	s.problems = make([]error, len(s.items))
	var found, foundDeep bool // an item with the document's problem; one too deep
	s.checker.MaxDepth = s.limits.MaxDepth
	s.checker.MaxNumberLength = s.limits.MaxNumberLength
	for i, sp := range s.items {
		if err := s.checker.Check(s.doc[sp.start:sp.end]); err != nil {
			s.problems[i] = s.scanError(err, sp.start, true)
			if errors.Is(err, jsonvalue.ErrDepth) {
				foundDeep = true
			} else {
				found = true
			}
		}
	}
	switch {
	case p != nil && !found && !foundDeep:
		// Outside every item. (An item too deep may hold it too: the check stops at
		// the depth, so it fails alone, and so does its duplicate key.)
		return s.scanError(p, 0, false)
	case deep && !foundDeep:
		return &LimitError{Limit: LimitDepth, Max: s.limits.MaxDepth, Offset: s.docOffset}
	}
	return nil
}

// hardMaxDepth is the nesting past which a document is refused whole, whatever its
// messages: the scan's stack grows with the depth.
const hardMaxDepth = 1024

// formDepth is the levels a form adds above its messages.
func formDepth(f int) int {
	switch f {
	case formArray:
		return 1
	case formBatch:
		return 2
	}
	return 0
}

// item decodes the next item into m.
func (s *decodeState) item(m *event.Message) error {
	i := s.next
	s.next++
	sp := s.items[i]
	off := s.docOffset + int64(s.scanner.InputOffset(sp.start))
	text := s.doc[sp.start:sp.end]
	fail := func(err error) error {
		id := m.MessageID
		if event.MessageIDTooLong(id) {
			id = "" // refused for its length (Rule D6), it is not echoed: it may hold anything
		}
		return &ItemError{Index: i, Line: s.line, Offset: off, MessageID: id, Err: err}
	}
	*m = event.Message{}
	if text[0] != '{' {
		return fail(&FieldError{Reason: "not a JSON object"})
	}
	if s.problems != nil && s.problems[i] != nil {
		m.MessageID = peekMessageID(text)
		return fail(s.problems[i])
	}
	// The message gets a buffer of its own, envelope parts appended, so that it shares
	// nothing with the document, with the decoder's scratch space, or with other
	// messages: callers keep messages after the next Decode. The size limit counts the
	// message as sent, as Segment's libraries measure it before they batch it
	// (analytics-java sends one of up to 32 KB in an envelope with its own context):
	// what the envelope adds to all of them is held to MaxBatchBytes by load.
	env := s.env
	size := len(text) + (env.context.end - env.context.start) + (env.integrations.end - env.integrations.start) + (env.sentAt.end - env.sentAt.start)
	if len(text) > s.limits.MaxMessageBytes {
		m.MessageID = peekMessageID(text)
		return fail(&LimitError{Limit: LimitMessageBytes, Max: s.limits.MaxMessageBytes, Offset: off})
	}
	buf := make([]byte, 0, size)
	buf = append(buf, text...)
	var at envelope
	for _, p := range []struct{ src, dst *span }{{&env.context, &at.context}, {&env.integrations, &at.integrations}, {&env.sentAt, &at.sentAt}} {
		if p.src.end > 0 {
			start := len(buf)
			buf = append(buf, s.doc[p.src.start:p.src.end]...)
			*p.dst = span{start, len(buf)}
		}
	}
	// A lone message's top-level members were found by the document pass; an item of
	// an array or batch is walked here.
	top := s.scanner.Root()
	if s.form != formSingle {
		top = s.top[:0]
		it := jsonvalue.NewIter(buf, 0)
		for it.Next() {
			var sp jsonvalue.Span
			sp.KeyStart, sp.KeyEnd, sp.KeyEscaped = it.Key()
			sp.Start, sp.End = it.Value()
			top = append(top, sp)
		}
		s.top = top
		if it.Err() != nil {
			return fail(&FieldError{Reason: "not a JSON object"})
		}
	}
	// The message's strings are made over buf itself: nothing writes to buf from here
	// on (the decoder hands out values as capped slices, and event.Message documents
	// that a message's strings and values may share one buffer), so one copy of the
	// text serves both.
	if err := s.decodeMessage(m, buf, unsafe.String(unsafe.SliceData(buf), len(buf)), top, at, s.form == formSingle); err != nil {
		return fail(err)
	}
	if env.others > 0 {
		d := env.othersDiagnostic()
		d.MessageID = m.MessageID
		m.Diagnostics = append(m.Diagnostics, d)
	}
	return nil
}

// peekMessageID returns the messageId of the compact object text, for an error about a
// message that is not decoded.
func peekMessageID(text []byte) string {
	it := jsonvalue.NewIter(text, 0)
	for it.Next() {
		if string(keyText(text, &it)) == "messageId" {
			id, _ := jsonvalue.Text(it.ValueBytes())
			if event.MessageIDTooLong(id) {
				return "" // one the processor would refuse (Rule D6) is not echoed
			}
			return id
		}
	}
	return ""
}
