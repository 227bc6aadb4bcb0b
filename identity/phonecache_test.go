package identity

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPhoneParser_cachesValidAndInvalid(t *testing.T) {
	p := NewPhoneParser(nil)
	first, err := p.Parse("(954) 555-2399", "")
	require.NoError(t, err)
	assert.Equal(t, 1, p.CacheLen())
	again, err := p.Parse("(954) 555-2399", "")
	require.NoError(t, err)
	assert.Equal(t, first, again)
	assert.Equal(t, 1, p.CacheLen(), "a hit adds nothing")

	_, err1 := p.Parse("+1 555 555 5555", "")
	_, err2 := p.Parse("+1 555 555 5555", "")
	assert.ErrorIs(t, err1, ErrInvalidPhone)
	assert.Equal(t, err1, err2)
	assert.Equal(t, 2, p.CacheLen(), "invalid results are cached too")
}

func TestPhoneParser_keyedByRegion(t *testing.T) {
	p := NewPhoneParser(nil)
	us, errUS := p.Parse("020 7946 0018", "US")
	gb, errGB := p.Parse("020 7946 0018", "GB")
	assert.Error(t, errUS)
	assert.Zero(t, us)
	require.NoError(t, errGB)
	assert.Equal(t, "+442079460018", gb.E164)
	lower, err := p.Parse("020 7946 0018", "gb")
	require.NoError(t, err)
	assert.Equal(t, gb, lower)
	assert.Equal(t, 2, p.CacheLen(), "region names are normalized before keying")
}

func TestPhoneParser_defaultRegionOption(t *testing.T) {
	p := NewPhoneParser(&PhoneParserOptions{Region: "gb"})
	assert.Equal(t, "GB", p.Region())
	got, err := p.Parse("020 7946 0018", "")
	require.NoError(t, err)
	assert.Equal(t, "+442079460018", got.E164)
	assert.Equal(t, "US", NewPhoneParser(nil).Region())
}

func TestPhoneParser_bounded(t *testing.T) {
	for _, size := range []int{1, 2, 3, 8} {
		p := NewPhoneParser(&PhoneParserOptions{CacheSize: size})
		for i := range 100 {
			_, _ = p.Parse(fmt.Sprintf("+1 954 555 %04d", i), "")
		}
		n := p.CacheLen()
		assert.LessOrEqual(t, n, size)
		assert.Positive(t, n)
		kept := func(input string) bool {
			for i := range p.slots {
				if e := p.slots[i].Load(); e != nil && e.input == input {
					return true
				}
			}
			return false
		}
		assert.True(t, kept("+1 954 555 0099"), "size %d: the last input parsed is kept", size)
		got, err := p.Parse("+1 954 555 0099", "")
		require.NoError(t, err)
		assert.Equal(t, "+19545550099", got.E164)
		assert.Equal(t, n, p.CacheLen(), "size %d: a hit adds nothing", size)
	}
}

func TestPhoneParser_noCache(t *testing.T) {
	p := NewPhoneParser(&PhoneParserOptions{CacheSize: -1})
	got, err := p.Parse("+19545552399", "")
	require.NoError(t, err)
	assert.Equal(t, "+19545552399", got.E164)
	assert.Zero(t, p.CacheLen())
}

func TestPhoneParser_hugeInputNotCached(t *testing.T) {
	p := NewPhoneParser(nil)
	_, err := p.Parse(string(make([]byte, 10<<10)), "")
	assert.ErrorIs(t, err, ErrInvalidPhone)
	assert.Zero(t, p.CacheLen())
}

// TestPhoneParser_concurrent hammers one small cache from many goroutines; run it with
// -race. Every goroutine must see the same answers a fresh parse gives.
func TestPhoneParser_concurrent(t *testing.T) {
	p := NewPhoneParser(&PhoneParserOptions{CacheSize: 16})
	inputs := make([]string, 40)
	want := make([]PhoneNumber, len(inputs))
	for i := range inputs {
		inputs[i] = fmt.Sprintf("(954) 555-%04d", 2300+i)
		if i%5 == 0 {
			inputs[i] = fmt.Sprintf("+1 555 555 %04d", i) // invalid
		}
		want[i], _ = ParsePhone(inputs[i], "")
	}
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for n := range 400 {
				i := (g*7 + n) % len(inputs)
				got, err := p.Parse(inputs[i], "")
				if got != want[i] || (err == nil) != (want[i].E164 != "") {
					t.Errorf("Parse(%d) = %+v, %v; want %+v", i, got, err, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, p.CacheLen(), 16)
}

// TestPhoneParser_parseJSONKeepsNothingOfItsInput checks that ParseJSON, which reads a
// JSON string in place, keeps no part of it: the caller's buffer may change afterwards
// without changing the result or the cache.
func TestPhoneParser_parseJSONKeepsNothingOfItsInput(t *testing.T) {
	p := NewPhoneParser(nil)
	raw := []byte(`"(954) 555-2399"`)
	n, err := p.ParseJSON(raw, "")
	require.NoError(t, err)
	_, badErr := p.ParseJSON([]byte(`"+1 555 555 5555"`), "")
	require.ErrorIs(t, badErr, ErrInvalidPhone)
	msg := badErr.Error()
	for i := range raw {
		raw[i] = 'x'
	}
	assert.Equal(t, PhoneNumber{E164: "+19545552399", Region: "US"}, n)
	again, err := p.Parse("(954) 555-2399", "")
	require.NoError(t, err)
	assert.Equal(t, n, again, "the cache holds its own copy of the key")
	assert.Equal(t, 2, p.CacheLen())
	assert.Equal(t, msg, badErr.Error())
}

// TestParsePhoneKeyed_sameResultAndItsOwnKey: the cache's parse, which makes its key in
// the E.164 string's allocation, gives parsePhone's result and a key equal to the input.
func TestParsePhoneKeyed_sameResultAndItsOwnKey(t *testing.T) {
	for _, in := range []string{"(954) 555-2399", "+44 20 7946 0018", "020 7946 0018", "+1 555 555 5555", "abc", "  ", "+800 1234 5678"} {
		for _, region := range []string{"US", "GB"} {
			buf := []byte(in)
			res, key := parsePhoneKeyed(string(buf), region, true)
			assert.Equal(t, parsePhone(in, region), res, "%q in %s", in, region)
			assert.Equal(t, in, key)
		}
	}
}
