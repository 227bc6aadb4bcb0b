// Package corpus generates a deterministic, realistic Segment traffic corpus for
// benchmarks and replay tests: NDJSON, one message a line, the same bytes for the same
// [Config] on every machine.
//
// The mix follows what analytics.js sends a product with logged-in users:
//
//   - 30% identify: every one with a phone (in one of several formats, a few of them
//     invalid so that Rule T8 refuses them), an email, an address and 5–10 custom traits;
//     half of them carry an optIn record (Rule C2). A user's traits are re-sent
//     unchanged, as analytics.js re-sends its cached traits.
//   - 60% track with 5–15 properties, 10% page.
//   - 5% of the lines are re-deliveries of a recent line, byte for byte (Rule E2).
//   - 10% of the messages carry only an anonymousId (a visitor before login); the rest
//     carry the userId and the anonymousId.
//   - Timestamps mostly increase, one second apart with jitter; 3% are up to an hour
//     late.
package corpus

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// Config says what to generate. The zero value of a field means its default.
type Config struct {
	// Messages is the number of lines written. Zero means 100,000.
	Messages int
	// Users is the number of distinct users. Zero means Messages/5.
	Users int
	// Seed selects the corpus; the same Seed gives the same bytes.
	Seed uint64
	// Start is the time of the first message. The zero Time means 2024-01-01 UTC.
	Start time.Time
}

func (c Config) withDefaults() Config {
	if c.Messages <= 0 {
		c.Messages = 100_000
	}
	if c.Users <= 0 {
		c.Users = max(1, c.Messages/5)
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return c
}

// Write writes the corpus cfg describes to w as NDJSON.
func Write(w io.Writer, cfg Config) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	g := newGenerator(cfg)
	for range g.cfg.Messages {
		if _, err := bw.Write(g.next()); err != nil {
			return fmt.Errorf("corpus: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	return nil
}

// Lines returns the corpus cfg describes, one message a line, each line ending in a
// newline.
func Lines(cfg Config) [][]byte {
	g := newGenerator(cfg)
	out := make([][]byte, g.cfg.Messages)
	for i := range out {
		out[i] = append([]byte(nil), g.next()...)
	}
	return out
}

// user is what stays the same across a user's identify calls.
type user struct {
	id, anon string
	phone    string // as sent: one of the formats of phoneFormats
	phoneNum bool   // sent as a JSON number
	email    string
	first    string
	last     string
	age      int
	street   string
	city     string
	state    string
	zip      string
	custom   [][2]string // key, JSON value
	optInAt  time.Time   // when the user's consent form was captured
}

type generator struct {
	cfg    Config
	rnd    *rand.Rand
	users  []*user
	i      int
	recent [][]byte // a ring of recent lines, for re-deliveries
	buf    []byte
}

func newGenerator(cfg Config) *generator {
	cfg = cfg.withDefaults()
	return &generator{cfg: cfg, rnd: rand.New(rand.NewPCG(cfg.Seed, 0x5eed_c0de)), recent: make([][]byte, 0, 1024)}
}

var (
	firstNames = []string{"Ann", "Bob", "Carla", "Dev", "Emi", "Farid", "Grace", "Hugo", "Ines", "Jae", "Kofi", "Lena"}
	lastNames  = []string{"Greene", "Okafor", "Silva", "Nguyen", "Kowalski", "Haddad", "Moreau", "Tanaka", "Berg", "Reyes"}
	cities     = [][3]string{{"New York", "NY", "10128"}, {"Miami", "FL", "33101"}, {"Austin", "TX", "73301"}, {"Boston", "MA", "02108"}, {"Seattle", "WA", "98101"}, {"Denver", "CO", "80202"}}
	areaCodes  = []int{201, 212, 305, 312, 415, 512, 617, 646, 702, 954}
	customKeys = []string{"plan", "salaryBracket", "loanAmount", "creditScore", "referrer", "company", "title", "newsletter", "lastOrder", "tier", "favoriteColor", "signupSource", "accountManager", "preferences"}
	trackNames = []string{"Loan Application Started", "Loan Application Approved", "Product Viewed", "Order Completed", "Checkout Started", "Button Clicked", "Video Played", "Form Submitted"}
	propKeys   = []string{"amount", "currency", "productId", "sku", "category", "price", "quantity", "coupon", "revenue", "orderId", "label", "value", "step", "plan", "position", "variant", "brand", "url"}
	pages      = []string{"Home", "Pricing", "Docs", "Checkout", "Account", "Blog"}
)

func (g *generator) newUser(n int) *user {
	r := g.rnd
	u := &user{
		id:    "u-" + strconv.Itoa(n) + "-" + strconv.FormatUint(r.Uint64()%1e8, 36),
		anon:  fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, r.Uint32()&0xfff, r.Uint64()&0xffffffffffff),
		first: firstNames[r.IntN(len(firstNames))],
		last:  lastNames[r.IntN(len(lastNames))],
		age:   18 + r.IntN(60),
	}
	u.optInAt = g.cfg.Start.Add(-time.Duration(1+r.IntN(90*24)) * time.Hour)
	u.email = fmt.Sprintf("%s.%s%d@example.com", u.first, u.last, n)
	area := areaCodes[r.IntN(len(areaCodes))]
	exch := 200 + r.IntN(800)
	line := r.IntN(10000)
	switch r.IntN(6) {
	case 0:
		u.phone = fmt.Sprintf("+1%d%d%04d", area, exch, line)
	case 1:
		u.phone = fmt.Sprintf("(%d) %d-%04d", area, exch, line)
	case 2:
		u.phone = fmt.Sprintf("%d-%d-%04d", area, exch, line)
	case 3:
		u.phone = fmt.Sprintf("+1 %d %d %04d", area, exch, line)
	case 4:
		u.phone = fmt.Sprintf("1%d%d%04d", area, exch, line)
		u.phoneNum = true
	default:
		u.phone = fmt.Sprintf("%d.%d.%04d", area, exch, line)
	}
	if r.IntN(50) == 0 { // Rule T8: well-formed but not a valid number
		u.phone, u.phoneNum = "+1 555 555 5555", false
	}
	c := cities[r.IntN(len(cities))]
	u.street = strconv.Itoa(1+r.IntN(999)) + " Maiden Lane"
	u.city, u.state, u.zip = c[0], c[1], c[2]
	nc := 5 + r.IntN(6)
	perm := r.Perm(len(customKeys))
	for _, k := range perm[:nc] {
		u.custom = append(u.custom, [2]string{customKeys[k], g.customValue(customKeys[k])})
	}
	return u
}

func (g *generator) customValue(key string) string {
	r := g.rnd
	switch key {
	case "loanAmount", "creditScore":
		return strconv.Itoa(300 + r.IntN(100000))
	case "newsletter":
		return strconv.FormatBool(r.IntN(2) == 0)
	case "preferences":
		return `{"language":"en","contact":"sms","topics":["loans","offers"]}`
	default:
		return strconv.Quote(key + "-" + strconv.Itoa(r.IntN(100)))
	}
}

// next returns the next line; it is valid until the following call.
func (g *generator) next() []byte {
	r := g.rnd
	i := g.i
	g.i++
	if len(g.recent) > 0 && r.IntN(100) < 5 {
		line := g.recent[r.IntN(len(g.recent))]
		g.buf = append(g.buf[:0], line...)
		return g.buf
	}
	n := r.IntN(g.cfg.Users)
	for len(g.users) <= n {
		g.users = append(g.users, nil)
	}
	u := g.users[n]
	if u == nil {
		u = g.newUser(n)
		g.users[n] = u
	}
	at := g.cfg.Start.Add(time.Duration(i)*time.Second + time.Duration(r.IntN(1000))*time.Millisecond)
	if r.IntN(100) < 3 {
		at = at.Add(-time.Duration(r.IntN(3600)) * time.Second)
	}
	anonOnly := r.IntN(10) == 0
	b := g.buf[:0]
	kind := r.IntN(100)
	switch {
	case kind < 30:
		b = append(b, `{"type":"identify"`...)
	case kind < 90:
		b = append(b, `{"type":"track","event":`...)
		b = strconv.AppendQuote(b, trackNames[r.IntN(len(trackNames))])
	default:
		b = append(b, `{"type":"page","name":`...)
		b = strconv.AppendQuote(b, pages[r.IntN(len(pages))])
	}
	b = append(b, `,"messageId":"ajs-next-`...)
	b = strconv.AppendUint(b, r.Uint64(), 16)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, `","anonymousId":"`...)
	b = append(b, u.anon...)
	b = append(b, '"')
	if !anonOnly {
		b = append(b, `,"userId":"`...)
		b = append(b, u.id...)
		b = append(b, '"')
	}
	b = append(b, `,"timestamp":"`...)
	b = at.AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = append(b, `","sentAt":"`...)
	b = at.Add(250*time.Millisecond).AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = append(b, `","receivedAt":"`...)
	b = at.Add(400*time.Millisecond).AppendFormat(b, "2006-01-02T15:04:05.000Z")
	ip := "203.0." + strconv.Itoa(n%256) + "." + strconv.Itoa(1+n%250)
	b = append(b, `","context":{"ip":"`...)
	b = append(b, ip...)
	b = append(b, `","library":{"name":"analytics.js","version":"5.2.0"},"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15","page":{"path":"/`...)
	b = append(b, pages[n%len(pages)]...)
	b = append(b, `","url":"https://example.com/`...)
	b = append(b, pages[n%len(pages)]...)
	b = append(b, `"}}`...)
	switch {
	case kind < 30:
		b = g.appendTraits(b, u)
	default:
		b = g.appendProperties(b)
	}
	b = append(b, "}\n"...)
	g.buf = b
	line := append([]byte(nil), b...)
	if len(g.recent) < cap(g.recent) {
		g.recent = append(g.recent, line)
	} else {
		g.recent[r.IntN(len(g.recent))] = line
	}
	return b
}

func (g *generator) appendTraits(b []byte, u *user) []byte {
	b = append(b, `,"traits":{"firstName":`...)
	b = strconv.AppendQuote(b, u.first)
	b = append(b, `,"lastName":`...)
	b = strconv.AppendQuote(b, u.last)
	b = append(b, `,"email":`...)
	b = strconv.AppendQuote(b, u.email)
	b = append(b, `,"phone":`...)
	if u.phoneNum {
		b = append(b, u.phone...)
	} else {
		b = strconv.AppendQuote(b, u.phone)
	}
	b = append(b, `,"age":`...)
	b = strconv.AppendInt(b, int64(u.age), 10)
	b = append(b, `,"address":{"street":`...)
	b = strconv.AppendQuote(b, u.street)
	b = append(b, `,"city":`...)
	b = strconv.AppendQuote(b, u.city)
	b = append(b, `,"state":`...)
	b = strconv.AppendQuote(b, u.state)
	b = append(b, `,"postalCode":`...)
	b = strconv.AppendQuote(b, u.zip)
	b = append(b, `,"country":"US"}`...)
	for _, kv := range u.custom {
		b = append(b, ',')
		b = strconv.AppendQuote(b, kv[0])
		b = append(b, ':')
		b = append(b, kv[1]...)
	}
	if g.rnd.IntN(2) == 0 {
		// The consent a form captured; analytics.js re-sends it unchanged with the
		// cached traits, so its timestamp is the first time it was sent.
		b = append(b, `,"optIn":[{"channel":"sms","subscribed":true,"timestamp":"`...)
		b = u.optInAt.AppendFormat(b, time.RFC3339)
		b = append(b, `","ip":"","source":"booking_flow","text":"By checking this box you agree to receive texts."}]`...)
	}
	return append(b, '}')
}

func (g *generator) appendProperties(b []byte) []byte {
	r := g.rnd
	np := 5 + r.IntN(11)
	perm := r.Perm(len(propKeys))
	b = append(b, `,"properties":{`...)
	for j, k := range perm[:np] {
		if j > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, propKeys[k])
		b = append(b, ':')
		switch propKeys[k] {
		case "amount", "price", "revenue", "value":
			b = strconv.AppendInt(b, int64(r.IntN(100000)), 10)
			b = append(b, '.')
			b = strconv.AppendInt(b, int64(10+r.IntN(90)), 10)
		case "quantity", "position", "step":
			b = strconv.AppendInt(b, int64(1+r.IntN(20)), 10)
		default:
			b = strconv.AppendQuote(b, propKeys[k]+"-"+strconv.Itoa(r.IntN(1000)))
		}
	}
	return append(b, '}')
}
