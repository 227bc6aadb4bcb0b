// Package httpstatus names HTTP statuses as the code of a refusal's answer, for the
// handlers of this module and the example servers alike.
package httpstatus

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/regalkit/regalkit/diag"
)

// Code is the code of an answer with the status and no diagnostic: "http." and the
// status's name in snake case, such as "http.unauthorized" or
// "http.request_entity_too_large"; "http." and the number for a status without a name.
func Code(status int) diag.Code {
	name := strings.ToLower(http.StatusText(status))
	if name == "" {
		name = strconv.Itoa(status)
	}
	return diag.Code("http." + strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r == ' ' || r == '-':
			return '_'
		}
		return -1
	}, name))
}
