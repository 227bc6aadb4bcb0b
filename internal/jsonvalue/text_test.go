package jsonvalue

import (
	"strings"
	"testing"
)

// TestHasLoneSurrogate_RuleD6: a \u escape of half a surrogate pair without its other half,
// which AppendUnescaped reads as U+FFFD.
func TestHasLoneSurrogate_RuleD6(t *testing.T) {
	for in, want := range map[string]bool{
		``:                   false,
		`plain`:              false,
		`\ud83d\ude00`:       false, // a pair: 😀
		`x\ud83d\ude00y`:     false,
		`\u00e9\n\\u d800`:   false,
		`\\ud800`:            false, // an escaped backslash, then text
		`\ud800`:             true,
		`x\udc00`:            true, // a low half first
		`\ude00\ud83d`:       true, // the halves in the wrong order
		`\ud83d`:             true,
		`\ud83dx`:            true,
		`\ud83d\u0041`:       true, // a high half, then no low half
		`a\\\ud800`:          true,
		`\ud83d\ude00\udfff`: true,
		`\uD83D\uDE00`:       false,
	} {
		if got := HasLoneSurrogate([]byte(in)); got != want {
			t.Errorf("HasLoneSurrogate(%s) = %v, want %v", in, got, want)
		}
		// Agrees with what unescaping does: U+FFFD where no escape asked for it.
		if got := string(AppendUnescaped(nil, []byte(in))); strings.Contains(got, "\uFFFD") != want {
			t.Errorf("AppendUnescaped(%s) = %q, but HasLoneSurrogate says %v", in, got, want)
		}
	}
}
