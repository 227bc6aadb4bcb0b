package regalkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/optin"
	"github.com/regalkit/regalkit/segmentio"
)

// Processor turns Segment messages into contacts in a [contact.Store]: it decides which
// contact a message belongs to (package identity), applies its traits and consent
// (packages contact and optin), records its event, and does all of it in one store
// transaction per message.
//
// A Processor is safe for concurrent use by multiple goroutines; messages for different
// contacts are processed in parallel as far as the store allows.
type Processor struct {
	store  contact.Store
	opts   Options
	phones *identity.PhoneParser // the Processor's own cache, sized by Options.PhoneCacheSize
	optIns *optin.ParseCache     // the Processor's own cache, sized by Options.OptInCacheSize
	events *optin.Events
	log    *slog.Logger
	// triggerSeq numbers the trigger changes of each transaction (TriggerChange.Seq).
	triggerSeq atomic.Uint64
}

// New returns a Processor that keeps contacts in store, configured by opts (nil means
// the defaults). It panics if store is nil or opts is invalid (see [Options.Validate]):
// options are the program's, not its input's, and a wrong one should stop it at start.
func New(store contact.Store, opts *Options) *Processor {
	if store == nil {
		panic("regalkit: New with a nil store")
	}
	if err := opts.Validate(); err != nil {
		panic(err.Error())
	}
	p := &Processor{store: store}
	if opts != nil {
		p.opts = *opts
	}
	if _, ok := store.(contact.Outbox); p.opts.Outbox && !ok {
		panic("regalkit: Options.Outbox with a store that does not implement contact.Outbox")
	}
	p.phones = identity.NewPhoneParser(&identity.PhoneParserOptions{Region: p.opts.Region, CacheSize: p.opts.PhoneCacheSize})
	p.optIns = optin.NewParseCache(p.opts.OptInCacheSize)
	p.events, _ = optin.NewEvents(p.opts.OptInEvents, p.opts.OptOutEvents) // checked by Validate
	p.log = p.opts.logger()
	return p
}

// Result is what processing one message did.
type Result struct {
	// MessageID is the message's messageId, or the one derived from its content when it
	// had none (Rule E2); empty when it was refused for its length (Rule D6).
	MessageID string
	// ContactID is the id of the contact the message was applied to; empty when it was
	// applied to none (a duplicate, a refused message, a delete of an unknown user).
	ContactID string
	// Duplicate reports that the messageId was processed before: nothing changed
	// (Rule E2).
	Duplicate bool
	// Changed lists what the message changed: field paths such as "firstName" or
	// "custom.plan", and "event", "contact" (created), "identity" (links, renames),
	// "deleted".
	Changed []string
	// Diagnostics lists every refusal, each with its code (RULES.md, X). A message refused
	// whole has one diagnostic and no ContactID. At most MaxDiagnostics: past them, the
	// last (message.limit) counts those left out (Rule D7).
	Diagnostics []diag.Diagnostic
	// Triggers lists the triggers of Options.Triggers that a contact entered or left
	// with this message (Rule J4).
	Triggers []TriggerChange
}

// Process applies one message (rules D, T, C, I, E and A of RULES.md) and returns what
// it did. A bad message is not an error: it is a Result with diagnostics. The error is
// for failures of the store or of ctx, and then nothing of the message was applied.
//
// A message built in Go is checked as a decoded one is: besides [event.Message.Validate],
// its objects must pass [event.Message.CheckJSON] (valid JSON values, no key twice), or
// it is refused whole with message.invalid (Rule D1).
//
// Process keeps nothing of m: once it returns, the caller may change or reuse m's
// objects and their bytes (as [Processor.ProcessBatch]'s caller may its messages').
func (p *Processor) Process(ctx context.Context, m event.Message) (Result, error) {
	return p.process(ctx, &m, fromGo)
}

// source says where a message came from.
type source uint8

const (
	// fromDecoder: one of this module's decoders built the message, whose objects are
	// then valid JSON (event.Message.CheckJSON passes).
	fromDecoder source = iota
	// fromGo: the caller built it, or changed it, in Go; its objects are checked.
	fromGo
	// fromRegal: it came through RegalSink, from Regal's authenticated webhook, where
	// an sms.received START is its own evidence (Rule G6). Its objects are checked:
	// RegalSink's function may be called with messages built in Go.
	fromRegal
)

// process is Process on a message the caller hands over: it may change *m, and the
// batch workers save a copy of every message by passing their own.
func (p *Processor) process(ctx context.Context, m *event.Message, src source) (Result, error) {
	res := Result{MessageID: m.MessageID}
	if m.MessageID == "" {
		m.MessageID = event.DeriveMessageID(m)
		res.MessageID = m.MessageID
	}
	decoded := m.Diagnostics
	err := m.Validate()
	if err == nil && src != fromDecoder {
		// A message built in Go may hold objects no store can write as JSON (a key
		// twice, a value that is not JSON): it is refused whole, as the decoder refuses
		// such a message (Rule D1), before anything of it is stored. RegalSink is a
		// function anyone may call with messages of their own: its are checked too.
		err = m.CheckJSON()
	}
	if err != nil {
		var ve *event.ValidationError
		if errors.As(err, &ve) {
			if ve.Code == diag.MessageInvalidID && ve.Field == "messageId" {
				// A messageId refused for its length is not echoed: it may hold
				// anything, a sender's email included.
				m.MessageID, res.MessageID = "", ""
			}
			res.Diagnostics = append(withMessageID(decoded, m.MessageID), ve.Diagnostic(m.MessageID))
			return res, nil
		}
		return res, err
	}
	if d, ok := reservedIdentifier(m); ok {
		res.Diagnostics = append(withMessageID(decoded, m.MessageID), d)
		return res, nil
	}
	now, err := p.opts.now()
	if err != nil {
		return res, err
	}
	if d, refused := p.untoldReply(m, now); refused { // Rule G8
		res.Diagnostics = append(withMessageID(decoded, m.MessageID), d)
		return res, nil
	}
	res.MessageID = m.MessageID
	if m.Time.IsZero() {
		m.Time = now // Rule D5: the processor's clock, last.
	}
	m.Time = m.Time.UTC()
	u := updates.Get().(*update)
	u.p, u.m, u.now, u.decoded, u.fromRegal = p, m, now, decoded, src == fromRegal
	err = p.store.Update(ctx, u.fn)
	out := u.out
	*u = update{fn: u.fn}
	updates.Put(u)
	if err != nil {
		p.log.LogAttrs(ctx, slog.LevelWarn, "regalkit: message not processed",
			slog.String("messageId", m.MessageID), slog.String("error", err.Error()))
		return res, fmt.Errorf("regalkit: processing message %q: %w", m.MessageID, err)
	}
	capDiagnostics(&out)
	p.log.LogAttrs(ctx, slog.LevelDebug, "regalkit: message processed",
		slog.String("messageId", m.MessageID), slog.String("kind", m.Kind.String()),
		slog.String("contactId", out.ContactID), slog.Bool("duplicate", out.Duplicate),
		slog.Int("changed", len(out.Changed)), slog.Int("diagnostics", len(out.Diagnostics)))
	return out, nil
}

// ProcessBytes decodes Segment JSON in any form of Rule D1 (a message, an array, a batch
// envelope, NDJSON) and processes each message as [Processor.ProcessBatch] does. It
// returns one Result per message, in input order: a message that cannot be decoded is
// a Result with its diagnostic, and a payload that stops being readable (a syntax error
// outside any one message, a limit of the whole payload) ends with a Result holding
// that diagnostic. The error is for store and context failures only; the results so
// far come with it.
func (p *Processor) ProcessBytes(ctx context.Context, data []byte) ([]Result, error) {
	items, err := segmentio.DecodeAll(data, p.opts.Limits)
	return p.processDecoded(ctx, items, err) // batch.go: with Options.Workers workers
}

// decodeDiagnostic turns a decoding error into the diagnostic of its message.
func decodeDiagnostic(err error) diag.Diagnostic {
	var ie *segmentio.ItemError
	if errors.As(err, &ie) {
		return ie.Diagnostic()
	}
	return diag.Diagnostic{Code: segmentio.CodeOf(err), Message: err.Error()}
}

func withMessageID(diags []diag.Diagnostic, id string) []diag.Diagnostic {
	out := make([]diag.Diagnostic, len(diags))
	for i, d := range diags {
		if d.MessageID == "" {
			d.MessageID = id
		}
		out[i] = d
	}
	return out
}

// update is one message's call of Store.Update: the message, its Result and its txn in
// one pooled object, with the function Update runs bound to it once, so that a message
// costs no closure, no heap Result and no txn (issue 14: allocations per message).
// Nothing keeps a pointer into it once Update returns: process copies the Result out
// and zeroes the rest before putting it back.
type update struct {
	p   *Processor
	m   *event.Message
	sms *optin.InboundSMS // instead of m: an inbound text (ReceiveSMS)
	// fromRegal says that m came through RegalSink (see fromRegal).
	fromRegal bool
	now       time.Time
	decoded   []diag.Diagnostic
	out       Result
	t         txn
	fn        func(contact.Tx) error // u.run
}

var updates = sync.Pool{New: func() any {
	u := &update{}
	u.fn = u.run
	return u
}}

// run is what the Processor does inside Store.Update; the store may call it again
// after a conflict, and each call starts afresh.
func (u *update) run(tx contact.Tx) error {
	p, m := u.p, u.m
	if u.sms != nil {
		u.out = Result{MessageID: u.sms.MessageID}
	} else {
		u.out = Result{MessageID: m.MessageID, Diagnostics: withMessageID(u.decoded, m.MessageID)}
	}
	raw := tx
	var watch *triggerTx // Rule J4
	if len(p.opts.Triggers) > 0 {
		watch = newTriggerTx(tx, p.opts.Triggers)
		tx = watch
	}
	u.t = txn{p: p, tx: tx, raw: raw, now: u.now, res: &u.out, fromRegal: u.fromRegal}
	t := &u.t
	t.withScratch() // txnpool.go
	defer t.releaseScratch()
	var err error
	if u.sms != nil {
		err = t.receive(*u.sms)
	} else {
		err = t.process(m)
	}
	if err != nil || watch == nil {
		return err
	}
	if u.out.Triggers, err = watch.changes(); err != nil || len(u.out.Triggers) == 0 {
		return err
	}
	// Drawn after every read of this attempt: of two transactions that read a contact
	// and both commit, the store lets the later commit see the earlier's writes only
	// if it read after that commit (Rule S2), so it draws the larger number. Results
	// in input order may come in another order than commits (Options.Workers above
	// one, concurrent calls); Seq tells the fold which change is the contact's last.
	seq := p.triggerSeq.Add(1)
	for i := range u.out.Triggers {
		u.out.Triggers[i].Seq = seq
	}
	return nil
}

// MaxDiagnostics is the most diagnostics one message's Result carries (Rule D7): the
// first MaxDiagnostics-1, then one more, message.limit, that counts those left out. A
// message can refuse a field for every few bytes it holds (301 traits or more, one
// tiny key each): without a bound, the answer to a batch grows many times larger than
// the batch.
const MaxDiagnostics = 100

// capDiagnostics holds res to MaxDiagnostics diagnostics.
func capDiagnostics(res *Result) {
	n := len(res.Diagnostics)
	if n <= MaxDiagnostics {
		return
	}
	kept := slices.Clone(res.Diagnostics[:MaxDiagnostics])
	kept[MaxDiagnostics-1] = diag.Diagnostic{MessageID: res.MessageID, Code: diag.MessageLimit, Message: fmt.Sprintf(
		"regalkit: %d more diagnostics left out: a message's result carries at most %d (Rule D7)", n-(MaxDiagnostics-1), MaxDiagnostics)}
	res.Diagnostics = kept
}
