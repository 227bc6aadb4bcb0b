package trigger

import (
	"bytes"
	"cmp"
	"math/big"
	"strconv"
	"strings"

	"github.com/regalkit/regalkit/internal/jsonvalue"
)

// Holds reports whether the condition holds for a value: v is the property's JSON value
// and ok whether the property is there.
func (c Condition) Holds(v []byte, ok bool) bool {
	if !ok || jsonvalue.IsNull(v) {
		return c.Op == OpNe
	}
	switch c.Op {
	case OpExists:
		return true
	case OpEq:
		return equal(v, c.Value)
	case OpNe:
		return !equal(v, c.Value)
	}
	n, comparable := compare(v, c.Value)
	if !comparable {
		return false
	}
	switch c.Op {
	case OpGt:
		return n > 0
	case OpGe:
		return n >= 0
	case OpLt:
		return n < 0
	case OpLe:
		return n <= 0
	}
	return false
}

// equal reports whether two JSON values are equal: numbers by value, strings by their
// text, anything else by its canonical form.
func equal(a, b []byte) bool {
	if n, ok := compare(a, b); ok {
		return n == 0
	}
	if bytes.Equal(a, b) {
		return true
	}
	ca, err1 := jsonvalue.AppendCanonical(nil, a)
	cb, err2 := jsonvalue.AppendCanonical(nil, b)
	return err1 == nil && err2 == nil && bytes.Equal(ca, cb)
}

// compare orders two numbers by value or two strings bytewise; ok is false for any
// other pair.
func compare(a, b []byte) (int, bool) {
	ka, kb := jsonvalue.KindOf(trim(a)), jsonvalue.KindOf(trim(b))
	switch {
	case ka == jsonvalue.KindNumber && kb == jsonvalue.KindNumber:
		return compareNumbers(trim(a), trim(b))
	case ka == jsonvalue.KindString && kb == jsonvalue.KindString:
		sa, ok1 := jsonvalue.String(trim(a))
		sb, ok2 := jsonvalue.String(trim(b))
		if !ok1 || !ok2 {
			return 0, false
		}
		return strings.Compare(sa, sb), true
	}
	return 0, false
}

// compareNumbers compares two JSON numbers exactly, digit for digit: whole numbers that
// fit 64 bits directly, any other by its decimal digits and exponent. It takes time in
// the length of the texts, whatever their exponents: a property such as 1e999999 from
// an untrusted sender would cost a big.Rat a million digits at every comparison.
func compareNumbers(a, b []byte) (int, bool) {
	if x, err := strconv.ParseInt(string(a), 10, 64); err == nil {
		if y, err := strconv.ParseInt(string(b), 10, 64); err == nil {
			return cmp.Compare(x, y), true
		}
	}
	x, ok1 := parseDecimal(a)
	y, ok2 := parseDecimal(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	return x.compare(y), true
}

// decimal is a JSON number as 0.d1d2d3... × 10^exp: its sign, its significant digits
// (no leading or trailing zeros; none for zero) and the exponent of that form.
type decimal struct {
	neg    bool
	digits []byte
	exp    *big.Int
}

// parseDecimal reads the JSON number text b.
func parseDecimal(b []byte) (decimal, bool) {
	var d decimal
	if len(b) > 0 && b[0] == '-' {
		d.neg, b = true, b[1:]
	}
	mantissa, exp10, _ := bytes.Cut(b, []byte{'e'})
	if len(exp10) == 0 {
		mantissa, exp10, _ = bytes.Cut(b, []byte{'E'})
	}
	whole, frac, _ := bytes.Cut(mantissa, []byte{'.'})
	if len(whole) == 0 {
		return decimal{}, false
	}
	for _, c := range whole {
		if c < '0' || c > '9' {
			return decimal{}, false
		}
	}
	for _, c := range frac {
		if c < '0' || c > '9' {
			return decimal{}, false
		}
	}
	all := append(append([]byte(nil), whole...), frac...)
	lead := 0
	for lead < len(all) && all[lead] == '0' {
		lead++
	}
	d.digits = bytes.TrimRight(all[lead:], "0")
	d.exp = big.NewInt(int64(len(whole) - lead)) // the point sits after the whole part
	if len(exp10) > 0 {
		e, ok := new(big.Int).SetString(string(exp10), 10) // an optional sign, then digits
		if !ok {
			return decimal{}, false
		}
		d.exp.Add(d.exp, e)
	}
	if len(d.digits) == 0 {
		d.neg = false // -0 is 0
	}
	return d, true
}

// compare orders two decimals by value.
func (d decimal) compare(o decimal) int {
	switch dz, oz := len(d.digits) == 0, len(o.digits) == 0; {
	case dz && oz:
		return 0
	case dz:
		return sign(!o.neg, -1)
	case oz:
		return sign(d.neg, -1)
	case d.neg != o.neg:
		return sign(d.neg, -1)
	}
	c := d.exp.Cmp(o.exp)
	if c == 0 {
		c = bytes.Compare(d.digits, o.digits) // the same exponent: digit by digit
	}
	if d.neg {
		return -c
	}
	return c
}

// sign returns v when cond holds, -v otherwise.
func sign(cond bool, v int) int {
	if cond {
		return v
	}
	return -v
}

func trim(b []byte) []byte { return bytes.TrimSpace(b) }
