package identity

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// referenceParse is parsePhone as libphonenumber's documentation composes it:
// Parse, IsValidNumber, then Format and GetRegionCodeForNumber. parsePhone computes the
// region once instead; the two must agree on every input.
func referenceParse(input, region string) (PhoneNumber, bool) {
	num, err := phonenumbers.Parse(input, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return PhoneNumber{}, false
	}
	return PhoneNumber{
		E164:   phonenumbers.Format(num, phonenumbers.E164),
		Region: phonenumbers.GetRegionCodeForNumber(num),
	}, true
}

// phoneFormats writes one number, given as country code and national digits, in the
// shapes CRMs and forms send (Rule T8), including extensions and a national prefix.
func phoneFormats(cc int, nat string) []string {
	out := []string{
		"+" + fmt.Sprint(cc) + nat,
		"+" + fmt.Sprint(cc) + " " + nat,
		nat,
		"0" + nat,
		"1" + nat,
		fmt.Sprint(cc) + nat,
		"00" + fmt.Sprint(cc) + nat,
		"011" + fmt.Sprint(cc) + nat,
		"+" + fmt.Sprint(cc) + nat + " ext. 12",
		"+" + fmt.Sprint(cc) + nat + "x7",
		nat + " #99",
		"tel:+" + fmt.Sprint(cc) + nat,
	}
	if len(nat) >= 7 {
		a, b, c := nat[:3], nat[3:6], nat[6:]
		out = append(out,
			"("+a+") "+b+"-"+c,
			a+"-"+b+"-"+c,
			a+"."+b+"."+c,
			"+"+fmt.Sprint(cc)+" "+a+" "+b+" "+c,
			"+"+fmt.Sprint(cc)+" ("+a+") "+b+"-"+c,
			"1-"+a+"-"+b+"-"+c,
			a+"-"+b+"-FLOWERS"[:len(c)+1],
		)
	}
	return out
}

// TestParsePhone_matchesLibphonenumber checks parsePhone against referenceParse on
// generated numbers of many regions in many formats, valid and invalid alike (about
// 10,000 inputs; the commit that added it ran 2.5 times as many with seven seeds).
func TestParsePhone_matchesLibphonenumber(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 1))
	regions := []string{"US", "CA", "GB", "DE", "FR", "IT", "BR", "IN", "JM", "BS", "PR", "AU", "JP", "RU", "KZ"}
	ccs := []int{1, 1, 1, 44, 49, 33, 39, 55, 91, 7, 61, 81, 800, 979, 888, 999}
	checked, valid := 0, 0
	for range 600 {
		cc := ccs[rng.IntN(len(ccs))]
		n := 5 + rng.IntN(9)
		nat := make([]byte, n)
		for i := range nat {
			nat[i] = byte('0' + rng.IntN(10))
		}
		if rng.IntN(2) == 0 {
			nat[0] = byte('2' + rng.IntN(8)) // a plausible area code more often
		}
		for _, input := range phoneFormats(cc, string(nat)) {
			region := regions[rng.IntN(len(regions))]
			want, wantOK := referenceParse(input, region)
			res := parsePhone(input, region)
			if gotOK := res.reason == 0; gotOK != wantOK || (gotOK && res.number != want) {
				t.Fatalf("parsePhone(%q, %q) = %+v (reason %v), libphonenumber gives %+v, valid %v",
					MaskPhone(input), region, res.number, res.reason, want, wantOK)
			}
			checked++
			if wantOK {
				valid++
			}
		}
	}
	// The generated inputs must exercise both outcomes, or the comparison proves little.
	if valid < checked/20 || valid == checked {
		t.Fatalf("%d of %d generated inputs valid: the generator needs a better mix", valid, checked)
	}
	t.Logf("%d inputs, %d valid", checked, valid)
}

// TestParsePhone_nanpShapesMatchLibphonenumber aims at parseNANP: North American digits
// (and near misses: 9 to 12 digits, national parts starting 0 or 1, the 555 range)
// with separators scattered anywhere, a '+' here and there, and letters or '#' now
// and then, read in regions with and without the shortcut.
func TestParsePhone_nanpShapesMatchLibphonenumber(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 2))
	regions := []string{"US", "US", "US", "CA", "GB", "PR", "BS", "DE"}
	seps := []string{" ", "-", ".", "(", ")", "  ", " - ", ") ", "(", "/", "#", "x", "ext", "+", "'"}
	areas := []string{"954", "212", "415", "555", "800", "900", "242", "787", "613", "011", "123", "199", "264", "345"}
	checked, fast, valid := 0, 0, 0
	for range 15000 {
		var digits []byte
		switch rng.IntN(4) {
		case 0, 1:
			digits = []byte(areas[rng.IntN(len(areas))])
		}
		n := 10 // mostly ten digits, sometimes 9 or 11
		if rng.IntN(3) == 0 {
			n += rng.IntN(3) - 1
		}
		for len(digits) < n {
			digits = append(digits, byte('0'+rng.IntN(10)))
		}
		if rng.IntN(3) == 0 {
			digits = append([]byte{'1'}, digits...)
		}
		if rng.IntN(4) > 0 && digits[0] != '1' && len(digits) == 10 && digits[0] < '2' {
			digits[0] = '2' + digits[0] // national parts starting 0 or 1 stay, but fewer
		}
		var b []byte
		if rng.IntN(3) == 0 {
			b = append(b, '+')
			if rng.IntN(2) == 0 && digits[0] != '1' {
				b = append(b, '1')
			}
		}
		for i, d := range digits {
			if i > 0 && rng.IntN(4) == 0 {
				s := seps[rng.IntN(len(seps))]
				if rng.IntN(12) > 0 {
					s = seps[rng.IntN(5)] // mostly the separators parseNANP accepts
				}
				b = append(b, s...)
			}
			b = append(b, d)
		}
		if rng.IntN(6) == 0 {
			b = append(b, seps[rng.IntN(5)]...)
		}
		if rng.IntN(8) == 0 {
			b = append([]byte(seps[rng.IntN(5)]), b...)
		}
		input, region := string(b), regions[rng.IntN(len(regions))]
		want, wantOK := referenceParse(input, region)
		res := parsePhone(input, region)
		if gotOK := res.reason == 0; gotOK != wantOK || (gotOK && res.number != want) {
			t.Fatalf("parsePhone(%q, %q) = %+v (reason %v), libphonenumber gives %+v, valid %v",
				MaskPhone(input), region, res.number, res.reason, want, wantOK)
		}
		if !wantOK {
			// The refusal's reason must not depend on the path either.
			num, err := phonenumbers.Parse(input, region)
			if err == nil && res.reason != reasonForInvalid(num) {
				t.Fatalf("parsePhone(%q, %q) refused for %v, libphonenumber's number for %v",
					MaskPhone(input), region, res.reason, reasonForInvalid(num))
			}
		}
		checked++
		if _, ok := parseNANP(input, region); ok {
			fast++
		}
		if wantOK {
			valid++
		}
	}
	if fast < checked/4 || valid < checked/10 {
		t.Fatalf("%d inputs, %d through parseNANP, %d valid: the generator needs a better mix", checked, fast, valid)
	}
	t.Logf("%d inputs, %d through parseNANP, %d valid", checked, fast, valid)
}

// FuzzParsePhone_matchesLibphonenumber: parsePhone and referenceParse agree on any
// ASCII input with digits (parsePhone refuses the others before libphonenumber).
func FuzzParsePhone_matchesLibphonenumber(f *testing.F) {
	for _, s := range []string{"+19545552399", "(954) 555-2399", "954.555.2399", "1 954 555 2399", "+1 555 555 5555", "1-800-FLOWERS", "+1 (954) 555-2399 x12"} {
		f.Add(s, "US")
	}
	f.Add("+1 613 555 0100", "CA")
	f.Add("+1 954\u2013555\u20132399", "US")
	f.Add("\uff08954\uff09\u00a0555\u20112399", "US")
	f.Fuzz(func(t *testing.T, input, region string) {
		region = normalizeRegion(region)
		res := parsePhone(input, region)
		if res.reason == ReasonUnknownRegion || res.reason == ReasonEmpty || res.reason == ReasonNotANumber || res.reason == ReasonTooLong && len(input) > maxPhoneInput {
			return // refused before libphonenumber
		}
		want, wantOK := referenceParse(input, region)
		if gotOK := res.reason == 0; gotOK != wantOK || (gotOK && res.number != want) {
			t.Fatalf("parsePhone(%q, %q) = %+v (reason %v), libphonenumber gives %+v, valid %v",
				MaskPhone(input), region, res.number, res.reason, want, wantOK)
		}
	})
}
