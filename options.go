package regalkit

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/timestamp"
	"github.com/regalkit/regalkit/optin"
	"github.com/regalkit/regalkit/segmentio"
	"github.com/regalkit/regalkit/trigger"
)

// Options configures a [Processor]. The zero value, like a nil *Options, gives the
// defaults each field documents.
type Options struct {
	// Region is the default phone region for numbers without a country code, an ISO
	// 3166-1 code such as "GB" (Rule T8). Empty means "US".
	Region string

	// OptInEvents maps track event names that mean "opted in" to the channels they opt
	// in to (Rule C8), such as {"SMS Opt In": {optin.SMS}}. An empty channel list means
	// both sms and voice. OptOutEvents does the same for opting out. The records are
	// for the phone the message sets (Rule C5): with ApplyContextTraits, the one its
	// context.traits give; else, the contact's phone primary at the event's time.
	OptInEvents  map[string][]optin.Channel
	OptOutEvents map[string][]optin.Channel

	// MatchByPhone matches a message without a userId to the one contact that already
	// has the phone, or else the email, its identify traits carry (Rule I6, Regal's
	// lookup order). Off by default: a shared phone would otherwise join two people,
	// and matching makes the outcome depend on arrival order, the consent the Guard
	// reads for a phone included (Rule I6; S3 and G1 hold with the option off).
	MatchByPhone bool

	// Keywords says how inbound SMS replies are read (Rules G5–G7): whether YES opts in,
	// whether a longer message containing STOP is an opt-out rather than a possible one,
	// and whether an opt-out covers voice too. The zero value is the rules' default.
	Keywords optin.KeywordOptions

	// Now is the processor's clock: the time of messages that carry none (Rule D5) and
	// the processed-at time kept with consent evidence (Rule C7). Nil means time.Now.
	// It must be safe for concurrent use. A time outside the years 1677 to 2262 (Rule
	// D4) makes the call that read it fail with an error, nothing applied.
	Now func() time.Time

	// NewID makes contact ids. Nil means random UUIDs. It must never return an id twice,
	// and, like Now, it is called from several goroutines at once when messages are
	// processed concurrently (Workers above one, or concurrent calls): a counter behind
	// it must be atomic.
	NewID func() string

	// Logger receives a debug line per message and a warning per store failure. It never
	// receives a whole phone number or email address. Nil means no logging.
	Logger *slog.Logger

	// Limits bound what ProcessBytes decodes (Rule D7). Nil means Segment's limits.
	Limits *segmentio.Limits

	// Workers is how many messages ProcessBatch, ProcessStream and ProcessBytes apply
	// at once; messages sharing an identifier still apply in input order (see
	// [Processor.ProcessBatch]). Zero means one: one message after the other. Negative
	// means runtime.GOMAXPROCS(0); more than 1024 means 1024. With MatchByPhone on it
	// is always one (Rule I6 matching depends on arrival order). Process and Sink are
	// not affected. ProcessStream decodes on a goroutine of its own whenever there
	// are several workers or runtime.GOMAXPROCS(0) is above one.
	Workers int

	// PhoneCacheSize bounds the phone parser's cache (see identity.PhoneParser). Zero
	// means identity.DefaultPhoneCacheSize; negative turns the cache off.
	PhoneCacheSize int

	// ApplyContextTraits applies the context.traits of track, page and screen messages
	// to the contact as traits, each write stamped with the message's event time and
	// messageId, so that Rule T4 decides between them and every other write; field
	// paths in diagnostics start with "context.traits.". For sources that identify the
	// user only there. Off by default, as Rule T3 has it: only identify changes traits.
	// Segment's browser library caches traits and re-sends them in context.traits with
	// every event, dated by the event, not by when they were true: an old cached value
	// on a new event would win over a newer identify. Either way the context.traits
	// are kept on the event record and exported with it. A Regal event's are never
	// applied: they name its contact for Regal's lookup (Rule R5).
	ApplyContextTraits bool

	// OptInCacheSize bounds the cache of parsed optIn traits, which Segment re-sends
	// with every identify (see optin.ParseCache). Zero means
	// optin.DefaultParseCacheSize; negative turns the cache off.
	OptInCacheSize int

	// Outbox records, in the transaction that applies each message, an outbox entry
	// for every contact whose Regal body the message changed or on which it recorded a
	// track event, for a [Forwarder] to send (Rule O1). The store must implement
	// contact.Outbox; New panics otherwise. Its transactions must implement
	// contact.OutboxTx: a message whose transaction does not (a wrapper of the store's
	// Update that hides it) fails, and nothing of it is committed. Off by default:
	// nothing drains an outbox nobody forwards.
	Outbox bool

	// Triggers are journey triggers whose entering and leaving each Result reports
	// (Result.Triggers, Rule J4). Their names must be unique. Each costs a read of the
	// events with its names for every contact a message writes. The triggers must not
	// change after New. Nil means none.
	Triggers []*trigger.Trigger
}

// Validate reports what is wrong with the options: an unknown phone region, an
// opt-in or opt-out event with an unknown channel or named in both maps, or an invalid
// trigger or two with one name.
func (o *Options) Validate() error {
	if o == nil {
		return nil
	}
	if o.Region != "" {
		if _, err := identity.ParsePhone("+19545552399", o.Region); err != nil {
			return fmt.Errorf("regalkit: options: region %q is not a region libphonenumber knows", diag.Mask(o.Region))
		}
	}
	if _, err := optin.NewEvents(o.OptInEvents, o.OptOutEvents); err != nil {
		return fmt.Errorf("regalkit: options: %w", err)
	}
	return validateTriggers(o.Triggers)
}

func (o *Options) now() (time.Time, error) {
	if o.Now == nil {
		return time.Now().UTC(), nil
	}
	now := o.Now().UTC()
	if !timestamp.InRange(now) {
		// Stamped on consent evidence and on messages without a time, a clock outside
		// Rule D4's years would be stored where no store reads it back.
		return time.Time{}, fmt.Errorf("regalkit: Options.Now returned a time outside the years 1677 to 2262 (year %d); nothing was applied", now.Year())
	}
	return now, nil
}

func (o *Options) newID() string {
	if o.NewID != nil {
		return o.NewID()
	}
	return uuid.NewString()
}

func (o *Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}
