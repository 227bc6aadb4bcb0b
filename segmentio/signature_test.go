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

// TestVerifySignature_RuleD8_compactFirstElement: the first element of an array is
// signed as compact JSON text, so an array whose first element was printed with
// indentation on its way verifies against the compact text, and still against its own
// bytes; what differs in more than whitespace does not.
func TestVerifySignature_RuleD8_compactFirstElement(t *testing.T) {
	const secret = "whsec_regal"
	compact := `{"type":"track","event":"A b","userId":"u","properties":{"n":1.50,"s":" x "}}`
	pretty := "{\n  \"type\": \"track\",\n  \"event\": \"A b\",\n  \"userId\": \"u\",\n  \"properties\": { \"n\": 1.50, \"s\": \" x \" }\n}"
	body := "[\n" + pretty + ",\n" + compact + "\n]"

	assert.NoError(t, VerifySignature([]byte(body), sign(secret, compact), []byte(secret)), "the compact text of the first element")
	assert.NoError(t, VerifySignature([]byte(body), sign(secret, pretty), []byte(secret)), "the first element as it appears")
	for _, other := range []string{
		`{"type":"track","event":"Ab","userId":"u","properties":{"n":1.50,"s":" x "}}`,  // space inside a string
		`{"type":"track","event":"A b","userId":"u","properties":{"n":1.5,"s":" x "}}`,  // a number re-encoded
		`{"event":"A b","type":"track","userId":"u","properties":{"n":1.50,"s":" x "}}`, // keys reordered
	} {
		assert.ErrorIs(t, VerifySignature([]byte(body), sign(secret, other), []byte(secret)), ErrSignature, other)
	}
	// A single message is signed whole, as sent: its compact form is not accepted.
	assert.ErrorIs(t, VerifySignature([]byte(pretty), sign(secret, compact), []byte(secret)), ErrSignature)
}
