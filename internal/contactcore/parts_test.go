package contactcore

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestMerge_OtherUserID_RuleI5: merging the contact of another userId keeps that userId
// as a former External ID, and the merged contact shows what its messages said.
func TestMerge_OtherUserID_RuleI5(t *testing.T) {
	m := identify(t, 1, `{"firstName":"Pat"}`)
	m.UserID = "p"
	p := New("c-p")
	p.SetUserID("p")
	p.ApplyTraits(m, nil)
	u := New("c-u")
	u.SetUserID("u")
	u.Merge(p)
	assert.Equal(t, "u", u.UserID())
	assert.Equal(t, []string{"p"}, u.FormerUserIDs())
	assert.Equal(t, "Pat", u.FirstName(), "the former External ID's messages show")
	s, refs := u.SplitUser("p")
	assert.Empty(t, refs)
	assert.Equal(t, "Pat", s.FirstName())
	assert.Empty(t, u.FirstName(), "and leave with it")
}
