package trigger

import (
	"bytes"
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
// fit 64 bits directly, any other as an exact rational.
func compareNumbers(a, b []byte) (int, bool) {
	if x, err := strconv.ParseInt(string(a), 10, 64); err == nil {
		if y, err := strconv.ParseInt(string(b), 10, 64); err == nil {
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			}
			return 0, true
		}
	}
	x, ok1 := new(big.Rat).SetString(string(a))
	y, ok2 := new(big.Rat).SetString(string(b))
	if !ok1 || !ok2 {
		return 0, false
	}
	return x.Cmp(y), true
}

func trim(b []byte) []byte { return bytes.TrimSpace(b) }
