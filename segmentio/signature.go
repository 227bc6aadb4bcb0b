package segmentio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strings"
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
// the raw body, or, for a body that is a JSON array, its first element exactly as it
// appears in the body. Nothing is re-encoded. The comparison takes constant time.
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
	signed := body
	if i := firstNonSpace(body); i < len(body) && body[i] == '[' {
		first, ok := firstElement(body[i:])
		if !ok {
			return ErrSignature
		}
		signed = first
	}
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
