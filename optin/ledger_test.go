package optin

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/regalkit/regalkit/diag"
)

// TestRuleC7_History: every record received, applied or not, is kept with its evidence
// and its outcome; the same record from the same message delivered again is kept once.
func TestRuleC7_History(t *testing.T) {
	type outcome struct {
		id      string
		outcome Outcome
		code    diag.Code
	}
	later := func(r Record) Record { r.ProcessedAt = r.ProcessedAt.Add(time.Hour); return r }
	tests := []struct {
		name    string
		records []Record
		want    []outcome // in canonical order
	}{
		{"applied and superseded",
			[]Record{rec("2020-01-01T00:00:00Z", true, withID("a")), rec("2020-02-01T00:00:00Z", false, withID("b"))},
			[]outcome{{"a", Superseded, ""}, {"b", Applied, ""}}},
		{"refused records are kept with their code",
			[]Record{rec("2020-01-01T00:00:00Z", true, withID("a"), withIP("")), rec("2020-01-02T00:00:00Z", false, withID("b"), withChannel("fax"))},
			[]outcome{{"a", Refused, diag.OptinNoIP}, {"b", Refused, diag.OptinUnknownChannel}}},
		{"undated records are kept, first in the history",
			[]Record{rec("2020-01-01T00:00:00Z", false, withID("a")), {Address: seedPhone, Channel: SMS, MessageID: "b"}},
			[]outcome{{"b", Refused, diag.OptinNoTimestamp}, {"a", Applied, ""}}},
		{"pending records are kept",
			[]Record{rec("2020-01-01T00:00:00Z", true, withID("a"), withAddress(""))},
			[]outcome{{"a", Pending, ""}}},
		{"the same message delivered twice is kept once",
			[]Record{rec("2020-01-01T00:00:00Z", true, withID("a")), later(rec("2020-01-01T00:00:00Z", true, withID("a")))},
			[]outcome{{"a", Applied, ""}}},
		{"the same consent re-sent in another message is kept once, from the earliest message",
			[]Record{rec("2020-01-01T00:00:00Z", true, withID("b")), rec("2020-01-01T00:00:00Z", true, withID("a"), func(r *Record) { r.MessageTime = r.MessageTime.Add(time.Hour) }), rec("2020-01-01T00:00:00Z", true, withID("c"))},
			[]outcome{{"b", Applied, ""}}},
		{"the same consent with other evidence is another record",
			[]Record{rec("2020-01-01T00:00:00Z", true, withID("a")), rec("2020-01-01T00:00:00Z", true, withID("b"), withIP("9.9.9.9"))},
			[]outcome{{"a", Superseded, ""}, {"b", Applied, ""}}},
		{"a record's Refused code is checked, not trusted",
			[]Record{rec("2020-01-01T00:00:00Z", true, withID("a"), withIP("not an ip"))},
			[]outcome{{"a", Refused, diag.OptinNoIP}}},
		{"a Refused code set by the parser stands",
			[]Record{rec("2020-01-01T00:00:00Z", true, withID("a"), func(r *Record) { r.Refused = diag.OptinInvalid })},
			[]outcome{{"a", Refused, diag.OptinInvalid}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			permutations(tt.records, func(order []Record) {
				var l Ledger
				for _, r := range order {
					l.Add(r)
				}
				var got []outcome
				for _, e := range l.Resolve(nil).History() {
					got = append(got, outcome{e.MessageID, e.Outcome, e.Refused})
				}
				assert.Equal(t, tt.want, got)
			})
		})
	}
}

// TestLedger_duplicateKeepsEarliestTimes: a record delivered twice keeps the earliest
// processing and message times, zero counting as unknown.
func TestLedger_duplicateKeepsEarliestTimes(t *testing.T) {
	first := rec("2020-01-01T00:00:00Z", true)
	again := first
	again.ProcessedAt = first.ProcessedAt.Add(time.Hour)
	again.MessageTime = first.MessageTime.Add(-time.Minute)
	unknown := first
	unknown.ProcessedAt, unknown.MessageTime = time.Time{}, time.Time{}

	var l Ledger
	assert.Equal(t, 1, l.Add(again))
	assert.Equal(t, 0, l.Add(first))
	assert.Equal(t, 0, l.Add(unknown))
	assert.Equal(t, 0, l.Add(again))
	require.Equal(t, 1, l.Len())
	got := l.Records()[0]
	assert.Equal(t, first.ProcessedAt, got.ProcessedAt)
	assert.Equal(t, again.MessageTime, got.MessageTime)

	var u Ledger
	u.Add(unknown)
	u.Add(again)
	assert.Equal(t, again.ProcessedAt, u.Records()[0].ProcessedAt, "a known time replaces an unknown one")
}

func TestLedger_AddCounts(t *testing.T) {
	var l Ledger
	a, b := rec("2020-01-01T00:00:00Z", true), rec("2020-02-01T00:00:00Z", false)
	assert.Equal(t, 2, l.Add(a, b, a))
	assert.Equal(t, 0, l.Add(b, a))
	assert.Equal(t, 0, l.Add())
	assert.Equal(t, 1, l.Add(a, rec("2020-03-01T00:00:00Z", true)))
	assert.Equal(t, 3, l.Len())
}

// TestLedger_normalizesTimes: the same instant in another zone or with a monotonic
// reading is the same record.
func TestLedger_normalizesTimes(t *testing.T) {
	a := rec("2020-01-01T00:00:00Z", true)
	b := a
	b.Timestamp = a.Timestamp.In(time.FixedZone("x", 3600))
	b.ProcessedAt = time.Now()
	var l Ledger
	l.Add(a, b)
	require.Equal(t, 1, l.Len())
	got := l.Records()[0]
	assert.Equal(t, time.UTC, got.Timestamp.Location())
	assert.Equal(t, a.Timestamp, got.Timestamp)
}

// TestLedger_valuesInValuesOut: a returned slice or a copied ledger never changes the
// ledger, and the ledger never changes a copy.
func TestLedger_valuesInValuesOut(t *testing.T) {
	var l Ledger
	l.Add(rec("2020-01-01T00:00:00Z", true), rec("2020-03-01T00:00:00Z", true))

	rs := l.Records()
	rs[0].Subscribed = false
	rs[1].Address = otherPhone
	assert.True(t, l.Records()[0].Subscribed)
	assert.Equal(t, seedPhone, l.Records()[1].Address)

	snapshot := l // a copy
	before := snapshot.Records()
	l.Add(rec("2020-02-01T00:00:00Z", false)) // lands between the two
	l.Add(rec("2020-01-01T00:00:00Z", true, withID("m-2020-01-01T00:00:00Z")))
	assert.Equal(t, before, snapshot.Records(), "a copy does not see later changes")
	assert.Equal(t, StateSubscribed, snapshot.Resolve(nil).State(seedPhone, SMS))
	assert.Equal(t, 3, l.Len())

	other := ledgerOf(rec("2020-04-01T00:00:00Z", false))
	var merged Ledger
	merged.Merge(other) // shares other's records
	merged.Add(rec("2020-05-01T00:00:00Z", true))
	assert.Equal(t, 1, other.Len())
	assert.Equal(t, StateUnsubscribed, other.Resolve(nil).State(seedPhone, SMS))
}

func TestLedger_JSON(t *testing.T) {
	var empty Ledger
	b, err := json.Marshal(empty)
	require.NoError(t, err)
	assert.Equal(t, `[]`, string(b))

	records, _ := ParseTrait("traits.optIn", raw(seedOptIn), seedMessage())
	l := ledgerOf(records...)
	b, err = json.Marshal(l)
	require.NoError(t, err)
	var back Ledger
	require.NoError(t, json.Unmarshal(b, &back))
	assert.True(t, l.Equal(back))

	// Unmarshal replaces, and reads null as empty.
	require.NoError(t, json.Unmarshal([]byte(`null`), &back))
	assert.Equal(t, 0, back.Len())

	// An export cannot make a record subscribe without its evidence: it is checked.
	require.NoError(t, json.Unmarshal([]byte(`[{"phone":"+19545552399","channel":"sms","subscribed":true,
		"timestamp":"2020-01-01T00:00:00Z","outcome":"applied"}]`), &back))
	assert.Equal(t, StateNone, back.Resolve(nil).State(seedPhone, SMS))
	assert.Equal(t, diag.OptinNoIP, back.Records()[0].Refused)

	for _, bad := range []string{`{}`, `[1]`, `[{"channel":"sms","timestamp":"later"}]`} {
		err := json.Unmarshal([]byte(bad), &back)
		require.Error(t, err, bad)
		assert.True(t, strings.HasPrefix(err.Error(), "optin: "), err.Error())
	}
}

// TestLedger_noWholeAddressWhenPrinted: records, entries, messages and ledgers print and
// log with their addresses masked.
func TestLedger_noWholeAddressWhenPrinted(t *testing.T) {
	r := rec("2020-01-01T00:00:00Z", true)
	e := rec("2020-01-01T00:00:00Z", true, withChannel(Email), withAddress("rebecca@example.com"))
	l := ledgerOf(r, e, rec("2020-01-01T00:00:00Z", true, withAddress("")))
	v := l.Resolve(BindPrimary([]PhoneWrite{{Phone: otherPhone}}))
	m := seedMessage()
	m.Email = "rebecca@example.com"

	var out strings.Builder
	things := []any{r, e, l, m, &r}
	for _, entry := range v.History() {
		things = append(things, entry)
	}
	for _, x := range things {
		fmt.Fprintf(&out, "%v %+v %#v %s\n", x, x, x, x)
	}
	var logs strings.Builder
	for _, h := range []slog.Handler{slog.NewJSONHandler(&logs, nil), slog.NewTextHandler(&logs, nil)} {
		slog.New(h).Info("consent", "record", r, "email", e, "entry", v.History()[0], "message", m, "ledger", l)
	}
	for _, s := range []string{out.String(), logs.String()} {
		assert.NotContains(t, s, "9545552399")
		assert.NotContains(t, s, "4155550123")
		assert.NotContains(t, s, "rebecca")
	}
	assert.Contains(t, out.String(), "+***2399")
	assert.Contains(t, out.String(), "***@example.com")
	assert.Contains(t, out.String(), "+***0123 (Rule C5)")
	assert.Contains(t, logs.String(), "+***2399")
	assert.Equal(t, `sms opt-in +***2399 2020-01-01T00:00:00Z (message "m-2020-01-01T00:00:00Z")`, r.String())
	assert.Equal(t, "optin.Ledger{3 records}", l.String())
}

// ---- property tests (Rules C5, C6, C7, I3, S3) ----

var base = mustTime("2020-08-25T00:00:00Z")

// genRecord draws records from small domains, so that sets often hold the same record
// twice, ties, several records for one phone and channel, and every kind of refusal.
func genRecord() *rapid.Generator[Record] {
	zones := []*time.Location{time.UTC, time.FixedZone("plus2", 7200), time.FixedZone("minus5", -5*3600)}
	genTime := func(t *rapid.T, label string, maxSteps int, step time.Duration, zeroOK bool) time.Time {
		n := rapid.IntRange(-1, maxSteps).Draw(t, label)
		if n < 0 {
			if zeroOK {
				return time.Time{}
			}
			n = 0
		}
		return base.Add(time.Duration(n) * step).In(rapid.SampledFrom(zones).Draw(t, label+"Zone"))
	}
	return rapid.Custom(func(t *rapid.T) Record {
		r := Record{
			Address:    rapid.SampledFrom([]string{"", seedPhone, seedPhone, otherPhone}).Draw(t, "address"),
			Channel:    rapid.SampledFrom([]Channel{SMS, SMS, SMS, Voice, Email, "fax"}).Draw(t, "channel"),
			Subscribed: rapid.Bool().Draw(t, "subscribed"),
			Timestamp:  genTime(t, "timestamp", 2, time.Hour, true),
			IP:         rapid.SampledFrom([]string{"8.8.8.8", "8.8.8.8", "8.8.8.8", "", "::1", "bogus"}).Draw(t, "ip"),
			Source:     rapid.SampledFrom([]string{"", "form", "STOP"}).Draw(t, "source"),
			Text:       rapid.SampledFrom([]string{"", "ok"}).Draw(t, "text"),
			MessageID:  rapid.SampledFrom([]string{"m0", "m1", "m2", "m3"}).Draw(t, "messageId"),
		}
		r.MessageTime = genTime(t, "messageTime", 5, 24*time.Hour, true)
		r.ProcessedAt = genTime(t, "processedAt", 1000, time.Second, true)
		if rapid.IntRange(0, 19).Draw(t, "parserRefused") == 0 {
			r.Refused = diag.OptinInvalid
		}
		return r
	})
}

func genWrites() *rapid.Generator[[]PhoneWrite] {
	return rapid.SliceOfN(rapid.Custom(func(t *rapid.T) PhoneWrite {
		return PhoneWrite{
			Phone:     rapid.SampledFrom([]string{seedPhone, otherPhone, thirdPhone}).Draw(t, "phone"),
			Time:      base.Add(time.Duration(rapid.IntRange(0, 5).Draw(t, "day")) * 24 * time.Hour),
			MessageID: rapid.SampledFrom([]string{"p0", "p1"}).Draw(t, "id"),
		}
	}), 0, 3)
}

// redeliveries draws the records as Segment might deliver them: each at least once,
// some several times, each time processed at another time (or the same).
func redeliveries(t *rapid.T, records []Record) []Record {
	var all []Record
	for _, r := range records {
		all = append(all, r)
		for range rapid.IntRange(0, 2).Draw(t, "copies") {
			if rapid.Bool().Draw(t, "reprocessed") {
				r.ProcessedAt = base.Add(time.Duration(rapid.IntRange(0, 2000).Draw(t, "processedAt")) * time.Second)
			}
			all = append(all, r)
		}
	}
	return all
}

// deliveries draws the records redelivered, in any order, in batches of any size.
func deliveries(t *rapid.T, records []Record) [][]Record {
	return batches(t, redeliveries(t, records))
}

// batches draws an order of all and cuts it into batches of any size.
func batches(t *rapid.T, all []Record) [][]Record {
	all = rapid.Permutation(all).Draw(t, "order")
	var batches [][]Record
	for len(all) > 0 {
		n := rapid.IntRange(1, len(all)).Draw(t, "batch")
		batches = append(batches, all[:n])
		all = all[n:]
	}
	return batches
}

func apply(batches [][]Record) Ledger {
	var l Ledger
	for _, b := range batches {
		l.Add(b...)
	}
	return l
}

// TestProperty_OrderAndDuplicatesDoNotMatter (Rules C5–C7, S3): for any set of records,
// every delivery order, any duplication and any batching give the same ledger, the same
// states and the same history with the same outcomes.
func TestProperty_OrderAndDuplicatesDoNotMatter(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		records := rapid.SliceOfN(genRecord(), 0, 8).Draw(t, "records")
		writes := genWrites().Draw(t, "writes")
		delivered := redeliveries(t, records)
		a := apply(batches(t, delivered))
		b := apply(batches(t, delivered))
		if !a.Equal(b) {
			t.Fatalf("ledgers differ:\n%v\n%v", a.Records(), b.Records())
		}
		once := apply([][]Record{records}) // each record delivered once
		va := a.Resolve(BindPrimary(writes))
		vb := b.Resolve(BindPrimary(rapid.Permutation(writes).Draw(t, "writeOrder")))
		vo := once.Resolve(BindPrimary(writes))
		assert.Equal(t, va.History(), vb.History())
		assert.Equal(t, withoutProcessedAt(va.History()), withoutProcessedAt(vo.History()),
			"duplicates change nothing but the earliest processing time")
		for _, addr := range []string{seedPhone, otherPhone, thirdPhone, ""} {
			for _, ch := range []Channel{SMS, Voice, Email} {
				assert.Equal(t, va.State(addr, ch), vb.State(addr, ch))
				assert.Equal(t, va.State(addr, ch), vo.State(addr, ch))
			}
			assert.Equal(t, va.OptIns(addr), vb.OptIns(addr))
			assert.Equal(t, va.OptIns(addr), vo.OptIns(addr))
		}
	})
}

func withoutProcessedAt(h []Entry) []Entry {
	for i := range h {
		h[i].ProcessedAt = time.Time{}
	}
	return h
}

// TestProperty_AppendOnly (Rule C7): adding never loses a record, and the ledger holds
// exactly the distinct records it was given.
func TestProperty_AppendOnly(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var l Ledger
		seen := map[Record]bool{} // normalized records compare with ==
		for _, batch := range deliveries(t, rapid.SliceOfN(genRecord(), 0, 8).Draw(t, "records")) {
			before := l.Records()
			added := l.Add(batch...)
			for _, r := range batch {
				n := normalize(r)
				n.MessageTime, n.ProcessedAt, n.MessageID = time.Time{}, time.Time{}, ""
				seen[n] = true
			}
			if l.Len() != len(before)+added {
				t.Fatalf("Len %d after adding %d to %d", l.Len(), added, len(before))
			}
			for _, r := range before {
				if _, found := l.find(&r); !found {
					t.Fatalf("record lost: %v", r)
				}
			}
		}
		assert.Equal(t, len(seen), l.Len())
	})
}

// TestProperty_MergeIsALattice (Rule I3): merging is commutative, associative and
// idempotent, and equals adding both ledgers' records in any order.
func TestProperty_MergeIsALattice(t *testing.T) {
	gen := rapid.Custom(func(t *rapid.T) Ledger {
		return apply(deliveries(t, rapid.SliceOfN(genRecord(), 0, 6).Draw(t, "records")))
	})
	merge := func(x, y Ledger) Ledger { x.Merge(y); return x }
	rapid.Check(t, func(t *rapid.T) {
		a, b, c := gen.Draw(t, "a"), gen.Draw(t, "b"), gen.Draw(t, "c")
		ab, ba := merge(a, b), merge(b, a)
		if !ab.Equal(ba) {
			t.Fatalf("not commutative:\n%v\n%v", ab.Records(), ba.Records())
		}
		if l, r := merge(merge(a, b), c), merge(a, merge(b, c)); !l.Equal(r) {
			t.Fatalf("not associative:\n%v\n%v", l.Records(), r.Records())
		}
		if aa := merge(a, a); !aa.Equal(a) {
			t.Fatalf("not idempotent:\n%v\n%v", aa.Records(), a.Records())
		}
		if abb := merge(ab, b); !abb.Equal(ab) {
			t.Fatal("merging a part again changed the ledger")
		}
		all := append(a.Records(), b.Records()...)
		if added := apply([][]Record{rapid.Permutation(all).Draw(t, "order")}); !added.Equal(ab) {
			t.Fatalf("merge differs from adding both:\n%v\n%v", added.Records(), ab.Records())
		}
		// The operands are values: merging did not change them.
		assert.True(t, a.Equal(merge(Ledger{}, a)))
	})
}

// TestProperty_NewestDecides (Rules C6, C9): in every view, each (address, channel) with
// a valid record has exactly one applied record, none of the others is newer, an opt-out
// at the newest timestamp always wins, and the state is the applied record's.
func TestProperty_NewestDecides(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		l := apply(deliveries(t, rapid.SliceOfN(genRecord(), 0, 10).Draw(t, "records")))
		v := l.Resolve(BindPrimary(genWrites().Draw(t, "writes")))
		type slot struct {
			addr string
			ch   Channel
		}
		groups := map[slot][]Entry{}
		for _, e := range v.History() {
			switch e.Outcome {
			case Refused:
				if e.Refused == "" || e.Check() != e.Refused {
					t.Fatalf("refused without its code: %v", e)
				}
				continue
			case Pending:
				if e.AppliesTo != "" || e.Address != "" {
					t.Fatalf("pending with an address: %v", e)
				}
				continue
			}
			if e.Refused != "" || e.AppliesTo == "" {
				t.Fatalf("bad %s entry: %v", e.Outcome, e)
			}
			groups[slot{e.AppliesTo, e.Channel}] = append(groups[slot{e.AppliesTo, e.Channel}], e)
		}
		for s, es := range groups {
			var applied []Entry
			newest := es[0].Timestamp
			optOutAtNewest := false
			for _, e := range es {
				if e.Outcome == Applied {
					applied = append(applied, e)
				}
				if e.Timestamp.After(newest) {
					newest, optOutAtNewest = e.Timestamp, false
				}
				if e.Timestamp.Equal(newest) && !e.Subscribed {
					optOutAtNewest = true
				}
			}
			require.Len(t, applied, 1, "one applied record per slot")
			win := applied[0]
			assert.True(t, win.Timestamp.Equal(newest), "the applied record is the newest")
			if optOutAtNewest {
				assert.False(t, win.Subscribed, "an opt-out at the newest timestamp wins")
			}
			want := StateUnsubscribed
			if win.Subscribed {
				want = StateSubscribed
				assert.True(t, isIP(win.IP), "an applied opt-in has an IP")
			}
			assert.Equal(t, want, v.State(s.addr, s.ch))
			assert.Equal(t, win.Subscribed, v.OptIns(s.addr)[s.ch].Subscribed)
		}
		assert.Len(t, v.Addresses(), len(func() map[string]bool {
			m := map[string]bool{}
			for s := range groups {
				m[s.addr] = true
			}
			return m
		}()))
	})
}

// TestProperty_JSONRoundTrip: a ledger read back from its own JSON, or from its view's
// history as the contact export writes it, is equal to the original and resolves to
// the same view.
func TestProperty_JSONRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		l := apply(deliveries(t, rapid.SliceOfN(genRecord(), 0, 8).Draw(t, "records")))
		bind := BindPrimary(genWrites().Draw(t, "writes"))
		v := l.Resolve(bind)

		b, err := json.Marshal(l)
		require.NoError(t, err)
		var fromLedger Ledger
		require.NoError(t, json.Unmarshal(b, &fromLedger))
		if !l.Equal(fromLedger) {
			t.Fatalf("ledger JSON round trip differs:\n%s", b)
		}

		b, err = json.Marshal(v.History())
		require.NoError(t, err)
		var fromExport Ledger
		require.NoError(t, json.Unmarshal(b, &fromExport))
		if !l.Equal(fromExport) {
			t.Fatalf("export round trip differs:\n%s", b)
		}
		assert.Equal(t, v.History(), fromExport.Resolve(bind).History())

		var entries []Entry
		require.NoError(t, json.Unmarshal(b, &entries))
		assert.Equal(t, v.History(), entries)
	})
}

// TestLedger_concurrentUse: readers of a copy, of a view and of an Events never race
// with a writer of the original (run with -race).
func TestLedger_concurrentUse(t *testing.T) {
	var l Ledger
	l.Add(rec("2020-01-01T00:00:00Z", true))
	snapshot := l
	v := l.Resolve(nil)
	events, err := NewEvents(map[string][]Channel{"In": nil}, nil)
	require.NoError(t, err)

	done := make(chan struct{})
	for range 2 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 50 {
				assert.Equal(t, StateSubscribed, snapshot.Resolve(nil).State(seedPhone, SMS))
				assert.Equal(t, StateSubscribed, v.State(seedPhone, SMS))
				_, _ = json.Marshal(snapshot)
				records, _ := events.Records("In", seedMessage())
				assert.Len(t, records, 2)
			}
		}()
	}
	for i := range 50 {
		l.Add(rec("2020-01-02T00:00:00Z", i%2 == 0, withID(fmt.Sprint(i)), withSource(fmt.Sprint(i))))
	}
	<-done
	<-done
	assert.Equal(t, 51, l.Len())
	assert.Equal(t, 1, snapshot.Len())
}

func TestLedger_Erase_RuleI7(t *testing.T) {
	var l Ledger
	l.Add(rec("2020-01-01T00:00:00Z", true), rec("2020-03-01T00:00:00Z", false), rec("2020-05-01T00:00:00Z", true))
	snapshot := l
	assert.Equal(t, 2, l.Erase(mustTime("2020-04-01T00:00:00Z"), "d"))
	require.Equal(t, 1, l.Len())
	assert.Equal(t, mustTime("2020-05-01T00:00:00Z"), l.Records()[0].Timestamp)
	assert.Equal(t, 3, snapshot.Len(), "a copy taken before keeps its records")
	assert.Zero(t, l.Erase(mustTime("2020-04-01T00:00:00Z"), "d"))
	// At the delete's own time, messageIds order the messages.
	assert.Zero(t, l.Erase(mustTime("2020-05-01T00:00:00Z"), "m-2020-05-01T00:00:00Z"))
	assert.Equal(t, 1, l.Erase(mustTime("2020-05-01T00:00:00Z"), "n"))
}
