// Package validate holds the module's one validator (github.com/go-playground/validator/v10),
// configured once, as DESIGN rule 9 asks.
//
// A package that decodes input puts `validate` tags on the struct it decodes into,
// calls [Struct], and turns each [validator.FieldError] into its own diagnostic: it
// knows which code a field breaks (optin maps a bad channel to optin.unknown_channel,
// Rule C1). [Describe] words a failed tag for the diagnostic's message. Fields are named
// by their `json` tag, so FieldError.Field is the key a user wrote. No validator type
// leaves the module: only internal packages and unexported code see them.
package validate

import (
	"errors"
	"reflect"
	"strings"
	"sync"

	"github.com/go-playground/validator/v10"
)

// instance is the module's one validator, built on first use. A *validator.Validate is
// safe for concurrent use and caches each struct type it has seen.
var instance = sync.OnceValue(func() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			return f.Name
		}
		return name
	})
	return v
})

// Struct checks v, a struct or a pointer to one, against its `validate` tags and returns the
// fields that fail, in field order; nil when all pass. A small struct is best passed by
// value: the validator then reads its fields without copying each. A v that is not a
// struct is a bug in the caller, and Struct panics with validator's error.
func Struct(v any) validator.ValidationErrors {
	err := instance().Struct(v)
	if err == nil {
		return nil
	}
	var fieldErrs validator.ValidationErrors
	if errors.As(err, &fieldErrs) {
		return fieldErrs
	}
	panic("validate: " + err.Error())
}

// Describe says in words what the failed tag of fe requires, such as "must be one of:
// sms, voice, email". It never quotes the value, which may be a phone number or an email
// address.
func Describe(fe validator.FieldError) string {
	switch tag, param := fe.Tag(), fe.Param(); tag {
	case "required":
		return "is required"
	case "oneof":
		return "must be one of: " + strings.Join(strings.Fields(param), ", ")
	case "ip":
		return "must be an IP address"
	default:
		if param != "" {
			return "breaks the " + tag + "=" + param + " rule"
		}
		return "breaks the " + tag + " rule"
	}
}
