package identity

import (
	"encoding/json"
	"unsafe"

	lru "github.com/hashicorp/golang-lru/v2"
)

// DefaultPhoneCacheSize is the number of (input, region) results a [PhoneParser] keeps
// when its options name no size. At about 150 bytes an entry it holds some 1.5 MB.
const DefaultPhoneCacheSize = 10_000

// PhoneParserOptions configures a [PhoneParser]. The zero value is ready to use.
type PhoneParserOptions struct {
	// Region is the default region for inputs without a country code, such as "GB".
	// Empty means DefaultRegion ("US").
	Region string

	// CacheSize bounds the number of cached results. Zero means
	// DefaultPhoneCacheSize; a negative size turns the cache off.
	CacheSize int
}

// PhoneParser parses phone numbers like [ParsePhone] and remembers the results, valid
// and invalid alike, in a bounded least-recently-used cache keyed by (input, region).
// Segment's browser library re-sends cached traits with every identify, so the same
// inputs come again and again; a cache hit costs a map lookup and allocates nothing.
//
// A PhoneParser is safe for concurrent use by multiple goroutines.
type PhoneParser struct {
	region string
	cache  *lru.Cache[phoneCacheKey, phoneResult] // nil when caching is off
}

type phoneCacheKey struct {
	input, region string
}

// NewPhoneParser returns a PhoneParser configured by opts; nil opts means the defaults.
func NewPhoneParser(opts *PhoneParserOptions) *PhoneParser {
	if opts == nil {
		opts = &PhoneParserOptions{}
	}
	p := &PhoneParser{region: normalizeRegion(opts.Region)}
	size := opts.CacheSize
	if size == 0 {
		size = DefaultPhoneCacheSize
	}
	if size > 0 {
		// lru.New fails only for a size below one.
		p.cache, _ = lru.New[phoneCacheKey, phoneResult](size)
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
	if p.cache == nil || len(input) > maxPhoneInput {
		res := parsePhone(input, region)
		return res.number, res.err()
	}
	key := phoneCacheKey{input, region}
	if res, ok := p.cache.Get(key); ok {
		return res.number, res.err()
	}
	// The input may be a slice of a large request buffer: the key is a copy of its own
	// (made with the E.164 string of a valid number).
	res, own := parsePhoneKeyed(input, region, true)
	p.cache.Add(phoneCacheKey{own, region}, res)
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

// CacheLen returns the number of results in the cache.
func (p *PhoneParser) CacheLen() int {
	if p.cache == nil {
		return 0
	}
	return p.cache.Len()
}
