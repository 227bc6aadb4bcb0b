package validate

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/diag"
)

type inner struct {
	Name string `json:"name" validate:"required" diag:"trait.invalid"`
}

type shape struct {
	Channel string    `json:"channel" validate:"required,oneof=sms voice email" diag:"optin.unknown_channel"`
	IP      string    `json:"ip" validate:"omitempty,ip"`
	Code    string    `json:"-" validate:"omitempty,len=2"`
	Items   []inner   `json:"items" validate:"dive"`
	Grid    [][]inner `json:"grid" validate:"dive,dive"`
	Ptr     *inner    `json:"ptr"`
	Phone   string    `json:"phone" validate:"omitempty,max=5"`
}

func TestStruct(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want []diag.Diagnostic
	}{
		{"valid", shape{Channel: "sms", IP: "8.8.8.8"}, nil},
		{"valid pointer", &shape{Channel: "voice", IP: "2001:db8::1"}, nil},
		{"missing with diag tag", shape{}, []diag.Diagnostic{
			{Code: diag.OptinUnknownChannel, Field: "traits.optIn[1].channel", Message: "channel is required"},
		}},
		{"oneof lists choices", shape{Channel: "fax"}, []diag.Diagnostic{
			{Code: diag.OptinUnknownChannel, Field: "traits.optIn[1].channel", Message: "channel must be one of: sms, voice, email"},
		}},
		{"default code", shape{Channel: "sms", IP: "not-an-ip"}, []diag.Diagnostic{
			{Code: diag.OptinInvalid, Field: "traits.optIn[1].ip", Message: "ip must be an IP address"},
		}},
		{"json dash keeps the Go name", shape{Channel: "sms", Code: "abc"}, []diag.Diagnostic{
			{Code: diag.OptinInvalid, Field: "traits.optIn[1].Code", Message: "Code must be exactly 2 long"},
		}},
		{"slice element path and nested diag tag", shape{Channel: "sms", Items: []inner{{"a"}, {}}}, []diag.Diagnostic{
			{Code: diag.TraitInvalid, Field: "traits.optIn[1].items[1].name", Message: "name is required"},
		}},
		{"two levels of brackets", shape{Channel: "sms", Grid: [][]inner{{{"a"}}, {{"b"}, {}}}}, []diag.Diagnostic{
			{Code: diag.TraitInvalid, Field: "traits.optIn[1].grid[1][1].name", Message: "name is required"},
		}},
		{"several failures in field order", shape{Channel: "x", IP: "y"}, []diag.Diagnostic{
			{Code: diag.OptinUnknownChannel, Field: "traits.optIn[1].channel", Message: "channel must be one of: sms, voice, email"},
			{Code: diag.OptinInvalid, Field: "traits.optIn[1].ip", Message: "ip must be an IP address"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Struct(tt.in, "traits.optIn[1]", diag.OptinInvalid)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestStruct_neverShowsTheValue: the value that failed may be a phone number, so no
// message may quote it.
func TestStruct_neverShowsTheValue(t *testing.T) {
	got := Struct(shape{Channel: "+19545552399", IP: "+19545552399", Phone: "+19545552399"}, "x", diag.OptinInvalid)
	require.Len(t, got, 3)
	for _, d := range got {
		assert.NotContains(t, d.String(), "9545552399")
		assert.NotContains(t, d.String(), "2399")
	}
	assert.Equal(t, "phone must be at most 5 long", got[2].Message)
}

func TestStruct_emptyBasePath(t *testing.T) {
	got := Struct(shape{Channel: "fax"}, "", diag.OptinInvalid)
	require.Len(t, got, 1)
	assert.Equal(t, "channel", got[0].Field)
}

// TestStruct_notAStruct: misuse is reported as a diagnostic, never a panic.
func TestStruct_notAStruct(t *testing.T) {
	for _, v := range []any{nil, 42, "s", (*shape)(nil)} {
		got := Struct(v, "traits.x", diag.TraitInvalid)
		require.Len(t, got, 1, "%#v", v)
		assert.Equal(t, diag.TraitInvalid, got[0].Code)
		assert.Equal(t, "traits.x", got[0].Field)
		assert.Contains(t, got[0].Message, "cannot check the shape")
	}
}

func TestDescribe(t *testing.T) {
	assert.Equal(t, "must be at least 3 long", describe("min", "3"))
	assert.Equal(t, "must be an email address", describe("email", ""))
	assert.Equal(t, "must be an IPv4 address", describe("ipv4", ""))
	assert.Equal(t, "must be an IPv6 address", describe("ipv6", ""))
	assert.Equal(t, "breaks the uuid rule", describe("uuid", ""))
	assert.Equal(t, "breaks the gt=3 rule", describe("gt", "3"))
}
