package segmentio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func sign(secret, body string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(body))
	return hex.EncodeToString(mac.Sum(nil))
}

// TestVerifySignature_RuleD8 signs as Segment does: the raw body, or for an array only
// its first element's text as it appears.
func TestVerifySignature_RuleD8(t *testing.T) {
	const secret = "whsec_regal"
	single := `{"type":"track","event":"E","userId":"u"}`
	first := `{"type":"track","event":"A","userId":"u"}`
	array := "[" + first + `,{"type":"track","event":"B","userId":"u"}]`
	spaced := " [ \n" + first + " , {\"type\":\"identify\"} ]\n"

	assert.NoError(t, VerifySignature([]byte(single), sign(secret, single), []byte(secret)))
	assert.NoError(t, VerifySignature([]byte(single), strings.ToUpper(sign(secret, single)), []byte(secret)))
	assert.NoError(t, VerifySignature([]byte(array), sign(secret, first), []byte(secret)))
	assert.NoError(t, VerifySignature([]byte(spaced), sign(secret, first), []byte(secret)), "the first element as it appears")

	assert.ErrorIs(t, VerifySignature([]byte(array), sign(secret, array), []byte(secret)), ErrSignature, "an array is not signed whole")
	assert.ErrorIs(t, VerifySignature([]byte(single+" "), sign(secret, single), []byte(secret)), ErrSignature, "no re-encoding: one byte more fails")
	assert.ErrorIs(t, VerifySignature([]byte(single), sign("other", single), []byte(secret)), ErrSignature)
	assert.ErrorIs(t, VerifySignature([]byte(single), "zz"+sign(secret, single)[2:], []byte(secret)), ErrSignature)
	assert.ErrorIs(t, VerifySignature([]byte(single), sign(secret, single)[:38], []byte(secret)), ErrSignature)
	assert.ErrorIs(t, VerifySignature([]byte(`[]`), sign(secret, `[]`), []byte(secret)), ErrSignature)
	assert.ErrorIs(t, VerifySignature([]byte(`[{"a":`), sign(secret, `{"a":`), []byte(secret)), ErrSignature)
	assert.ErrorIs(t, VerifySignature([]byte(single), "", []byte(secret)), ErrNoSignature)
	assert.ErrorIs(t, VerifySignature([]byte(single), "  ", []byte(secret)), ErrNoSignature)
	assert.ErrorIs(t, VerifySignature([]byte(single), sign("", single), nil), ErrNoSignature)
}
