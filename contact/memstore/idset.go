package memstore

import (
	"encoding/binary"
)

// idSet is a set of strings (a stripe's processed messageIds, Rule E2) that gives the
// garbage collector nothing to follow per member: the members are packed into a few
// byte blocks, and a map with no pointers in it finds them by hash. A
// map[string]struct{} costs each member a string object and a pointer in a map slot,
// all of which every GC cycle marks; in a long replay the processed messageIds are as
// many as the messages (issue 14). The zero idSet is empty.
type idSet struct {
	// heads holds, by the hash of a member, the ref of the member last added with
	// that hash; a member's record holds the ref of the previous one with the same
	// hash, so that hashes may collide.
	heads map[uint64]uint64
	// blocks hold the members' records, each: uvarint ref of the previous member with
	// the same hash (0: none), uvarint length, the bytes. A block is appended to until
	// it reaches idBlockSize, then left as it is.
	blocks [][]byte
}

// idBlockSize is the size a block of an idSet grows to before the next one starts.
const idBlockSize = 16 << 10

// ref returns the reference of the record at offset off of block b: never 0.
func ref(b, off int) uint64 { return uint64(b)<<32 | uint64(off) + 1 }

// record returns the previous ref and the member of the record at r.
func (s *idSet) record(r uint64) (prev uint64, member []byte) {
	r--
	blk := s.blocks[r>>32][uint32(r):]
	prev, n := binary.Uvarint(blk)
	blk = blk[n:]
	size, n := binary.Uvarint(blk)
	return prev, blk[n : n+int(size)]
}

// has reports whether id, whose hash is h, is in the set.
func (s *idSet) has(h uint64, id string) bool {
	r := s.heads[h]
	for r != 0 {
		prev, member := s.record(r)
		if string(member) == id {
			return true
		}
		r = prev
	}
	return false
}

// add adds id, whose hash is h, to the set, unless it is there already.
func (s *idSet) add(h uint64, id string) {
	if s.has(h, id) {
		return
	}
	prev := s.heads[h]
	need := 2*binary.MaxVarintLen64 + len(id)
	last := len(s.blocks) - 1
	switch {
	case last < 0 || (len(s.blocks[last]) > 0 && len(s.blocks[last])+need > idBlockSize):
		// The first block starts small, so that a small store stays small; once one
		// block is full, the set is big and later blocks start at their full size.
		size := idBlockSize
		if last < 0 {
			size = 256
		}
		s.blocks = append(s.blocks, make([]byte, 0, max(need, size)))
		last++
	case len(s.blocks[last])+need > cap(s.blocks[last]):
		// A growing first block grows fourfold, not by append's doubling: less
		// copying and less garbage on its way to idBlockSize (issue 14).
		b := s.blocks[last]
		grown := make([]byte, len(b), max(min(4*cap(b), idBlockSize), len(b)+need))
		copy(grown, b)
		s.blocks[last] = grown
	}
	b := s.blocks[last]
	off := len(b)
	b = binary.AppendUvarint(b, prev)
	b = binary.AppendUvarint(b, uint64(len(id)))
	s.blocks[last] = append(b, id...)
	if s.heads == nil {
		s.heads = make(map[uint64]uint64)
	}
	s.heads[h] = ref(last, off)
}
