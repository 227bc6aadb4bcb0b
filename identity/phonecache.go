package identity

import (
	"encoding/json"
	"hash/maphash"
	"strings"
	"sync/atomic"
	"unsafe"
)

// DefaultPhoneCacheSize is the number of slots of a [PhoneParser]'s cache when its
// options name no size: up to that many (input, region) results. At about 150 bytes
// a result it holds some 1.5 MB when full.
const DefaultPhoneCacheSize = 10_000

// PhoneParserOptions configures a [PhoneParser]. The zero value is ready to use.
type PhoneParserOptions struct {
	// Region is the default region for inputs without a country code, such as "GB".
	// Empty means DefaultRegion ("US").
	Region string

	// CacheSize is the number of slots of the cache, which bounds the number of
	// cached results. Zero means DefaultPhoneCacheSize; a negative size turns the
	// cache off.
	CacheSize int
}

// PhoneParser parses phone numbers like [ParsePhone] and remembers the results, valid
// and invalid alike, in a bounded cache keyed by (input, region). Segment's browser
// library re-sends cached traits with every identify, so the same inputs come again
// and again; a cache hit costs a hash and a comparison, and allocates nothing.
//
// The cache is a fixed table of slots, each holding one input and its result. An input
// may sit in either slot of a pair its hash picks; a new input takes a free one, or
// replaces one of the two whole. A hit is checked against the whole input and region,
// so a result is always what a fresh parse gives.
//
// A PhoneParser is safe for concurrent use by multiple goroutines, and takes no lock.
//
// The table is written here rather than taken from golang-lru, which the module uses
// elsewhere: its Cache takes one lock and moves the entry to the front of a list on
// every hit, and allocates a list element on every miss, which with parsing down to
// under 1 µs (issue 14) is most of what a phone costs. Measured (go test -bench
// 'Phone' ./identity/, three alternating runs): a hit 75 → 18 ns, with two goroutines
// 129 → 31 ns; the phones of a 100,000-message corpus (BenchmarkPhoneCorpus, half of
// them met for the first time) 1,390–1,960 → 1,090–1,300 ns a phone and 5.4 → 3.4 MB,
// for 12% more parses than an LRU of the same size (18,737 against 16,746 of 29,846):
// recency matters little here, since an input that loses its slot costs one parse.
type PhoneParser struct {
	region     string
	regionHash uint64 // of region, for the usual key
	seed       maphash.Seed
	slots      []atomic.Pointer[phoneEntry] // nil when caching is off
}

// phoneEntry is a cached result: never changed once stored.
type phoneEntry struct {
	input, region string // copies of their own: the caller's input may be a view of a buffer
	res           phoneResult
}

// NewPhoneParser returns a PhoneParser configured by opts; nil opts means the defaults.
func NewPhoneParser(opts *PhoneParserOptions) *PhoneParser {
	if opts == nil {
		opts = &PhoneParserOptions{}
	}
	p := &PhoneParser{region: normalizeRegion(opts.Region), seed: maphash.MakeSeed()}
	p.regionHash = maphash.String(p.seed, p.region)
	size := opts.CacheSize
	if size == 0 {
		size = DefaultPhoneCacheSize
	}
	if size > 0 {
		p.slots = make([]atomic.Pointer[phoneEntry], size)
	}
	return p
}

// Region returns the parser's default region.
func (p *PhoneParser) Region() string { return p.region }

// Parse reads a phone number as [ParsePhone] does, in region, or in the parser's default
// region when region is empty. Results come from the cache when the same input was
// parsed in the same region before.
func (p *PhoneParser) Parse(input, region string) (PhoneNumber, error) {
	if region == "" {
		region = p.region
	} else {
		region = normalizeRegion(region)
	}
	if p.slots == nil || len(input) > maxPhoneInput {
		res := parsePhone(input, region)
		return res.number, res.err()
	}
	rh := p.regionHash
	if region != p.region {
		rh = maphash.String(p.seed, region)
	}
	// Two slots an input: its pair (one slot for a cache of one).
	h := maphash.String(p.seed, input) ^ rh*0x9e3779b97f4a7c15
	first := h % uint64((len(p.slots)+1)/2) * 2
	second := min(first+1, uint64(len(p.slots)-1))
	a, b := &p.slots[first], &p.slots[second]
	ea, eb := a.Load(), b.Load()
	for _, e := range [...]*phoneEntry{ea, eb} {
		if e != nil && e.input == input && e.region == region {
			return e.res.number, e.res.err()
		}
	}
	// A free slot of the two, else the one a bit of the hash picks.
	slot := a
	if ea != nil && (eb == nil || h>>63 == 1) {
		slot = b
	}
	// The input may be a slice of a large request buffer: the entry keeps a copy of its
	// own (made with the E.164 string of a valid number).
	res, own := parsePhoneKeyed(input, region, true)
	if region == p.region {
		region = p.region
	} else {
		region = strings.Clone(region)
	}
	slot.Store(&phoneEntry{input: own, region: region, res: res})
	return res.number, res.err()
}

// ParseJSON reads a phone number given as a JSON value, a string or an integer (see
// [PhoneInput]), as Parse does.
//
// A JSON string without escapes is read in place, without a copy: Parse keeps no part
// of its input (the cache's key is a copy of its own), so raw may change afterwards.
func (p *PhoneParser) ParseJSON(raw json.RawMessage, region string) (PhoneNumber, error) {
	if body, ok := simpleBody(raw); ok {
		return p.Parse(unsafe.String(unsafe.SliceData(body), len(body)), region)
	}
	input, err := PhoneInput(raw)
	if err != nil {
		return PhoneNumber{}, err
	}
	return p.Parse(input, region)
}

// CacheLen returns the number of results in the cache. It counts the slots in use, in
// time proportional to the cache's size.
func (p *PhoneParser) CacheLen() int {
	n := 0
	for i := range p.slots {
		if p.slots[i].Load() != nil {
			n++
		}
	}
	return n
}
