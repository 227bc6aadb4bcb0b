package memstore

import (
	"encoding/binary"
	"math/bits"
	"unsafe"

	"github.com/regalkit/regalkit/event"
)

// A stored event keeps what its eventHead does not hold in one byte string: first the
// strings of restStrings, each as
//
//	uvarint len<<1, then len bytes    a string of its own
//	uvarint i<<1 | 1                  entry i of its stripe's dictionary (dict.go)
//
// then its six JSON objects
// (Properties, Traits, Context.Library.Extra, Context.Page.Extra, Context.Traits,
// Context.Extra), each as
//
//	uvarint 0                      a nil object
//	uvarint n+1, then n members    an object of n members (n may be 0)
//
// and each member as uvarint len(key), key, uvarint len(value)+1, value (0 for a nil
// value). A member costs its text and two or three bytes, where an event.Member costs
// 40 bytes more than its text; copyRecord rebuilds the objects for each reader.

// numRestStrings is the number of strings restStrings returns.
const numRestStrings = 12

// restStrings returns pointers to the record's strings that eventHead does not hold.
func restStrings(r *event.Record) [numRestStrings]*string {
	return [12]*string{&r.Category, &r.GroupID,
		&r.Context.IP, &r.Context.UserAgent, &r.Context.Locale,
		&r.Context.Library.Name, &r.Context.Library.Version,
		&r.Context.Page.Path, &r.Context.Page.Referrer, &r.Context.Page.Search, &r.Context.Page.Title, &r.Context.Page.URL}
}

// storedObjects returns pointers to the record's JSON objects, in their stored order.
func storedObjects(r *event.Record) [6]*event.Object {
	return [6]*event.Object{&r.Properties, &r.Traits, &r.Context.Library.Extra, &r.Context.Page.Extra, &r.Context.Traits, &r.Context.Extra}
}

func uvarintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

func (p *packer) uvarint(x uint64) { p.buf = binary.AppendUvarint(p.buf, x) }

func (p *packer) text(s []byte) { p.buf = append(p.buf, s...) }

// packRest appends what of the record eventHead does not hold, in its stored form,
// unless there is nothing. The strings refs marks are packed as references to the
// entries it names (refs may be nil).
func (p *packer) packRest(r *event.Record, refs *dictRefs) {
	strs, objs := restStrings(r), storedObjects(r)
	none := true
	for _, s := range strs {
		none = none && *s == ""
	}
	for _, o := range objs {
		none = none && *o == nil
	}
	if none {
		return
	}
	for k, s := range strs {
		if refs != nil && refs.has(k) {
			p.uvarint(uint64(refs.i[k])<<1 | 1)
			continue
		}
		p.uvarint(uint64(len(*s)) << 1)
		p.text(unsafe.Slice(unsafe.StringData(*s), len(*s)))
	}
	for _, o := range objs {
		if *o == nil {
			p.uvarint(0)
			continue
		}
		p.uvarint(uint64(len(*o)) + 1)
		for _, m := range *o {
			p.uvarint(uint64(len(m.Key)))
			p.text(unsafe.Slice(unsafe.StringData(m.Key), len(m.Key)))
			if m.Value == nil {
				p.uvarint(0)
				continue
			}
			p.uvarint(uint64(len(m.Value)) + 1)
			p.text(m.Value)
		}
	}
}

// objectReader walks packed objects.
type objectReader struct {
	b []byte
	i int
}

func (rd *objectReader) uvarint() int {
	x, n := binary.Uvarint(rd.b[rd.i:])
	rd.i += n
	return int(x)
}

func (rd *objectReader) next(n int) []byte {
	b := rd.b[rd.i : rd.i+n]
	rd.i += n
	return b
}

// unpackRest sets r's strings and JSON objects from their packed form: the strings and
// keys shared with the packed bytes (which are never written again), the members in
// one new array, the values in one new byte array. shared holds, in order, the
// dictionary strings the packed strings refer to (dict.resolve), resolved while the
// event was known to be stored.
func unpackRest(packed []byte, r *event.Record, shared []string) {
	rd := objectReader{b: packed}
	for _, s := range restStrings(r) {
		x := rd.uvarint()
		if x&1 != 0 {
			*s, shared = shared[0], shared[1:]
			continue
		}
		if b := rd.next(x >> 1); len(b) > 0 {
			*s = unsafe.String(&b[0], len(b))
		}
	}
	unpackObjects(packed[rd.i:], r)
}

// unpackObjects sets r's JSON objects from their packed form.
func unpackObjects(packed []byte, r *event.Record) {
	members, size := 0, 0
	rd := objectReader{b: packed}
	for range len(storedObjects(r)) {
		n := rd.uvarint() - 1
		for range n {
			rd.next(rd.uvarint())
			if v := rd.uvarint(); v > 0 {
				rd.next(v - 1)
				size += v - 1
			}
		}
		members += max(n, 0)
	}
	all := make([]event.Member, 0, members)
	values := make([]byte, 0, size) // not nil even when empty: an empty value stays non-nil
	rd = objectReader{b: packed}
	for _, o := range storedObjects(r) {
		n := rd.uvarint() - 1
		if n < 0 {
			*o = nil
			continue
		}
		start := len(all)
		for range n {
			var m event.Member
			if k := rd.next(rd.uvarint()); len(k) > 0 {
				m.Key = unsafe.String(&k[0], len(k))
			}
			if v := rd.uvarint(); v > 0 {
				at := len(values)
				values = append(values, rd.next(v-1)...)
				m.Value = values[at:len(values):len(values)]
			}
			all = append(all, m)
		}
		*o = all[start:len(all):len(all)]
	}
}
