package pgstore

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestMissingDSN runs a test that needs the database in a child process without
// REGALKIT_POSTGRES_DSN: it skips, saying how to run it, and with CI set it fails.
func TestMissingDSN(t *testing.T) {
	if os.Getenv("PGSTORE_DSN_CHILD") == "1" {
		testDSN(t)
		return
	}
	child := func(ci string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissingDSN$", "-test.v")
		env := []string{"PGSTORE_DSN_CHILD=1", "CI=" + ci, dsnEnv + "="}
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "CI=") && !strings.HasPrefix(kv, dsnEnv+"=") {
				env = append(env, kv)
			}
		}
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := child("")
	assert.NoError(t, err, "without CI: %s", out)
	assert.Contains(t, out, "--- SKIP")
	assert.Contains(t, out, ".ci/postgres", "the skip says how to run the tests")

	out, err = child("true")
	assert.Error(t, err, "with CI: %s", out)
	assert.Contains(t, out, "--- FAIL")
}
