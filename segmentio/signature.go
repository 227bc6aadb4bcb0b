package segmentio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/regalkit/regalkit/internal/jsonvalue"
)

// Signature errors (Rule D8).
var (
	// ErrNoSignature: the request has no signature, or the secret is empty.
	ErrNoSignature = errors.New("segmentio: missing signature")
	// ErrSignature: the signature does not match the body.
	ErrSignature = errors.New("segmentio: signature mismatch")
)

// VerifySignature checks a Segment webhook signature (Rule D8): header is the
// X-Signature value, hex(HMAC-SHA1(secret, signed bytes)), where the signed bytes are
// the raw body, or, for a body that is a JSON array, its first element as compact JSON
// text. Segment sends compact JSON, so that element is taken exactly as it appears in
// the body; for a body with whitespace inside its first element (one printed with
// indentation on its way), the element with that whitespace removed is accepted too.
// Nothing is re-encoded: removing whitespace between tokens leaves every string and
// number as sent. The comparisons take constant time.
//
// It returns nil for a match, ErrNoSignature when header or secret is empty, and
// ErrSignature otherwise (including a header that is not hex and an array body with no
// element). A caller with a secret configured refuses the request on any error.
func VerifySignature(body []byte, header string, secret []byte) error {
	header = strings.TrimSpace(header)
	if header == "" || len(secret) == 0 {
		return ErrNoSignature
	}
	want, err := hex.DecodeString(header)
	if err != nil || len(want) != sha1.Size {
		return ErrSignature
	}
	i := firstNonSpace(body)
	if i >= len(body) || body[i] != '[' {
		return check(body, want, secret)
	}
	first, ok := firstElement(body[i:])
	if !ok {
		return ErrSignature
	}
	if check(first, want, secret) == nil {
		return nil
	}
	var sc jsonvalue.Scanner
	compact, shared, err := sc.CompactShared(nil, first)
	if err != nil || shared {
		return ErrSignature // not JSON, or compact already and checked above
	}
	return check(compact, want, secret)
}

// check compares hex-decoded want with the HMAC-SHA1 of signed under secret, in
// constant time.
func check(signed, want, secret []byte) error {
	mac := hmac.New(sha1.New, secret)
	mac.Write(signed)
	if !hmac.Equal(mac.Sum(nil), want) {
		return ErrSignature
	}
	return nil
}

// firstElement returns the raw text of the first element of the array b starts with.
func firstElement(b []byte) ([]byte, bool) {
	start := 1 + firstNonSpace(b[1:])
	if start >= len(b) || b[start] == ']' {
		return nil, false
	}
	var bd boundary
	n := bd.scan(b[start:], 0)
	if n <= 0 {
		return nil, false
	}
	return b[start : start+n], true
}
