package pgstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/regalkit/regalkit/segmentio"
)

// processAll runs msgs through p with the given number of workers, each taking the
// next message in the order of perm.
func processAll(tb testing.TB, p *regalkit.Processor, msgs []event.Message, perm []int, workers int) {
	tb.Helper()
	var wg sync.WaitGroup
	next := make(chan int)
	var failed sync.Once
	var firstErr error
	for range workers {
		wg.Go(func() {
			for i := range next {
				if _, err := p.Process(context.Background(), msgs[i]); err != nil {
					failed.Do(func() { firstErr = err })
				}
			}
		})
	}
	for _, i := range perm {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		tb.Fatalf("processing: %v", firstErr)
	}
}

func inOrder(n int) []int {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	return perm
}

// TestTwoProcessorsOneDatabase: two Processors, each on a pool of its own (two
// replicas of a service), process the same 5,000 messages for 50 users at the same
// time, four workers each, in different orders. They end with exactly the contacts,
// events and consent that one Processor makes processing the messages one by one
// (Rules S2, S3), and every message is applied once (Rule E2).
func TestTwoProcessorsOneDatabase(t *testing.T) {
	const messages, users = 5000, 50
	// Deletes included: since issue 11 a delete converges in every order (Rule I7).
	msgs := corpus(t, 1, messages, users, true)

	sequential := newTestStore(t)
	processAll(t, regalkit.New(sequential, processorOptions("seq")), msgs, inOrder(len(msgs)), 1)
	want := canonical(t, sequential)
	require.NotEmpty(t, want)

	// The same messages in memory, one by one: the reference store agrees.
	mem := memstore.New()
	processAll(t, regalkit.New(mem, processorOptions("mem")), msgs, inOrder(len(msgs)), 1)
	sameContacts(t, canonical(t, mem), want, "pgstore and memstore, one message at a time")

	schema := testSchema(t)
	// 50 users under 8 workers conflict a lot on a loaded machine: the bound on
	// retries is not what this test is about (TestUpdateGivesUpWithErrConflict is).
	a := openStore(t, testPool(t, schema, nil), &Options{MaxAttempts: 1000})
	b := openStore(t, testPool(t, schema, nil), &Options{MaxAttempts: 1000})
	permA := rand.New(rand.NewPCG(2, 2)).Perm(len(msgs))
	permB := rand.New(rand.NewPCG(3, 3)).Perm(len(msgs))
	var wg sync.WaitGroup
	wg.Go(func() { processAll(t, regalkit.New(a, processorOptions("a")), msgs, permA, 4) })
	wg.Go(func() { processAll(t, regalkit.New(b, processorOptions("b")), msgs, permB, 4) })
	wg.Wait()

	sameContacts(t, want, canonical(t, a), "two Processors at once, against one at a time")
	sameContacts(t, want, canonical(t, b), "the second replica reads the same contacts")

	// Every message is marked processed once: a third pass finds only duplicates.
	p := regalkit.New(a, processorOptions("again"))
	for _, m := range msgs[:200] {
		res, err := p.Process(context.Background(), m)
		require.NoError(t, err)
		assert.True(t, res.Duplicate, "message %s processed again", m.MessageID)
	}
}

// TestUpdateGivesUpWithErrConflict: a transaction that loses its race on every run ends
// with an error matching contact.ErrConflict after Options.MaxAttempts runs, and what it
// wrote is not kept.
func TestUpdateGivesUpWithErrConflict(t *testing.T) {
	pool := testPool(t, testSchema(t), nil)
	s := openStore(t, pool, &Options{MaxAttempts: 3})
	ctx := context.Background()
	require.NoError(t, s.Update(ctx, func(tx contact.Tx) error { return tx.Insert(contact.New("c-1")) }))

	runs := 0
	err := s.Update(ctx, func(tx contact.Tx) error {
		runs++
		c, err := tx.Contact("c-1")
		if err != nil {
			return err
		}
		// Another transaction changes c-1 after this one read it, every time.
		if err := s.Update(ctx, func(tx contact.Tx) error {
			other, err := tx.Contact("c-1")
			if err != nil {
				return err
			}
			(*contactcore.Contact)(other).AddAnonymousID("other")
			return tx.Put(other)
		}); err != nil {
			return err
		}
		(*contactcore.Contact)(c).AddAnonymousID("mine")
		return tx.Put(c)
	})
	require.ErrorIs(t, err, contact.ErrConflict)
	assert.Equal(t, 3, runs, "runs of the transaction")
	c, err := s.Contact(ctx, "c-1")
	require.NoError(t, err)
	assert.Equal(t, []string{"other"}, c.AnonymousIDs(), "the losing transaction left nothing")
}

// TestUpdateReturnsFnErrorAfterAStoreFailure: fn's error comes back as it is, and a
// statement that fails for a reason other than a race is not retried.
func TestUpdateReturnsFnError(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	mine := errors.New("mine")
	runs := 0
	err := s.Update(ctx, func(tx contact.Tx) error {
		runs++
		if err := tx.Insert(contact.New("c-1")); err != nil {
			return err
		}
		return mine
	})
	assert.ErrorIs(t, err, mine)
	assert.Equal(t, 1, runs)
	_, err = s.Contact(ctx, "c-1")
	assert.ErrorIs(t, err, contact.ErrNotFound)
}

// sameContacts compares two canonical states, reporting the count and the first
// difference rather than both states whole.
func sameContacts(tb testing.TB, want, got []string, msg string) {
	tb.Helper()
	if slices.Equal(want, got) {
		return
	}
	short := func(s string) string {
		if len(s) > 1500 {
			return s[:1500] + "..."
		}
		return s
	}
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			tb.Errorf("%s: %d contacts, want %d; first difference at %d:\nwant %s\ngot  %s", msg, len(got), len(want), i, short(want[i]), short(got[i]))
			return
		}
	}
	tb.Errorf("%s: %d contacts, want %d", msg, len(got), len(want))
}

// TestProcessedAloneMarksNothing: asking whether a messageId was processed, without
// marking it, leaves it unprocessed, in a transaction that commits and in one that
// fails.
func TestProcessedAloneMarksNothing(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	ask := func(tx contact.Tx) (bool, error) { return tx.Processed("m-1") }
	require.NoError(t, s.Update(ctx, func(tx contact.Tx) error {
		done, err := ask(tx)
		assert.False(t, done)
		again, _ := ask(tx)
		assert.False(t, again, "asked twice in one transaction")
		return err
	}))
	mine := errors.New("mine")
	require.ErrorIs(t, s.Update(ctx, func(tx contact.Tx) error {
		_, err := ask(tx)
		if err != nil {
			return err
		}
		return mine
	}), mine)
	require.NoError(t, s.Update(ctx, func(tx contact.Tx) error {
		done, err := ask(tx)
		assert.False(t, done, "after transactions that only asked")
		if err != nil {
			return err
		}
		return tx.MarkProcessed("m-1")
	}))
	require.NoError(t, s.Update(ctx, func(tx contact.Tx) error {
		done, err := ask(tx)
		assert.True(t, done, "after a transaction that marked it")
		return err
	}))
}

// TestEdgesOfTheTimeRange_sameAsMemstore_RuleS3: messages dated in the last and first seconds
// Rule D4 accepts (within two seconds of 2262-04-11T23:47:16.854775807Z and of
// 1677-09-21T00:12:43.145224192Z) give pgstore the contacts memstore gives, in every
// arrival order: a contact read back from its stored document finds the messages it
// holds, moves them on a link (Rules I3, I4) and keeps them out of sight of a delete
// (Rule I7). A stamp once saturated such times, and the document wrote the saturated
// time back.
func TestEdgesOfTheTimeRange_sameAsMemstore_RuleS3(t *testing.T) {
	decode := func(payloads ...string) []event.Message {
		var out []event.Message
		for _, p := range payloads {
			items, err := segmentio.DecodeAll([]byte(p), nil)
			require.NoError(t, err)
			require.Len(t, items, 1)
			require.NoError(t, items[0].Err, p)
			out = append(out, items[0].Message)
		}
		return out
	}
	for _, at := range []string{"2262-04-11T23:47:16Z", "2262-04-11T23:47:16.8Z", "1677-09-21T00:12:44Z"} {
		held := `{"type":"track","messageId":"m3","anonymousId":"a1","event":"Viewed","timestamp":"` + at + `"}`
		link := `{"type":"identify","messageId":"m1","userId":"u1","anonymousId":"a1","timestamp":"2024-03-01T12:00:00Z"}`
		sets := [][]event.Message{
			decode(held, link),
			decode(held, link, `{"type":"identify","messageId":"m2","userId":"u2","anonymousId":"a1","timestamp":"2024-03-01T13:00:00Z"}`),
		}
		if strings.HasPrefix(at, "2262") {
			sets = append(sets, decode(link, held, `{"type":"delete","messageId":"m4","userId":"u1","timestamp":"2262-04-11T23:47:16.85Z"}`))
		}
		for _, msgs := range sets {
			mem := memstore.New()
			processAll(t, regalkit.New(mem, processorOptions("mem")), msgs, inOrder(len(msgs)), 1)
			want := canonical(t, mem)
			for _, perm := range permutations(len(msgs)) {
				pg := newTestStore(t)
				processAll(t, regalkit.New(pg, processorOptions("pg")), msgs, perm, 1)
				sameContacts(t, want, canonical(t, pg), fmt.Sprintf("%s, order %v", at, perm))
			}
		}
	}
}

// permutations returns every order of n items.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := slices.Insert(slices.Clone(p), i, n-1)
			out = append(out, q)
		}
	}
	return out
}

// TestResentValuesChangeNothing_RuleO1: an identify sent again with a custom value or
// address sub-key holding &, < or > changes nothing in pgstore, as in memstore: the
// stored document keeps the value's bytes, so no update for Regal is queued again.
func TestResentValuesChangeNothing_RuleO1(t *testing.T) {
	msg := func(id, at string) string {
		return `{"type":"identify","messageId":"` + id + `","userId":"u1","timestamp":"` + at +
			`","traits":{"company":"Johnson & Johnson","phone":"+19545552399","address":{"unit":"<4B>"}}}`
	}
	p := regalkit.New(newTestStore(t), processorOptions("pg"))
	for i, at := range []string{"2024-03-01T12:01:00Z", "2024-03-01T12:02:00Z"} {
		items, err := segmentio.DecodeAll([]byte(msg(fmt.Sprint("m", i), at)), nil)
		require.NoError(t, err)
		res, err := p.Process(context.Background(), items[0].Message)
		require.NoError(t, err)
		if i == 1 {
			assert.Empty(t, res.Changed, "the same values again")
		}
	}
}

// TestLongIdentifiersAndNames_RuleD6: identifiers and event names as long as Rule D6
// allows (event.MaxIDBytes, event.MaxNameBytes), in text that does not compress, fit
// the store's indexes; one byte more is a diagnostic for that message alone, as on the
// memory store, not a store error that would fail its whole delivery (and have Segment
// send it again and again).
func TestLongIdentifiersAndNames_RuleD6(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 7))
	noise := func(n int) string {
		const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"
		b := make([]byte, n)
		for i := range b {
			b[i] = letters[rng.IntN(len(letters))]
		}
		return string(b)
	}
	user, anon, name, group := noise(event.MaxIDBytes), noise(event.MaxIDBytes), noise(event.MaxNameBytes), noise(event.MaxIDBytes)
	payload := fmt.Sprintf(`[{"type":"identify","messageId":"l1","userId":%q,"anonymousId":%q,"timestamp":"2024-03-01T12:00:00Z"},`+
		`{"type":"track","messageId":"l2","userId":%q,"event":%q,"timestamp":"2024-03-01T12:01:00Z"},`+
		`{"type":"group","messageId":"l3","userId":%q,"groupId":%q,"timestamp":"2024-03-01T12:02:00Z"},`+
		`{"type":"alias","messageId":"l4","userId":%q,"previousId":%q,"timestamp":"2024-03-01T12:03:00Z"},`+
		`{"type":"track","messageId":"l5","userId":%q,"event":"E","timestamp":"2024-03-01T12:04:00Z"},`+
		`{"type":"track","messageId":"l6","userId":"u","event":%q,"timestamp":"2024-03-01T12:05:00Z"},`+
		`{"type":"delete","messageId":"l7","userId":%q,"timestamp":"2024-03-01T12:06:00Z"}]`,
		user, anon, user, name, user, group, user, noise(event.MaxIDBytes), noise(event.MaxIDBytes+1), noise(event.MaxNameBytes+1), user)
	for _, store := range []contact.Store{memstore.New(), newTestStore(t)} {
		res, err := regalkit.New(store, nil).ProcessBytes(ctx, []byte(payload))
		require.NoError(t, err, "%T", store)
		require.Len(t, res, 7)
		for i, r := range res[:4] {
			assert.Empty(t, r.Diagnostics, "%T, message %d", store, i+1)
		}
		require.Len(t, res[4].Diagnostics, 1)
		assert.Equal(t, "message.invalid_id", string(res[4].Diagnostics[0].Code))
		assert.Equal(t, "userId", res[4].Diagnostics[0].Field)
		require.Len(t, res[5].Diagnostics, 1)
		assert.Equal(t, "message.invalid", string(res[5].Diagnostics[0].Code))
		assert.Equal(t, "event", res[5].Diagnostics[0].Field)
		assert.Empty(t, res[6].Diagnostics, "%T: the delete", store)
	}
}
