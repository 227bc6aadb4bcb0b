package identity

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNormalizeEmail_RuleT7(t *testing.T) {
	tests := []struct{ in, want string }{
		{"rebecca@example.com", "rebecca@example.com"},
		{"  Rebecca.Greene@Example.COM \n", "Rebecca.Greene@example.com"},
		{"r+regal@mail.example.co.uk", "r+regal@mail.example.co.uk"},
		{"o'brien@example.ie", "o'brien@example.ie"},
		{"x@a-b.example", "x@a-b.example"},
		{"José@Exämple.COM", "José@exämple.com"},
		{"user@xn--bcher-kva.example", "user@xn--bcher-kva.example"},
		{"a@b.c0", "a@b.c0"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeEmail(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestNormalizeEmail_RuleT7_refuses(t *testing.T) {
	for _, in := range []string{
		"", "   ", "rebecca", "rebecca@", "@example.com", "rebecca@example",
		"rebecca@@example.com", ".rebecca@example.com", "rebecca.@example.com",
		"re..becca@example.com", "rebecca@-example.com", "rebecca@example-.com",
		"rebecca@example..com", "rebecca@example.com.", "rebecca@example.123",
		"Rebecca Greene <rebecca@example.com>", "\"rebecca\"@example.com",
		"rebecca@[192.168.0.1]", "rebecca greene@example.com", "rebecca@exa mple.com",
		strings.Repeat("r", 65) + "@example.com",
		"rebecca@" + strings.Repeat("a", 64) + ".com",
		"rebecca@" + strings.Repeat("abcdefghi.", 26) + "com",
		"rebecca\xff@example.com",
		"rebecca\u2028@example.com",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := NormalizeEmail(in)
			require.ErrorIs(t, err, ErrInvalidEmail)
			var ee *EmailError
			require.ErrorAs(t, err, &ee)
			assert.NotEmpty(t, ee.Reason)
			if local, _, ok := strings.Cut(strings.TrimSpace(in), "@"); ok && len(local) > 2 {
				assert.NotContains(t, err.Error(), local, "error leaks the local part")
			}
		})
	}
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"rebecca@example.com", " R@Example.COM ", "a@b", "José@Exämple.COM"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeEmail(s)
		if err != nil {
			return
		}
		again, err := NormalizeEmail(got)
		if err != nil || again != got {
			t.Fatalf("normalizing %q twice: %q, %v; want %q", s, again, err, got)
		}
	})
}

// TestNormalizeEmail_alreadyNormalizedAllocatesNothing checks that an address already
// in its normal form comes back as it is, without a copy.
func TestNormalizeEmail_alreadyNormalizedAllocatesNothing(t *testing.T) {
	in := "Rebecca.Ortiz@example.com"
	var got string
	allocs := testing.AllocsPerRun(100, func() { got, _ = NormalizeEmail(in) })
	if got != in || allocs != 0 {
		t.Fatalf("NormalizeEmail(%q) = %q with %v allocations; want it unchanged with none", in, got, allocs)
	}
	if got, _ := NormalizeEmail(" Rebecca.Ortiz@Example.COM "); got != in {
		t.Fatalf("NormalizeEmail lowered the domain to %q; want %q", got, in)
	}
}
