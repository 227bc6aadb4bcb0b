package contactcore

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/optin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// mutate draws one of the writes the processor makes to a contact and makes it, so
// that every path that writes a contact's memory is exercised.
func mutate(t *rapid.T, c *Contact, msgs []*event.Message, label string) {
	users := []string{"u1", "u2", "u3"}
	anons := []string{"a1", "a2", "a3"}
	at := func(name string) (time.Time, string) {
		m := rapid.IntRange(0, 5).Draw(t, label+" "+name+" minute")
		return seedTime.Add(time.Duration(m) * time.Minute), fmt.Sprintf("%s-%s-%d", label, name, m)
	}
	m := rapid.SampledFrom(msgs).Draw(t, label+" message")
	switch op := rapid.IntRange(0, 14).Draw(t, label+" op"); op {
	case 0, 1:
		m2 := *m
		m2.UserID = rapid.SampledFrom(users).Draw(t, label+" user")
		c.ApplyTraits(&m2, nil)
	case 2:
		m2 := *m
		m2.UserID, m2.AnonymousID = "", rapid.SampledFrom(anons).Draw(t, label+" anon")
		h, _ := NewHeld(&m2, nil, rapid.Bool().Draw(t, label+" event"), nil)
		c.Hold(h)
	case 3:
		c.Release(rapid.SampledFrom(anons).Draw(t, label+" release"), func(Held) bool { return true })
	case 4:
		tm, id := at("link")
		c.LinkAs(rapid.SampledFrom(users).Draw(t, label+" link user"), rapid.SampledFrom(anons).Draw(t, label+" link anon"), tm, id)
	case 5:
		c.AddAnonymousID(rapid.SampledFrom(anons).Draw(t, label+" add anon"))
	case 6:
		c.RemoveAnonymousID(rapid.SampledFrom(anons).Draw(t, label+" remove anon"))
	case 7:
		c.SetUserID(rapid.SampledFrom(users).Draw(t, label+" set user"))
	case 8:
		o := New("")
		o.SetUserID(rapid.SampledFrom(users).Draw(t, label+" merge user"))
		mutate(t, o, msgs, label+" merged")
		if rapid.Bool().Draw(t, label+" absorb") {
			tm, id := at("absorb")
			c.Absorb(o, []EventRef{{MessageID: id, Time: tm}})
		} else {
			c.Merge(o)
		}
	case 9:
		tm, id := at("erase")
		c.EraseUser(rapid.SampledFrom(users).Draw(t, label+" erase user"), tm, id)
	case 10:
		tm, id := at("alias")
		c.AddAlias(identity.Alias{PreviousID: rapid.SampledFrom(users).Draw(t, label+" prev"), UserID: c.UserID(), Time: tm, MessageID: id})
	case 11:
		tm, id := at("event")
		c.NoteEvent(rapid.SampledFrom(users).Draw(t, label+" event user"), EventRef{MessageID: id, Time: tm})
	case 12:
		c.SplitUser(rapid.SampledFrom(users).Draw(t, label+" split"))
	case 13:
		var recs []optin.Record
		if rapid.Bool().Draw(t, label+" keyword reply") {
			tm, id := at("keyword")
			recs = append(recs, optin.Record{
				Address: "+19545552399", Channel: optin.SMS, Subscribed: rapid.Bool().Draw(t, label+" start"),
				Timestamp: tm, Source: optin.SourceSMSKeyword, MessageID: id, MessageTime: tm,
			})
		}
		c.SetKeywordConsent(recs)
	case 14:
		tm, id := at("consent")
		c.AddConsentAs(rapid.SampledFrom(users).Draw(t, label+" consent user"), optin.Record{
			Address: "+19545552399", Channel: optin.SMS, Subscribed: rapid.Bool().Draw(t, label+" subscribed"),
			Timestamp: tm, Source: "form", MessageID: id, MessageTime: tm,
		})
	}
}

// drawnContact returns contact c1 of user u1 after at least min drawn writes of msgs.
func drawnContact(t *rapid.T, msgs []*event.Message, min int) *Contact {
	c := New("c1")
	c.SetUserID("u1")
	for i := range rapid.IntRange(min, 8).Draw(t, "before") {
		mutate(t, c, msgs, fmt.Sprint("before ", i))
	}
	return c
}

// TestClone_copyOnWrite: a clone and its original share memory until one writes it
// (see Contact.Clone). Whatever either does afterwards, the other stays exactly what it
// was, byte for byte in the storage encoding, which holds every clock (Rule S3 depends
// on it: a Store never shares memory with its callers).
func TestClone_copyOnWrite(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		msgs := genMessages(t)
		c := drawnContact(t, msgs, 0)
		want := snapshot(t, c)
		d := c.Clone()
		// Clone again from the clone and from the original, as a store does on
		// every read, so that sharing reaches three ways.
		var extra []*Contact
		for range rapid.IntRange(0, 2).Draw(t, "clones") {
			src := rapid.SampledFrom([]*Contact{c, d}).Draw(t, "clone of")
			extra = append(extra, src.Clone())
		}
		writer, kept := d, c
		if rapid.Bool().Draw(t, "write the original") {
			writer, kept = c, d
		}
		for i := range rapid.IntRange(1, 8).Draw(t, "after") {
			mutate(t, writer, msgs, fmt.Sprint("after ", i))
			for j, e := range extra {
				if rapid.Bool().Draw(t, fmt.Sprint("write extra ", i, j)) {
					mutate(t, e, msgs, fmt.Sprint("extra ", i, j))
				}
			}
		}
		if got := snapshot(t, kept); got != want {
			t.Fatalf("a write to a clone showed in another:\nbefore: %s\nafter:  %s", want, got)
		}
		if !reflect.DeepEqual(emptyState, state{}) {
			t.Fatalf("a write reached emptyState, which every new contact shares: %+v", emptyState)
		}
	})
}

// snapshot renders everything c holds: its storage document (own state, parts, held
// messages, clocks) and its export with clocks (the state it shows, which the storage
// document leaves out when it can be rebuilt).
func snapshot(t *rapid.T, c *Contact) string {
	stored, err := EncodeStorage(c)
	if err != nil {
		t.Fatal(err)
	}
	shown, err := json.Marshal(c.exportDoc(nil, true))
	if err != nil {
		t.Fatal(err)
	}
	return string(stored) + "\n" + string(shown)
}

// TestShare_concurrentClones: a contact that Share made own nothing is cloned by many
// goroutines at once, each changing its clone, and stays what it was. Under -race this
// shows that Clone of a shared contact writes nothing (a Store keeps the contact it is
// given and clones it for concurrent readers; see Contact.Share).
func TestShare_concurrentClones(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		msgs := genMessages(t)
		c := drawnContact(t, msgs, 1)
		c.Share()
		if !c.Shared() {
			t.Fatal("Share left c owning a slice")
		}
		want := snapshot(t, c)
		// The writes are drawn here: rapid.T is not for concurrent use.
		writes := make([][]func(*Contact), 4)
		for g := range writes {
			for i := range rapid.IntRange(0, 4).Draw(t, fmt.Sprint("writes ", g)) {
				writes[g] = append(writes[g], drawWrite(t, msgs, fmt.Sprint("goroutine ", g, " ", i)))
			}
		}
		var wg sync.WaitGroup
		for _, ws := range writes {
			wg.Go(func() {
				d := c.Clone()
				for _, w := range ws {
					w(d)
				}
				_ = d.Clone() // a clone of a clone, which may own slices
			})
		}
		wg.Wait()
		if !c.Shared() {
			t.Fatal("a clone gave c a slice back")
		}
		if got := snapshot(t, c); got != want {
			t.Fatalf("a write to a clone showed in the shared original:\nbefore: %s\nafter:  %s", want, got)
		}
	})
}

// drawWrite draws a write to be made later, from another goroutine: the merge of a
// contact that mutate changed (which writes every part of a contact Merge reaches),
// then a change of External ID, or the removal of an anonymous ID.
func drawWrite(t *rapid.T, msgs []*event.Message, label string) func(*Contact) {
	o := New("scratch")
	o.SetUserID(rapid.SampledFrom([]string{"u1", "u2"}).Draw(t, label+" merged user"))
	mutate(t, o, msgs, label)
	user := rapid.SampledFrom([]string{"u1", "u2", "u3"}).Draw(t, label+" user")
	anon := rapid.SampledFrom([]string{"a1", "a2", "a3"}).Draw(t, label+" anon")
	return func(d *Contact) {
		d.Merge(o)
		d.SetUserID(user)
		d.RemoveAnonymousID(anon)
	}
}

// TestHold_RuleI4_clonesAppendApart: clones of one stored contact (transactions on it) that each
// hold a newer message append to the array they share only when no other clone has
// taken the slot (appendHeld's claim): each sees its own message and not the other's,
// and the original sees neither, however many clones and appends, in parallel under
// -race too.
func TestHold_RuleI4_clonesAppendApart(t *testing.T) {
	held := func(anon, id string, minute int) Held {
		h, _ := NewHeld(&event.Message{Kind: event.Track, AnonymousID: anon, MessageID: id, Event: "E", Time: seedTime.Add(time.Duration(minute) * time.Minute)}, nil, true, nil)
		return h
	}
	ids := func(c *Contact) []string {
		var out []string
		for _, h := range c.Held() {
			out = append(out, h.MessageID)
		}
		return out
	}
	c := New("c")
	for i := range 2 * minClaimedHeld { // long enough for appendHeld to claim
		c.Hold(held("a1", fmt.Sprint("m", i), i))
	}
	c.Share()
	// One after another: the first clone takes the free slot, the second copies.
	d1, d2 := c.Clone(), c.Clone()
	d1.Hold(held("a1", "d1", 100))
	d2.Hold(held("a1", "d2", 100))
	d1.Hold(held("a1", "d1b", 101))
	want := ids(c)
	assert.Len(t, want, 2*minClaimedHeld)
	assert.Equal(t, append(slices.Clone(want), "d1", "d1b"), ids(d1))
	assert.Equal(t, append(slices.Clone(want), "d2"), ids(d2))
	// A clone of a clone that took the slot goes on from there; its sibling copies.
	d1.Share()
	e1, e2 := d1.Clone(), d1.Clone()
	e2.Hold(held("a1", "e2", 200))
	e1.Hold(held("a1", "e1", 200))
	assert.Equal(t, append(ids(d1), "e2"), ids(e2))
	assert.Equal(t, append(ids(d1), "e1"), ids(e1))
	assert.Len(t, ids(d1), 2*minClaimedHeld+2)

	// In parallel.
	var wg sync.WaitGroup
	got := make([][]string, 8)
	for g := range got {
		wg.Go(func() {
			d := c.Clone()
			for k := range 20 {
				d.Hold(held("a1", fmt.Sprint("g", g, "-", k), 300+k))
			}
			got[g] = ids(d)
		})
	}
	wg.Wait()
	for g, ids := range got {
		require.Len(t, ids, len(want)+20, "goroutine %d", g)
		assert.Equal(t, want, ids[:len(want)], "goroutine %d", g)
		for k, id := range ids[len(want):] {
			assert.Equal(t, fmt.Sprint("g", g, "-", k), id, "goroutine %d", g)
		}
	}
	assert.Equal(t, want, ids(c), "the original")
}
