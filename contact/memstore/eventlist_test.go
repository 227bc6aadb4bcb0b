package memstore

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/regalkit/regalkit/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

var t0 = time.Date(2020, 8, 25, 21, 23, 43, 0, time.UTC)

func ev(minute int, messageID, contactID string) *storedEvent {
	return &storedEvent{
		rec:       event.Record{Kind: event.Track, Time: t0.Add(time.Duration(minute) * time.Minute), MessageID: messageID},
		contactID: contactID,
	}
}

// checkList checks the list's own invariants and returns its events in order.
func checkList(t require.TestingT, l *eventList, cmp func(a, b *storedEvent) int) []*storedEvent {
	all := []*storedEvent{}
	for _, c := range l.chunks {
		require.NotEmpty(t, c, "empty chunk")
		require.LessOrEqual(t, len(c), maxChunk, "chunk over maxChunk")
		all = append(all, c...)
	}
	require.True(t, slices.IsSortedFunc(all, cmp), "list out of order")
	return all
}

// The list against a sorted slice, under random inserts (in and out of order),
// duplicates and removals, with range walks both ways.
func TestEventListModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var l eventList
		model := []*storedEvent{}
		n := rapid.IntRange(0, 5*maxChunk).Draw(t, "n")
		for i := range n {
			e := ev(rapid.IntRange(0, 300).Draw(t, "minute"), fmt.Sprintf("m%03d", rapid.IntRange(0, 400).Draw(t, "id")), "c")
			if rapid.IntRange(0, 3).Draw(t, "op") == 0 && len(model) > 0 {
				victim := model[rapid.IntRange(0, len(model)-1).Draw(t, "victim")]
				require.True(t, l.remove(victim, byContactOrder), "remove %d", i)
				model = slices.DeleteFunc(model, func(x *storedEvent) bool { return x == victim })
				require.False(t, l.remove(victim, byContactOrder), "remove twice")
				continue
			}
			_, dup := slices.BinarySearchFunc(model, e, byContactOrder)
			require.Equal(t, !dup, l.insert(e, byContactOrder), "insert reports whether it added")
			if !dup {
				j, _ := slices.BinarySearchFunc(model, e, byContactOrder)
				model = slices.Insert(model, j, e)
			}
		}
		require.Equal(t, model, checkList(t, &l, byContactOrder))
		require.Equal(t, len(model), l.len())

		var since, until time.Time
		if rapid.Bool().Draw(t, "since") {
			since = t0.Add(time.Duration(rapid.IntRange(0, 300).Draw(t, "sinceMin")) * time.Minute)
		}
		if rapid.Bool().Draw(t, "until") {
			until = t0.Add(time.Duration(rapid.IntRange(0, 300).Draw(t, "untilMin")) * time.Minute)
		}
		want := []*storedEvent{}
		for _, e := range model {
			if (since.IsZero() || !e.rec.Time.Before(since)) && (until.IsZero() || e.rec.Time.Before(until)) {
				want = append(want, e)
			}
		}
		up := []*storedEvent{}
		l.ascend(since, until, func(e *storedEvent) bool { up = append(up, e); return true })
		assert.Equal(t, want, up, "ascend")

		down := []*storedEvent{}
		for d := l.descend(until); d.peek() != nil; d.back() {
			if e := d.peek(); since.IsZero() || !e.rec.Time.Before(since) {
				down = append(down, e)
			}
		}
		slices.Reverse(down)
		assert.Equal(t, want, down, "descend")
	})
}

func TestEventListInOrderAppendsFillChunks(t *testing.T) {
	var l eventList
	for i := range 10 * maxChunk {
		require.True(t, l.insert(ev(i, "m", "c"), byContactOrder))
	}
	checkList(t, &l, byContactOrder)
	require.Len(t, l.chunks, 10, "appending in order fills each chunk")
	for _, c := range l.chunks {
		assert.Equal(t, maxChunk, cap(c), "no chunk holds more memory than its events need")
	}
	for i := range 10 * maxChunk {
		require.True(t, l.remove(ev(i, "m", "c"), byContactOrder))
	}
	assert.Nil(t, l.chunks)
}

func TestEventListAscendStops(t *testing.T) {
	var l eventList
	for i := range 3 * maxChunk {
		l.insert(ev(i, "m", "c"), byContactOrder)
	}
	n := 0
	l.ascend(time.Time{}, time.Time{}, func(*storedEvent) bool { n++; return n < 5 })
	assert.Equal(t, 5, n)
}

func TestTimelineOrderBreaksTiesByContact(t *testing.T) {
	a, b := ev(0, "m", "c-a"), ev(0, "m", "c-b")
	assert.Negative(t, byTimelineOrder(a, b))
	assert.Zero(t, byContactOrder(a, b))
	var l eventList
	assert.True(t, l.insert(b, byTimelineOrder))
	assert.True(t, l.insert(a, byTimelineOrder), "same messageId and time, other contact")
}

func TestPackRecord(t *testing.T) {
	props := event.Object{
		{Key: "amount", Value: []byte(`123456789012345678`)},
		{Key: "nested", Value: []byte(`{"b":1,"a":[true,null]}`)},
		{Key: "null", Value: nil},
	}
	in := event.Record{Kind: event.Page, Name: "Home", Category: "Docs", GroupID: "g", Time: t0, MessageID: "m-1", Properties: props}
	want := event.Record{Kind: in.Kind, Name: in.Name, Category: in.Category, GroupID: in.GroupID, Time: in.Time, MessageID: in.MessageID, Properties: props.Clone()}

	packed := packRecord(in)
	assert.Equal(t, want, packed)
	props[0].Value[0] = '9'
	props[1] = event.Member{Key: "changed"}
	assert.Equal(t, want, packed, "the packed record shares nothing with its source")

	out := copyRecord(&packed)
	out.Properties[0].Value[0] = '7'
	out.Properties[1].Key = "changed"
	assert.Equal(t, want, packed, "a copy for a caller shares nothing it can change")

	empty := event.Record{Kind: event.Track, Time: t0}
	assert.Equal(t, empty, packRecord(empty))
	withEmptyProps := event.Record{Kind: event.Track, Properties: event.Object{}}
	assert.Equal(t, withEmptyProps, packRecord(withEmptyProps), "an empty property list stays empty, not nil")
}

func TestPackRecordAllocations(t *testing.T) {
	r := event.Record{Kind: event.Track, Name: "Loan Application Approved", MessageID: "ajs-next-7d0a4e4b2ad0c5d5f3b1a6c9d8e7f601",
		Properties: event.Object{{Key: "amount", Value: []byte(`30000`)}, {Key: "currency", Value: []byte(`"USD"`)}}}
	allocs := testing.AllocsPerRun(100, func() { _ = packRecord(r) })
	assert.Equal(t, 2.0, allocs, "one for the text, one for the property list")
}
