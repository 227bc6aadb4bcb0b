package optin

import (
	"slices"
	"strings"
	"time"
	"unicode"
)

// SourceSMSKeyword is the Source of every record a keyword reply makes (Rules G5–G7):
// the inbound message is the evidence, its body the Text. The source is reserved: the
// processor keeps each contact's records of this source equal to the keyword records of
// its phones (Rule G7).
const SourceSMSKeyword = "sms_keyword"

// SourceSentSMSKeyword is the Source a record keeps when it names [SourceSMSKeyword]
// but comes from anywhere but a reply: an optIn trait, a Regal consent event. The
// reserved source marks the records that the phones' replies replace (Rule G7); a sent
// record kept under it would disappear with the next change of its contact's phones,
// in some arrival orders and not in others. So it is kept, an opt-out still counting
// as one, under this source, with a diagnostic (see [ReserveSource]).
const SourceSentSMSKeyword = "sent:" + SourceSMSKeyword

// ReserveSource returns the Source a record that does not come from a reply keeps for
// source: source itself and an empty reason, or, for the reserved [SourceSMSKeyword],
// [SourceSentSMSKeyword] and the reason, for a diagnostic.
func ReserveSource(source string) (kept, reason string) {
	if source != SourceSMSKeyword {
		return source, ""
	}
	return SourceSentSMSKeyword, `the source "` + SourceSMSKeyword + `" is reserved for the records of STOP and START replies; ` +
		`the record is kept with source "` + SourceSentSMSKeyword + `" (Rule G7)`
}

// Keyword is what an inbound SMS body says about consent (Rules G5, G6).
type Keyword uint8

// The keyword classes.
const (
	// NoKeyword: the message says nothing about consent.
	NoKeyword Keyword = iota
	// OptOutKeyword: the whole message is a revocation keyword, such as "Stop." or "opt
	// out" (Rule G5).
	OptOutKeyword
	// OptInKeyword: the whole message is START or UNSTOP (or YES, when allowed): SMS is
	// subscribed again (Rule G6).
	OptInKeyword
	// PossibleOptOut: a longer message that contains a revocation keyword, such as
	// "please stop texting me": a person should read it (Rule G5).
	PossibleOptOut
)

var keywordNames = [...]string{"none", "opt-out", "opt-in", "possible opt-out"}

// String returns "none", "opt-out", "opt-in" or "possible opt-out".
func (k Keyword) String() string {
	if int(k) < len(keywordNames) {
		return keywordNames[k]
	}
	return "invalid"
}

// optOutWords are the revocation keywords of Rule G5 after normalization: those the
// FCC's 2024 order names as per se revocation (stop, quit, end, revoke, opt out, cancel,
// unsubscribe), with STOPALL and OPTOUT, which carriers treat the same.
var optOutWords = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT"}

// KeywordOptions changes how bodies are read. The zero value is the rules' default.
type KeywordOptions struct {
	// YesOptsIn makes a bare YES re-subscribe, as START does (Rule G6). Off by default:
	// YES also answers questions that are not about consent.
	YesOptsIn bool
	// ContainedOptsOut makes a longer message containing a revocation keyword an opt-out
	// rather than a possible one (Rule G5). Off by default.
	ContainedOptsOut bool
	// Voice makes an opt-out reply revoke voice calls as well as texts (Rule G7). Off by
	// default: a text reply revokes texts.
	Voice bool
}

// NormalizeBody returns body as keywords are matched against it: punctuation and
// symbols removed, with the invisible characters phones put in and around emoji
// (variation selectors, joiners, zero-width spaces, byte-order marks, enclosing
// marks), full-width letters read as ASCII, letters upper-cased, runs of spaces made
// one, and trimmed. "  Opt-out!" is "OPTOUT"; "opt out." is "OPT OUT"; "Stop ❤️" is
// "STOP".
func NormalizeBody(body string) string {
	var b strings.Builder
	space := false
	for _, r := range body {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFF01 - '!' // full-width ASCII, as East Asian keyboards type it
		}
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
		case unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsControl(r) ||
			unicode.In(r, unicode.Cf, unicode.Me, unicode.Variation_Selector):
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteString(strings.ToUpper(string(r)))
		}
	}
	return b.String()
}

// ClassifyKeyword says what an inbound SMS body means for consent (Rules G5, G6), after
// [NormalizeBody]: one of the revocation keywords alone is an opt-out; START or UNSTOP
// alone (YES with opts.YesOptsIn) an opt-in; a longer message with a revocation
// keyword among its words (or "OPT OUT" as two of them) a possible opt-out, or an
// opt-out with opts.ContainedOptsOut; anything else no keyword.
func ClassifyKeyword(body string, opts KeywordOptions) Keyword {
	n := NormalizeBody(body)
	switch {
	case slices.Contains(optOutWords, n):
		return OptOutKeyword
	case n == "START" || n == "UNSTOP" || (n == "YES" && opts.YesOptsIn):
		return OptInKeyword
	}
	words := strings.Fields(n)
	for i, w := range words {
		if slices.Contains(optOutWords, w) || (w == "OPT" && i+1 < len(words) && words[i+1] == "OUT") {
			if opts.ContainedOptsOut {
				return OptOutKeyword
			}
			return PossibleOptOut
		}
	}
	return NoKeyword
}

// InboundSMS is a text message a person sent: the evidence of a keyword reply.
type InboundSMS struct {
	// Phone is the sender's number in E.164.
	Phone string
	// Body is the message text, kept as the records' Text.
	Body string
	// Time is when the message was sent; it dates the records.
	Time time.Time
	// MessageID identifies the message (Rule E2).
	MessageID string
	// ProcessedAt is when regalkit processed it.
	ProcessedAt time.Time
}

// maxKeywordText bounds the Text a keyword record keeps: a text message is at most
// 1,600 characters once carriers join its parts.
const maxKeywordText = 1600

// KeywordRecords returns the consent records of an inbound SMS of class k (Rule G7):
// for an opt-out, an SMS opt-out of the sender's phone, and a voice opt-out too when
// opts.Voice is true; for an opt-in, an SMS opt-in. Each has Source [SourceSMSKeyword], the
// body as Text (cut to 1,600 bytes; an opt-in's over that is kept normalized, see
// [NormalizeBody]), and the message's time as both consent and message time. Other classes
// make no record.
func KeywordRecords(k Keyword, m InboundSMS, opts KeywordOptions) []Record {
	var chans []Channel
	switch k {
	case OptOutKeyword:
		chans = []Channel{SMS}
		if opts.Voice {
			chans = append(chans, Voice)
		}
	case OptInKeyword:
		chans = []Channel{SMS}
	default:
		return nil
	}
	text := m.Body
	if len(text) > maxKeywordText && k == OptInKeyword {
		// A START is one word once normalized: a body this long is mostly blanks or
		// invisible characters, which a cut would leave without the word, and an
		// opt-in by START needs no IP only while its text reads as one (Rule G6). The
		// normalized word is its evidence then.
		text = NormalizeBody(text)
	}
	if len(text) > maxKeywordText {
		text = strings.ToValidUTF8(text[:maxKeywordText], "")
	}
	out := make([]Record, len(chans))
	for i, ch := range chans {
		out[i] = Record{
			Address: m.Phone, Channel: ch, Subscribed: k == OptInKeyword,
			Timestamp: m.Time, Source: SourceSMSKeyword, Text: text,
			MessageID: m.MessageID, MessageTime: m.Time, ProcessedAt: m.ProcessedAt,
		}
	}
	return out
}

// IsKeyword reports whether r is a keyword record (Rule G7): its Source is
// [SourceSMSKeyword].
func (r Record) IsKeyword() bool { return r.Source == SourceSMSKeyword }

// keywordOptIn reports whether r is an SMS opt-in made by a START reply: its evidence
// is the inbound message, not an IP address (Rule G6).
func (r Record) keywordOptIn() bool {
	return r.Subscribed && r.IsKeyword() && r.Channel == SMS && r.Address != "" &&
		ClassifyKeyword(r.Text, KeywordOptions{YesOptsIn: true}) == OptInKeyword
}

// SetKeywordRecords makes the ledger's keyword records (those with Source
// [SourceSMSKeyword]) exactly recs, keeping every other record, and reports whether the
// ledger changed. The processor derives a contact's keyword records from the replies
// sent from its phones (Rule G7): they follow the phones, not the order of arrival.
// Records of recs that are not keyword records are ignored.
func (l *Ledger) SetKeywordRecords(recs []Record) bool {
	var fresh Ledger
	kept := make([]*Record, 0, len(l.recs))
	for _, r := range l.recs {
		if !r.IsKeyword() {
			kept = append(kept, r)
		}
	}
	fresh.recs = kept
	var add []Record
	for _, r := range recs {
		if r.IsKeyword() {
			add = append(add, r)
		}
	}
	fresh.Add(add...)
	if fresh.Equal(*l) {
		return false
	}
	*l = fresh
	return true
}

// KeywordLen returns the number of keyword records in the ledger (see
// [Ledger.SetKeywordRecords]): records derived from the phones, which alone do not make
// a contact worth keeping.
func (l Ledger) KeywordLen() int {
	n := 0
	for _, r := range l.recs {
		if r.IsKeyword() {
			n++
		}
	}
	return n
}
