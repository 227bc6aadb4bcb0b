package validate

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type shape struct {
	Channel string `json:"channel" validate:"required,oneof=sms voice email"`
	IP      string `json:"ip,omitempty" validate:"omitempty,ip"`
	Code    string `validate:"omitempty,len=2"`
	hidden  string `validate:"required"` // unexported: never checked
}

func TestStruct(t *testing.T) {
	assert.Nil(t, Struct(&shape{Channel: "sms", IP: "8.8.8.8", Code: "GB"}))
	assert.Nil(t, Struct(&shape{Channel: "voice", IP: "2001:db8::1"}))

	tests := []struct {
		in     shape
		fields []string // FieldError.Field of each failure, in field order
		words  []string // Describe of each
	}{
		{shape{}, []string{"channel"}, []string{"is required"}},
		{shape{Channel: "fax"}, []string{"channel"}, []string{"must be one of: sms, voice, email"}},
		{shape{Channel: "sms", IP: "1.2.3"}, []string{"ip"}, []string{"must be an IP address"}},
		{shape{Channel: "SMS", IP: "x", Code: "GBR"}, []string{"channel", "ip", "Code"},
			[]string{"must be one of: sms, voice, email", "must be an IP address", "breaks the len=2 rule"}},
	}
	for _, tt := range tests {
		errs := Struct(&tt.in)
		require.Len(t, errs, len(tt.fields), "%+v", tt.in)
		for i, fe := range errs {
			assert.Equal(t, tt.fields[i], fe.Field())
			assert.Equal(t, tt.words[i], Describe(fe))
		}
	}
	_ = shape{}.hidden
}

func TestStruct_panicsOnANonStruct(t *testing.T) {
	assert.Panics(t, func() { Struct("not a struct") })
}
