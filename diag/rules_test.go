package diag_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rulesDoc reads RULES.md at the repository root.
func rulesDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "RULES.md"))
	require.NoError(t, err, "RULES.md must exist at the repository root")
	return string(b)
}

// TestRulesListsEveryCode checks that every Code constant of this package has a row in
// the diagnostic table of RULES.md.
func TestRulesListsEveryCode(t *testing.T) {
	doc := rulesDoc(t)
	f, err := parser.ParseFile(token.NewFileSet(), "diag.go", nil, 0)
	require.NoError(t, err)
	var codes []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || vs.Type == nil || len(vs.Values) != 1 {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
			return true
		}
		lit, ok := vs.Values[0].(*ast.BasicLit)
		require.True(t, ok, "code %s is not a string literal", vs.Names[0])
		s, err := strconv.Unquote(lit.Value)
		require.NoError(t, err)
		codes = append(codes, s)
		return true
	})
	require.NotEmpty(t, codes)
	for _, c := range codes {
		assert.True(t, strings.Contains(doc, "\n| `"+c+"` |"), "RULES.md has no table row for %s", c)
	}
}

// TestRulesHasEveryCitedRule checks that every rule ID cited in the module's Go files
// ("Rule T8", "Rules C4–C7", "Rules T4, I4 and S3", "RuleS3" in a test name) has a
// paragraph in RULES.md.
func TestRulesHasEveryCitedRule(t *testing.T) {
	doc := rulesDoc(t)
	cite := regexp.MustCompile(`Rules? ?([A-Z][0-9]+)(?:[–-]([A-Z]?[0-9]+))?((?:(?:, | and )[A-Z][0-9]+)*)`)
	listed := regexp.MustCompile(`[A-Z][0-9]+`)
	cited := map[string]bool{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range cite.FindAllStringSubmatch(string(b), -1) {
			cited[m[1]] = true
			if m[2] != "" { // a range such as C4–C7: its last ID
				last := m[2]
				if last[0] >= '0' && last[0] <= '9' {
					last = m[1][:1] + last
				}
				cited[last] = true
			}
			for _, id := range listed.FindAllString(m[3], -1) { // the rest of a list
				cited[id] = true
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Contains(t, cited, "T8", "the walk found no citations")
	for id := range cited {
		assert.True(t, strings.Contains(doc, "**"+id+" "), "RULES.md has no paragraph for rule %s", id)
	}
}
