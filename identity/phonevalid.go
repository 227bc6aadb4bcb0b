package identity

import (
	"regexp"
	"strconv"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// This file holds exact equivalents of the libphonenumber steps parsePhone needs after
// parsing (Rule T8): the national significant number, E.164 formatting, the region of a
// number and its validity for a region. libphonenumber builds each regular expression's
// text anew on every check ("^(?:" + pattern + ")$") and formats through a string
// builder, some ten allocations for each number it validates; here the expressions are
// compiled once per region from the very same metadata, and a parse allocates only the
// E.164 string. TestParsePhone_matchesLibphonenumber and its fuzz target check the
// equivalence against libphonenumber itself.
//
// Why not the library's own calls: BenchmarkPhone/uncached ("+1 (954) 555-2399"), which
// is every phone a contact sends for the first time, took 23,816 ns and 77 allocations
// with phonenumbers.Parse + IsValidNumber + Format; with parseNANP (phone.go) and this
// file it takes about 830 ns and one allocation (`go test -run '^$' -bench Phone
// -benchmem ./identity`), and the corpus of BENCHMARKS.md allocates 4.3 fewer objects a
// message.

// descMatcher is a compiled PhoneNumberDesc: libphonenumber's isNumberMatchingDesc.
type descMatcher struct {
	lengths []int32        // the possible lengths; empty means any
	re      *regexp.Regexp // "^(?:" + national number pattern + ")$"
}

func newDescMatcher(d *phonenumbers.PhoneNumberDesc) descMatcher {
	m := descMatcher{re: regexp.MustCompile("^(?:" + d.GetNationalNumberPattern() + ")$")}
	if d != nil {
		m.lengths = d.PossibleLength
	}
	return m
}

func (m *descMatcher) match(nsn string) bool {
	if len(m.lengths) > 0 {
		found := false
		for _, l := range m.lengths {
			if int32(len(nsn)) == l {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return m.re.MatchString(nsn)
}

// phoneMeta is one region's metadata, its expressions compiled on first use.
type phoneMeta struct {
	md   *phonenumbers.PhoneMetadata
	once sync.Once
	// leading is "^(?:" + leading digits + ")", nil when the region has none.
	leading *regexp.Regexp
	general descMatcher
	// types are the descs of getNumberTypeHelper after the general one: a number is
	// valid when it matches the general desc and any of these. Mobile is left out
	// when the region's mobile and fixed-line patterns are the same, as
	// libphonenumber then never checks it.
	types []descMatcher
}

func (p *phoneMeta) compiled() *phoneMeta {
	p.once.Do(func() {
		md := p.md
		if ld := md.GetLeadingDigits(); len(ld) > 0 {
			p.leading = regexp.MustCompile("^(?:" + ld + ")")
		}
		p.general = newDescMatcher(md.GetGeneralDesc())
		descs := []*phonenumbers.PhoneNumberDesc{
			md.GetPremiumRate(), md.GetTollFree(), md.GetSharedCost(), md.GetVoip(),
			md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail(),
			md.GetFixedLine(),
		}
		if !md.GetSameMobileAndFixedLinePattern() {
			descs = append(descs, md.GetMobile())
		}
		p.types = make([]descMatcher, len(descs))
		for i, d := range descs {
			p.types[i] = newDescMatcher(d)
		}
	})
	return p
}

// valid is getNumberTypeHelper(nsn, md) != UNKNOWN.
func (p *phoneMeta) valid(nsn string) bool {
	p = p.compiled()
	if !p.general.match(nsn) {
		return false
	}
	for i := range p.types {
		if p.types[i].match(nsn) {
			return true
		}
	}
	return false
}

type phoneMetaIndex struct {
	byRegion map[string]*phoneMeta
	nonGeo   map[int32]*phoneMeta // the "001" entities, by country calling code
}

var (
	phoneMetaOnce sync.Once
	phoneMetaIdx  *phoneMetaIndex
)

// phoneMetas indexes libphonenumber's own metadata collection (the very one its
// functions read) by region, on first use: package init does no work.
func phoneMetas() *phoneMetaIndex {
	phoneMetaOnce.Do(func() { phoneMetaIdx = buildPhoneMetas() })
	return phoneMetaIdx
}

func buildPhoneMetas() *phoneMetaIndex {
	idx := &phoneMetaIndex{byRegion: map[string]*phoneMeta{}, nonGeo: map[int32]*phoneMeta{}}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		// libphonenumber's init parses the same collection and panics when it cannot.
		panic(err)
	}
	for _, md := range coll.GetMetadata() {
		if md.GetId() == "001" {
			idx.nonGeo[md.GetCountryCode()] = &phoneMeta{md: md}
		} else {
			idx.byRegion[md.GetId()] = &phoneMeta{md: md}
		}
	}
	return idx
}

// metaForRegion is libphonenumber's getMetadataForRegion: nil for an unsupported region.
func metaForRegion(region string) *phoneMeta {
	if region == "" || !phonenumbers.GetSupportedRegions()[region] {
		return nil
	}
	return phoneMetas().byRegion[region]
}

// formatE164 is phonenumbers.Format(num, E164) for a parsed number, returning as well
// the national significant number (GetNationalSignificantNumber), which is the tail of
// the E.164 string: one allocation for both.
//
// With a non-empty prefix, the E.164 string is made in one allocation after a copy of
// prefix, returned as key: the cache keeps its key and its result in one.
func formatE164(prefix string, num *phonenumbers.PhoneNumber) (key, e164, nsn string) {
	zeros := 0
	if num.GetItalianLeadingZero() && num.GetNumberOfLeadingZeros() > 0 {
		zeros = min(int(num.GetNumberOfLeadingZeros()), phonenumbers.MAX_LENGTH_FOR_NSN)
	}
	return appendE164(prefix, num.GetCountryCode(), zeros, num.GetNationalNumber())
}

// appendE164 formats country code cc, zeros leading zeros and national number nn as
// E.164, returning the national significant number as well, and a copy of prefix made
// in the same allocation (see formatE164).
func appendE164(prefix string, cc int32, zeros int, nn uint64) (key, e164, nsn string) {
	var buf [48]byte
	b := append(buf[:0], '+')
	b = strconv.AppendInt(b, int64(cc), 10)
	head := len(b)
	for range zeros {
		b = append(b, '0')
	}
	b = strconv.AppendUint(b, nn, 10)
	if prefix == "" {
		e164 = string(b)
		return "", e164, e164[head:]
	}
	all := prefix + string(b)
	return all[:len(prefix)], all[len(prefix):], all[len(prefix)+head:]
}

// validForRegion is phonenumbers.IsValidNumberForRegion for a number of country code
// cc and national significant number nsn.
func validForRegion(cc int32, nsn, region string) bool {
	var p *phoneMeta
	if region == "001" {
		if _, ok := phonenumberRegions(cc); ok {
			p = phoneMetas().nonGeo[cc]
		}
	} else {
		p = metaForRegion(region)
	}
	if p == nil || (region != "001" && cc != p.md.GetCountryCode()) {
		return false
	}
	return p.valid(nsn)
}

// phonenumberRegions is the regions of a country calling code, and whether it has any
// entry at all (libphonenumber's countryCodeToRegion).
func phonenumberRegions(cc int32) ([]string, bool) {
	r := phonenumbers.GetRegionCodesForCountryCode(int(cc))
	return r, r != nil
}

// regionForNumber is phonenumbers.GetRegionCodeForNumber for a number of country code
// cc and national significant number nsn. valid reports that it chose the region by
// validating the number for it in full (a region whose metadata has no leading
// digits): then validForRegion(cc, nsn, region) holds, and need not run again.
func regionForNumber(cc int32, nsn string) (region string, valid bool) {
	regions, _ := phonenumberRegions(cc)
	switch len(regions) {
	case 0:
		return "", false
	case 1:
		return regions[0], false
	}
	for _, region := range regions {
		p := metaForRegion(region)
		if p == nil {
			// libphonenumber would dereference a nil metadata here; the region
			// codes of a calling code always have metadata.
			continue
		}
		p = p.compiled()
		if p.leading != nil {
			if p.leading.MatchString(nsn) {
				return region, false
			}
		} else if p.valid(nsn) {
			return region, true
		}
	}
	return "", false
}
