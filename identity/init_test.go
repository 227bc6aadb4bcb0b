package identity

import (
	"os"
	"os/exec"
	"regexp"
	"testing"
)

// TestPackageInitDoesNoWork runs this test binary again with GODEBUG=inittrace=1 and
// reads what package initialization cost: identity must add no work of its own (no
// compiled patterns, no tables built at init) beyond what libphonenumber does at import.
func TestPackageInitDoesNoWork(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("re-running the test binary: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^init github.com/nyaruka/phonenumbers @`).Match(out) {
		t.Fatalf("inittrace output has no line for phonenumbers; cannot check:\n%s", out)
	}
	line := regexp.MustCompile(`(?m)^init github.com/regalkit/regalkit/identity @.*$`).Find(out)
	if line == nil {
		return // no init work at all
	}
	m := regexp.MustCompile(`, (\d+) bytes, (\d+) allocs`).FindSubmatch(line)
	if m == nil || string(m[1]) != "0" || string(m[2]) != "0" {
		t.Fatalf("identity's package init allocates: %s", line)
	}
}
