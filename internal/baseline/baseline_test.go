package baseline

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoop_Handle(t *testing.T) {
	l := New()
	ok, err := l.Handle([]byte(`{"type":"identify","userId":"u1","messageId":"m1","traits":{"phone":"(954) 555-2399","plan":"pro"}}`))
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = l.Handle([]byte(`{"type":"identify","userId":"u1","messageId":"m1","traits":{"plan":"free"}}`))
	require.NoError(t, err)
	assert.False(t, ok, "a re-delivery changes nothing")
	_, err = l.Handle([]byte(`{"type":"track","userId":"u1","messageId":"m2","event":"Clicked"}`))
	require.NoError(t, err)
	p := l.profiles["u1"]
	assert.Equal(t, "+19545552399", p.Phone)
	assert.Equal(t, "pro", p.Traits["plan"])
	assert.Len(t, p.Events, 1)
	_, err = l.Handle([]byte(`{"type":"track"}`))
	assert.ErrorIs(t, err, ErrNoIdentity)
	_, err = l.Handle([]byte(`{`))
	assert.Error(t, err)
	assert.Equal(t, 1, l.Len())
}
