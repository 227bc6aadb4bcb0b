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
// generated numbers of many regions in many formats, valid and invalid alike.
func TestParsePhone_matchesLibphonenumber(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 1))
	regions := []string{"US", "CA", "GB", "DE", "FR", "IT", "BR", "IN", "JM", "BS", "PR", "AU", "JP", "RU", "KZ"}
	ccs := []int{1, 1, 1, 44, 49, 33, 39, 55, 91, 7, 61, 81, 800, 979, 888, 999}
	checked, valid := 0, 0
	for range 1500 {
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
