package httpstatus

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/regalkit/regalkit/diag"
)

func TestCode(t *testing.T) {
	for status, want := range map[int]diag.Code{
		http.StatusUnauthorized:          "http.unauthorized",
		http.StatusRequestEntityTooLarge: "http.request_entity_too_large",
		http.StatusInternalServerError:   "http.internal_server_error",
		http.StatusNonAuthoritativeInfo:  "http.non_authoritative_information",
		http.StatusTeapot:                "http.im_a_teapot",
		599:                              "http.599",
	} {
		assert.Equal(t, want, Code(status), "status %d", status)
	}
}
