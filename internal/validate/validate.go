// Package validate checks the shape of decoded structs and reports what is wrong as
// diagnostics (DESIGN rule 9).
//
// One validator instance (github.com/go-playground/validator/v10) serves the whole
// module. Packages describe a shape with `validate` struct tags, name the JSON path of each
// field with its `json` tag, and may give a field its own diagnostic code with a `diag`
// tag:
//
//	type shape struct {
//		Channel string `json:"channel" validate:"required,oneof=sms voice email" diag:"optin.unknown_channel"`
//		IP      string `json:"ip" validate:"omitempty,ip"`
//	}
//
// [Struct] returns one [diag.Diagnostic] per failing field. No validator type leaves this
// package, and no message holds the value that failed: values can be phone numbers or
// email addresses, which diagnostics must never show whole.
package validate

import (
	"errors"
	"reflect"
	"strings"
	"sync"

	"github.com/go-playground/validator/v10"

	"github.com/regalkit/regalkit/diag"
)

// instance is the module's one validator, built on first use. A *validator.Validate is
// safe for concurrent use and caches each struct type it has seen.
var instance = sync.OnceValue(func() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(jsonName)
	return v
})

// jsonName names a field by its JSON key, so diagnostics carry the path a user wrote.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" || name == "-" {
		return f.Name
	}
	return name
}

// Struct checks v, a struct or a pointer to one, against its `validate` tags and returns
// one diagnostic per failing field, in field order; nil when v passes.
//
// field is the path of v in the message, such as "traits.optIn[1]"; each diagnostic's
// Field is that path followed by the failing field's JSON path ("traits.optIn[1].channel").
// Its Code is the failing field's `diag` tag, else code. Its Message names the field and
// the rule it breaks, never the value. Diagnostics carry no MessageID: the caller knows it.
//
// A v that is not a struct cannot be checked; Struct then returns a single diagnostic
// with code for the whole of field rather than panicking.
func Struct(v any, field string, code diag.Code) []diag.Diagnostic {
	err := instance().Struct(v)
	if err == nil {
		return nil
	}
	var fieldErrs validator.ValidationErrors
	if !errors.As(err, &fieldErrs) {
		return []diag.Diagnostic{{
			Code:    code,
			Field:   field,
			Message: "cannot check the shape of a " + typeName(v),
		}}
	}
	root := reflect.TypeOf(v)
	out := make([]diag.Diagnostic, 0, len(fieldErrs))
	for _, fe := range fieldErrs {
		c := code
		if tag := diagTag(root, fe.StructNamespace()); tag != "" {
			c = diag.Code(tag)
		}
		out = append(out, diag.Diagnostic{
			Code:    c,
			Field:   join(field, afterRoot(fe.Namespace())),
			Message: fe.Field() + " " + describe(fe.Tag(), fe.Param()),
		})
	}
	return out
}

func typeName(v any) string {
	if v == nil {
		return "nil value"
	}
	return reflect.TypeOf(v).String()
}

// afterRoot drops the struct type's name from a validator namespace:
// "shape.items[0].name" becomes "items[0].name".
func afterRoot(ns string) string {
	_, rest, found := strings.Cut(ns, ".")
	if !found {
		return ns
	}
	return rest
}

func join(base, rest string) string {
	switch {
	case base == "":
		return rest
	case rest == "":
		return base
	case rest[0] == '[':
		return base + rest
	}
	return base + "." + rest
}

// diagTag finds the `diag` tag of the field a struct namespace (Go field names, as in
// "shape.Items[0].Name") points at, starting from the root type.
func diagTag(root reflect.Type, structNS string) string {
	t := root
	segments := strings.Split(afterRoot(structNS), ".")
	var f reflect.StructField
	for i, seg := range segments {
		name, index, indexed := strings.Cut(seg, "[")
		t = deref(t)
		if t == nil || t.Kind() != reflect.Struct {
			return ""
		}
		var ok bool
		if f, ok = t.FieldByName(name); !ok {
			return ""
		}
		t = f.Type
		if indexed {
			// One element type per bracket: "Grid[0][1]" is two levels down.
			for n := strings.Count(index, "[") + 1; n > 0; n-- {
				t = deref(t)
				if t == nil {
					return ""
				}
				switch t.Kind() {
				case reflect.Slice, reflect.Array, reflect.Map:
					t = t.Elem()
				default:
					return ""
				}
			}
		}
		if i == len(segments)-1 {
			return f.Tag.Get("diag")
		}
	}
	return ""
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// describe says in words what a validator tag requires.
func describe(tag, param string) string {
	switch tag {
	case "required":
		return "is required"
	case "oneof":
		return "must be one of: " + strings.Join(strings.Fields(param), ", ")
	case "ip":
		return "must be an IP address"
	case "ipv4":
		return "must be an IPv4 address"
	case "ipv6":
		return "must be an IPv6 address"
	case "email":
		return "must be an email address"
	case "max":
		return "must be at most " + param + " long"
	case "min":
		return "must be at least " + param + " long"
	case "len":
		return "must be exactly " + param + " long"
	}
	if param != "" {
		return "breaks the " + tag + "=" + param + " rule"
	}
	return "breaks the " + tag + " rule"
}
