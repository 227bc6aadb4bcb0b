package optin

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/timestamp"
)

// Record is one consent record with its evidence (Rule C7): who it is for, what it says,
// where it came from and what was wrong with it, if anything. Records are values; a
// [Ledger] keeps a set of them.
//
// Two records are the same record when every field but MessageID, MessageTime and
// ProcessedAt is equal: the same consent, with the same evidence, delivered again. That
// covers a redelivered message and also Segment's browser library, which caches traits
// and re-sends the same optIn record with every identify. A ledger keeps such a record
// once, as carried by the earliest message (the smallest MessageTime, then MessageID),
// remembering the latest one too (LastMessageTime, LastMessageID), and with the earliest
// ProcessedAt, so the history does not grow with re-sends and any arrival order keeps the
// same copy. After a delete (see [Ledger.Erase]) a record counts from its latest message.
type Record struct {
	// Address is the E.164 phone number an SMS or voice record applies to, or the email
	// address of an email record. It is empty when the record's message named none: the
	// record then applies to a phone derived from the contact (Rule C5).
	Address string
	// Channel is the channel the record is about. A refused record keeps the channel it
	// came with, valid or not (Rule C1).
	Channel Channel
	// Subscribed is true for an opt-in, false for an opt-out.
	Subscribed bool
	// Timestamp is when the person gave or withdrew consent, in UTC; Rule C6 orders
	// records by it. Zero when the record had no parseable timestamp (Rule C3).
	Timestamp time.Time
	// IP is the IP address given as evidence: the record's own, else its message's
	// context.ip (Rule C4). Empty when neither was an IP address.
	IP string
	// Source says where the consent was collected, such as a form name; for an opt-in
	// event it is the event name (Rule C8).
	Source string
	// Text is the consent language the person agreed to.
	Text string
	// MessageID is the messageId of the message that carried the record.
	MessageID string
	// MessageTime is when that message happened (Rule D5), in UTC. A record without an
	// Address binds to the phone that was primary at this time (Rule C5).
	MessageTime time.Time
	// LastMessageID and LastMessageTime name the latest message that carried the same
	// record (see above); both are empty when that is the message MessageID names.
	LastMessageID   string
	LastMessageTime time.Time
	// ProcessedAt is when regalkit first processed the record, in UTC.
	ProcessedAt time.Time
	// Refused is the diagnostic code of the rule the record breaks (Rules C1–C4), empty
	// for a valid record. A refused record is kept in the history and never changes a
	// state.
	Refused diag.Code
}

// Check returns the code of the first rule r breaks, in rule order, or "" when r is a
// valid record that may change a state:
//
//   - a code already in r.Refused (such as [diag.OptinInvalid] for a record that was not
//     an object) stands;
//   - [diag.OptinUnknownChannel] when r.Channel is not SMS, Voice or Email (Rule C1);
//   - [diag.OptinNoTimestamp] when r.Timestamp is zero (Rule C3);
//   - [diag.OptinNoIP] when r subscribes and r.IP is not an IP address (Rule C4). An
//     opt-out needs no IP, and neither does an SMS opt-in made by a START reply (Rule G6:
//     the inbound message is its evidence).
//
// A [Ledger] checks every record it is given, so no record can subscribe without its
// evidence, whatever its source.
func (r Record) Check() diag.Code {
	switch {
	case r.Refused != "":
		return r.Refused
	case !r.Channel.Valid():
		return diag.OptinUnknownChannel
	case r.Timestamp.IsZero():
		return diag.OptinNoTimestamp
	case r.Subscribed && !isIP(r.IP) && !r.keywordOptIn():
		return diag.OptinNoIP
	}
	return ""
}

// isIP reports whether s is an IPv4 or IPv6 address, exactly as the validator's "ip" rule
// reads one.
// last returns the latest message that carried r.
func (r *Record) last() (time.Time, string) {
	if r.LastMessageID == "" && r.LastMessageTime.IsZero() {
		return r.MessageTime, r.MessageID
	}
	return r.LastMessageTime, r.LastMessageID
}

func isIP(s string) bool { return s != "" && net.ParseIP(s) != nil }

// normalize returns r as a ledger keeps it: times in UTC without a monotonic reading (so
// == and reflect.DeepEqual compare instants), and checked.
func normalize(r Record) Record {
	r.Timestamp = utc(r.Timestamp)
	r.MessageTime = utc(r.MessageTime)
	r.LastMessageTime = utc(r.LastMessageTime)
	if r.LastMessageID == r.MessageID && r.LastMessageTime.Equal(r.MessageTime) {
		r.LastMessageID, r.LastMessageTime = "", time.Time{}
	}
	r.ProcessedAt = utc(r.ProcessedAt)
	r.Refused = r.Check()
	return r
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Round(0)
}

// compare orders records canonically: by consent timestamp, then every other field that
// makes a record what it is. It is 0 exactly for the same record (see [Record]), so it
// sorts a ledger and finds duplicates.
func compare(a, b *Record) int {
	if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Channel, b.Channel); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Address, b.Address); c != 0 {
		return c
	}
	if a.Subscribed != b.Subscribed {
		if a.Subscribed {
			return 1
		}
		return -1
	}
	if c := cmp.Compare(a.IP, b.IP); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Source, b.Source); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Text, b.Text); c != 0 {
		return c
	}
	return cmp.Compare(a.Refused, b.Refused)
}

// decides reports whether a, rather than b, decides the state of an address and channel
// they share (Rule C6): the newer consent timestamp; at equal timestamps the opt-out
// (revocation must be honoured); then the larger messageId; then the canonical order.
// It is a strict total order on distinct records, so any set has one deciding record
// whatever order it arrived in.
func decides(a, b *Record) bool {
	if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
		return c > 0
	}
	if a.Subscribed != b.Subscribed {
		return !a.Subscribed
	}
	if c := cmp.Compare(a.MessageID, b.MessageID); c != 0 {
		return c > 0
	}
	return compare(a, b) > 0
}

// String describes r for logs with its address masked (see identity.MaskPhone), as in
//
//	sms opt-in +***2399 2020-08-25T21:23:43Z (message "m1")
func (r Record) String() string {
	verb := "opt-out"
	if r.Subscribed {
		verb = "opt-in"
	}
	ch := "unknown channel"
	if r.Channel.Valid() {
		ch = string(r.Channel)
	}
	addr := "no address"
	if r.Address != "" {
		addr = maskAddress(r.Channel, r.Address)
	}
	ts := "no timestamp"
	if !r.Timestamp.IsZero() {
		ts = timestamp.Format(r.Timestamp)
	}
	s := ch + " " + verb + " " + addr + " " + ts + " (message " + quoteID(r.MessageID) + ")"
	if r.Refused != "" {
		s += " refused: " + string(r.Refused)
	}
	return s
}

// quoteID quotes a messageId for logs, cut to the 100 bytes Rule D6 allows.
func quoteID(id string) string {
	if len(id) > 100 {
		id = strings.ToValidUTF8(id[:100], "")
	}
	return strconv.Quote(id)
}

// GoString is [Record.String], so that %#v does not print a whole address either.
func (r Record) GoString() string { return "optin.Record{" + r.String() + "}" }

// LogValue logs r as a group with its address masked: records are safe to pass to
// log/slog.
func (r Record) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("channel", maskChannel(r.Channel)),
		slog.Bool("subscribed", r.Subscribed),
		slog.String("messageId", r.MessageID),
	}
	if r.Address != "" {
		attrs = append(attrs, slog.String(r.Channel.addressKey(), maskAddress(r.Channel, r.Address)))
	}
	if !r.Timestamp.IsZero() {
		attrs = append(attrs, slog.Time("timestamp", r.Timestamp))
	}
	if r.Refused != "" {
		attrs = append(attrs, slog.String("refused", string(r.Refused)))
	}
	return slog.GroupValue(attrs...)
}

func maskChannel(c Channel) string {
	if c.Valid() {
		return string(c)
	}
	return "unknown"
}

func maskAddress(c Channel, addr string) string {
	if c == Email {
		return identity.MaskEmail(addr)
	}
	return identity.MaskPhone(addr)
}

// Message is what the parsers need to know about the message that carries consent
// records (Rules C4, C5, C7). The contact package fills it from the Segment message.
type Message struct {
	// ID is the message's messageId.
	ID string
	// Time is when the message happened (Rule D5). Records without an address bind to the
	// phone primary at this time (Rule C5); opt-in events are dated by it (Rule C8).
	Time time.Time
	// IP is the message's context.ip: the evidence of a subscribing record that has no
	// IP of its own (Rule C4).
	IP string
	// Phone is the E.164 phone number the same message sets, if any: SMS and voice
	// records in an optIn trait apply to it (Rule C5). Empty when the message sets none.
	Phone string
	// Email is the email address the same message sets, if any: email records in an
	// optIn trait apply to it.
	Email string
	// ProcessedAt is when regalkit processes the message (the processor's clock).
	ProcessedAt time.Time
	// Region is the default region phone numbers a record names are read in, such as
	// "US" (Rule T8); empty means "US".
	Region string
}

// String describes m for logs with its phone and email masked.
func (m Message) String() string {
	s := "message " + quoteID(m.ID)
	if m.Phone != "" {
		s += " phone " + identity.MaskPhone(m.Phone)
	}
	if m.Email != "" {
		s += " email " + identity.MaskEmail(m.Email)
	}
	return s
}

// GoString is [Message.String], so that %#v does not print a whole phone either.
func (m Message) GoString() string { return "optin.Message{" + m.String() + "}" }

// addressFor returns the address of m a record on channel c applies to.
func (m Message) addressFor(c Channel) string {
	switch c {
	case SMS, Voice:
		return m.Phone
	case Email:
		return m.Email
	}
	// A refused record on an unknown channel still names the message's phone, so the
	// history shows whose record it was.
	return m.Phone
}

// recordJSON is the JSON shape of a record and of a history entry (RULES.md, X
// consentHistory): the documented keys first, then the rest of the evidence.
type recordJSON struct {
	Phone       string    `json:"phone,omitempty"`
	Email       string    `json:"email,omitempty"`
	Binding     string    `json:"binding,omitempty"`
	Channel     Channel   `json:"channel,omitempty"`
	Subscribed  bool      `json:"subscribed"`
	Timestamp   string    `json:"timestamp,omitempty"`
	Outcome     Outcome   `json:"outcome,omitempty"`
	Code        diag.Code `json:"code,omitempty"`
	MessageID   string    `json:"messageId,omitempty"`
	IP          string    `json:"ip,omitempty"`
	Source      string    `json:"source,omitempty"`
	Text        string    `json:"text,omitempty"`
	MessageTime string    `json:"messageTime,omitempty"`
	// The latest carrier, written only when it is another message than the first.
	LastMessageID   string `json:"lastMessageId,omitempty"`
	LastMessageTime string `json:"lastMessageTime,omitempty"`
	ProcessedAt     string `json:"processedAt,omitempty"`
}

// The values of the "binding" key: where a record's address came from.
const (
	boundByMessage = "message" // the record's own message named it
	boundByContact = "contact" // derived from the contact's phones (Rule C5)
)

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return timestamp.Format(t)
}

func parseTime(s, key string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := timestamp.Parse(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("optin: %s: %w", key, err)
	}
	return t, nil
}

// toJSON writes r as JSON, applying to addr (r.Address, or the address it was bound to).
func (r *Record) toJSON(addr string, outcome Outcome) recordJSON {
	w := recordJSON{
		Channel:     r.Channel,
		Subscribed:  r.Subscribed,
		Timestamp:   formatTime(r.Timestamp),
		Outcome:     outcome,
		Code:        r.Refused,
		MessageID:   r.MessageID,
		IP:          r.IP,
		Source:      r.Source,
		Text:        r.Text,
		MessageTime: formatTime(r.MessageTime),
		ProcessedAt: formatTime(r.ProcessedAt),
	}
	if r.LastMessageID != "" || !r.LastMessageTime.IsZero() {
		w.LastMessageID, w.LastMessageTime = r.LastMessageID, formatTime(r.LastMessageTime)
	}
	if addr != "" {
		if r.Channel.addressKey() == "email" {
			w.Email = addr
		} else {
			w.Phone = addr
		}
		w.Binding = boundByMessage
		if r.Address == "" {
			w.Binding = boundByContact
		}
	}
	return w
}

// fromJSON reads a record and the address it applies to.
func (w *recordJSON) fromJSON() (r Record, appliesTo string, err error) {
	addr := w.Phone
	if w.Channel.addressKey() == "email" {
		addr = w.Email
	}
	if w.Phone != "" && w.Email != "" {
		return Record{}, "", errors.New("optin: a record has both a phone and an email")
	}
	if addr == "" && (w.Phone != "" || w.Email != "") {
		return Record{}, "", errors.New("optin: a " + maskChannel(w.Channel) + " record names the wrong kind of address")
	}
	r = Record{
		Channel:    w.Channel,
		Subscribed: w.Subscribed,
		IP:         w.IP,
		Source:     w.Source,
		Text:       w.Text,
		MessageID:  w.MessageID,
		Refused:    w.Code,
	}
	switch w.Binding {
	case "", boundByMessage:
		r.Address = addr
	case boundByContact:
	default:
		return Record{}, "", errors.New("optin: unknown binding " + quoteShort(w.Binding))
	}
	if r.Timestamp, err = parseTime(w.Timestamp, "timestamp"); err != nil {
		return Record{}, "", err
	}
	if r.MessageTime, err = parseTime(w.MessageTime, "messageTime"); err != nil {
		return Record{}, "", err
	}
	if r.ProcessedAt, err = parseTime(w.ProcessedAt, "processedAt"); err != nil {
		return Record{}, "", err
	}
	r.LastMessageID = w.LastMessageID
	if r.LastMessageTime, err = parseTime(w.LastMessageTime, "lastMessageTime"); err != nil {
		return Record{}, "", err
	}
	return r, addr, nil
}

// MarshalJSON writes r in the shape of a consentHistory entry (RULES.md, X) without an
// outcome: "phone" (or "email" for an email record), "channel", "subscribed",
// "timestamp", "code" when refused, "messageId", "ip", "source", "text", "messageTime"
// and "processedAt"; empty ones are omitted. Times are RFC 3339 in UTC.
func (r Record) MarshalJSON() ([]byte, error) {
	return json.Marshal(r.toJSON(r.Address, ""))
}

// UnmarshalJSON reads what [Record.MarshalJSON] or [Entry.MarshalJSON] writes. An entry's
// outcome is ignored (it is derived), and so is an address the entry was only bound to
// ("binding": "contact", Rule C5): that record is read without an address.
func (r *Record) UnmarshalJSON(b []byte) error {
	var w recordJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("optin: record: %w", err)
	}
	rec, _, err := w.fromJSON()
	if err != nil {
		return err
	}
	*r = rec
	return nil
}

// LogValue logs m with its phone and email masked.
func (m Message) LogValue() slog.Value { return slog.StringValue(m.String()) }
