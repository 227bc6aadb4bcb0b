package trigger

import (
	"fmt"
	"math/big"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestCompareNumbers_matchesBigRat: compareNumbers orders JSON numbers as exact
// rationals do, on drawn numbers of every form (signs, zeros, fractions, exponents of
// either sign and case).
func TestCompareNumbers_matchesBigRat(t *testing.T) {
	number := func(t *rapid.T, label string) string {
		s := rapid.SampledFrom([]string{"", "-"}).Draw(t, label+" sign")
		s += rapid.SampledFrom([]string{"0", "1", "7", "10", "100", "0012", "123456789012345678901", "9"}).Draw(t, label+" whole")
		if rapid.Bool().Draw(t, label+" has fraction") {
			s += "." + rapid.SampledFrom([]string{"0", "5", "50", "001", "999", "0000"}).Draw(t, label+" fraction")
		}
		if rapid.Bool().Draw(t, label+" has exponent") {
			s += rapid.SampledFrom([]string{"e", "E"}).Draw(t, label+" e") +
				rapid.SampledFrom([]string{"", "+", "-"}).Draw(t, label+" exponent sign") +
				fmt.Sprint(rapid.IntRange(0, 30).Draw(t, label+" exponent"))
		}
		return s
	}
	rapid.Check(t, func(t *rapid.T) {
		a, b := number(t, "a"), number(t, "b")
		x, _ := new(big.Rat).SetString(a)
		y, _ := new(big.Rat).SetString(b)
		got, ok := compareNumbers([]byte(a), []byte(b))
		if !ok || got != x.Cmp(y) {
			t.Fatalf("compareNumbers(%s, %s) = %d, %v; big.Rat says %d", a, b, got, ok, x.Cmp(y))
		}
	})
}

// TestCompareNumbers_hugeExponents: a number with an exponent of a million digits'
// worth compares at once, where an exact rational would spell it out (a sender's
// property must not make every evaluation slow).
func TestCompareNumbers_hugeExponents(t *testing.T) {
	start := time.Now()
	for range 1000 {
		if c, ok := compareNumbers([]byte("1e999999"), []byte("10000")); !ok || c != 1 {
			t.Fatalf("1e999999 vs 10000: %d, %v", c, ok)
		}
		if c, ok := compareNumbers([]byte("-1e999999"), []byte("2e-999999")); !ok || c != -1 {
			t.Fatalf("-1e999999 vs 2e-999999: %d, %v", c, ok)
		}
		if c, ok := compareNumbers([]byte("1e99999999999999999999999"), []byte("1e99999999999999999999998")); !ok || c != 1 {
			t.Fatalf("exponents past 64 bits: %d, %v", c, ok)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("3,000 comparisons of huge exponents took %v", d)
	}
}
