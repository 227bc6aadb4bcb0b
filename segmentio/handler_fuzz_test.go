package segmentio

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/event"
)

// FuzzHandler: no body, path or header makes the handler panic or answer anything but
// one of its documented statuses with a JSON body; the sink is called only for a 200;
// and with no credentials asked for, a webhook delivery gets exactly the results
// DecodeAll gives: 200 when a message decodes, with one result per item.
func FuzzHandler(f *testing.F) {
	const secret = "whsec_fuzz"
	for _, s := range []struct{ path, body, auth, sig, enc string }{
		{"/", seedIdentify, "", "", ""},
		{"/v1/track", `{"event":"E","userId":1}`, basic("wk"), "", ""},
		{"/v1/batch", `{"batch":[{"type":"page","anonymousId":"a"}],"writeKey":"wk"}`, "", "", ""},
		{"/", `[{"type":"track","event":"E","userId":"u","writeKey":"wk"},{"type":"x"}]`, "", sign(secret, `{"type":"track","event":"E","userId":"u","writeKey":"wk"}`), ""},
		{"/v1/identify", "{\"userId\":\"u\"}\n{\"userId\":\"v\"}\n", "Basic Og==", "", "identity"},
		{"/", "\x1f\x8b\x08\x00", "", "", "gzip"},
		{"/v1/alias/", `{"type":"alias","userId":"u","previousId":null}`, "Bearer x", "00", "br"},
		{"/", `[{"type":"track","event":"E","userId":"u","writeKey":"wk"}]`, "Bearer tok", sign(secret, `{"type":"track","event":"E","userId":"u","writeKey":"wk"}`), ""},
		{"/", `[]`, "Bearer tok", "", ""},
	} {
		f.Add(s.path, []byte(s.body), s.auth, s.sig, s.enc)
	}
	var calls int
	var got int
	sink := func(_ context.Context, msgs []event.Message) ([]SinkResult, error) {
		calls++
		got = len(msgs)
		return make([]SinkResult, len(msgs)), nil
	}
	open := NewHandler(sink, nil)
	guarded := NewHandler(sink, &HandlerOptions{Secret: secret, WriteKeys: []string{"wk"}, MaxBodyBytes: 4096})
	tokened := NewHandler(sink, &HandlerOptions{Token: "tok", Secret: secret, WriteKeys: []string{"wk"}})
	statuses := []int{200, 400, 401, 403, 413, 415}

	f.Fuzz(func(t *testing.T, path string, body []byte, auth, sig, enc string) {
		for _, h := range []*Handler{open, guarded, tokened} {
			calls, got = 0, 0
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			req.URL.Path = path
			req.Header.Set("Authorization", auth)
			req.Header.Set("X-Signature", sig)
			req.Header.Set("Content-Encoding", enc)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			require.Contains(t, statuses, rec.Code)
			var resp HandlerResponse
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp), rec.Body.String())
			if rec.Code != http.StatusOK {
				require.Zero(t, calls, "the sink is called only for a 200")
				require.NotEmpty(t, resp.Error)
				continue
			}
			require.Equal(t, 1, calls)
			require.Empty(t, resp.Error)
			require.GreaterOrEqual(t, len(resp.Results), got)

			if h != open || endpointOf(path).kind != 0 || !slices.Contains([]string{"", "identity"}, enc) {
				continue
			}
			items, err := DecodeAll(body, nil)
			valid := 0
			for _, it := range items {
				if it.Err == nil {
					valid++
				}
			}
			want := len(items)
			if err != nil {
				want++
			}
			require.Positive(t, valid)
			require.Equal(t, valid, got)
			require.Len(t, resp.Results, want)
		}
		// And the differential the other way: a body DecodeAll finds a message in is
		// accepted by the open handler on a webhook path.
		if !slices.Contains([]string{"", "identity"}, enc) || endpointOf(path).kind != 0 {
			return
		}
		items, _ := DecodeAll(body, nil)
		if slices.ContainsFunc(items, func(r Result) bool { return r.Err == nil }) {
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			rec := httptest.NewRecorder()
			open.ServeHTTP(rec, req)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		}
	})
}
