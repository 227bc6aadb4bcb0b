package memstore

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

var t0 = time.Date(2020, 8, 25, 21, 23, 43, 0, time.UTC)

func ev(minute int, messageID, contactID string) *storedEvent {
	return newStoredEvent(event.Record{Kind: event.Track, Time: t0.Add(time.Duration(minute) * time.Minute), MessageID: messageID}, contactID)
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

// fill sets every settable field of v, at every depth, to a non-zero value: strings,
// numbers, and slices of two filled elements. time.Time is left as a value.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.Type().String() + "-value")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i))
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(t0))
			return
		}
		for i := range v.NumField() {
			if v.Field(i).CanSet() {
				fill(v.Field(i))
			}
		}
	}
}

// shared walks a and b (of one type) together and returns the paths where they share
// memory: a slice array, map or pointer in both, and with strings too a string's bytes.
func shared(a, b reflect.Value, path string, strings bool) []string {
	var out []string
	switch a.Kind() {
	case reflect.String:
		if strings && a.Len() > 0 && unsafe.StringData(a.String()) == unsafe.StringData(b.String()) {
			out = append(out, path)
		}
	case reflect.Slice:
		if a.Len() > 0 && a.Pointer() == b.Pointer() {
			out = append(out, path)
		}
		for i := range min(a.Len(), b.Len()) {
			out = append(out, shared(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i), strings)...)
		}
	case reflect.Map, reflect.Pointer:
		if !a.IsNil() && a.Pointer() == b.Pointer() {
			out = append(out, path)
		}
		if a.Kind() == reflect.Pointer && !a.IsNil() && !b.IsNil() {
			out = append(out, shared(a.Elem(), b.Elem(), path, strings)...)
		}
	case reflect.Struct:
		if a.Type() == reflect.TypeFor[time.Time]() {
			return nil
		}
		for i := range a.NumField() {
			out = append(out, shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name, strings)...)
		}
	}
	return out
}

// A record handed to a caller shares nothing the caller can change with the stored one,
// whatever parts event.Record has: a new mutable part fails this until copyRecord
// copies it.
func TestCopyRecordCopiesEveryMutablePart(t *testing.T) {
	var in event.Record
	fill(reflect.ValueOf(&in).Elem())
	out := newStoredEvent(in, "c-1").record()
	assert.Equal(t, in, out)
	assert.Empty(t, shared(reflect.ValueOf(in), reflect.ValueOf(out), "Record", false))
	for _, o := range []*event.Object{&out.Properties, &out.Traits, &out.Context.Library.Extra} {
		(*o)[0].Value = append((*o)[0].Value, 'x')
	}
	assert.NotEqual(t, in, out)
	assert.Equal(t, in.Properties[1], out.Properties[1], "appending to one value cannot reach the next")
	assert.Equal(t, event.Record{}, newStoredEvent(event.Record{}, "c-1").record(), "nothing becomes something")
}

// A stored record shares no memory at all with the record given to AddEvent, strings
// included, so that it keeps alive no buffer the caller decoded it from.
func TestAddEventKeepsNothingOfTheCaller(t *testing.T) {
	s := New()
	var in event.Record
	fill(reflect.ValueOf(&in).Elem())
	require.NoError(t, s.Update(context.Background(), func(tx contact.Tx) error {
		if err := tx.Insert(contact.New("c-1")); err != nil {
			return err
		}
		_, err := tx.AddEvent("c-1", in)
		return err
	}))
	st := &s.stripes[s.hash.contact("c-1")]
	stored := st.contacts["c-1"].event(in.MessageID)
	require.NotNil(t, stored)
	assert.Equal(t, in, stored.record())
	assert.Empty(t, shared(reflect.ValueOf(in), reflect.ValueOf(stored.record()), "Record", true))
}

func TestPackRecordAllocations(t *testing.T) {
	var r event.Record
	fill(reflect.ValueOf(&r).Elem())
	var scratch []byte // a transaction's, grown by the first run
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _ = packEventRefs(r, "c-1", nil, &scratch) }), "one for the text and the objects")
	ev := newStoredEvent(r, "c-1")
	assert.Equal(t, 2.0, testing.AllocsPerRun(100, func() { _ = copyRecord(ev, nil) }), "one for the values, one for the members")
	bare := event.Record{Kind: event.Track, Name: "Signed Up", MessageID: "m-1"}
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _ = packEventRefs(bare, "c-1", nil, &scratch) }))
	bareEv := newStoredEvent(bare, "c-1")
	assert.Equal(t, "m-1", bareEv.messageID())
	assert.Equal(t, "Signed Up", bareEv.name())
	assert.Equal(t, "c-1", bareEv.contactID())
	assert.Empty(t, bareEv.rest())
	assert.Equal(t, 0.0, testing.AllocsPerRun(100, func() { _ = copyRecord(bareEv, nil) }))
}

func TestPackRecordKeepsNilApartFromEmpty(t *testing.T) {
	r := event.Record{Properties: event.Object{}, Traits: nil}
	for _, got := range []event.Record{newStoredEvent(r, "c-1").record()} {
		assert.NotNil(t, got.Properties)
		assert.Empty(t, got.Properties)
		assert.Nil(t, got.Traits)
	}
}
