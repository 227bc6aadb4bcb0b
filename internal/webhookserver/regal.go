package webhookserver

import (
	"log/slog"
	"net/http"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/regalio"
)

// regalFlags are the command line's settings for POST /regal, Regal's reporting
// webhooks (Rule R4).
type regalFlags struct {
	token  string // -regal-token: required on every request; empty turns the route off
	header string // -regal-header: a header that may carry the token raw
}

// handleRegal adds POST /regal to mux when a token is configured: Regal's events, each
// recorded on its contact and its subscription changes applied (Rule R5). A request
// must carry "Authorization: Bearer TOKEN", or the raw token in the header -regal-header
// names. Without a token the route is off: it answers 404, rather than falling through
// to the Segment handler at POST /.
func handleRegal(mux *http.ServeMux, p *regalkit.Processor, f regalFlags, logger *slog.Logger) {
	if f.token == "" {
		return // the route is off: notFound answers for it
	}
	h, err := regalio.NewHandler(p.RegalSink(), &regalio.HandlerOptions{Token: f.token, Header: f.header, Logger: logger})
	if err != nil { // cannot happen: the token is set
		panic(err)
	}
	mux.Handle("POST /regal", h)
	mux.HandleFunc("/regal", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, refusal(http.StatusMethodNotAllowed, "method not allowed: Regal's events are POSTed"))
	})
}
