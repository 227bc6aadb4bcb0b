// Webhook is an HTTP server a Segment Webhooks destination, or any client of Segment's
// tracking API, can point at. It receives deliveries with segmentio.Handler, runs them
// through regalkit's Processor on an in-memory store, and serves what it built:
//
//	POST /               webhook deliveries: one message, or a JSON array
//	POST /v1/{identify,track,page,screen,group,alias,batch}
//	                     tracking-API calls
//	GET  /contacts/{userId}
//	                     the contact with that External ID, with its events, in the
//	                     export format of RULES.md, X; 404 when there is none
//	GET  /audience       the contacts in the audience (Rule A1), one JSON document a
//	                     line (NDJSON), without their events
//	GET  /triggers/{name}/due[?at=RFC3339]
//	                     the contacts due for a -trigger at a time (now by default),
//	                     NDJSON {"contactId","userId","dueAt","entry":{"messageId",
//	                     "timestamp"}} sorted by dueAt then contactId; 404 for an
//	                     unknown trigger
//	GET  /healthz        200 while the server runs
//	POST /regal          Regal's reporting webhooks, with -regal-token only
//	GET  /outbox         the counts of what is forwarded to Regal, with -regal-key only
//
// Any other path or method gets a JSON error, 404 or 405, and nothing is processed.
// Messages that arrive through /v1/* without a receivedAt are stamped with the
// server's clock, as Segment's tracking API does.
//
// Usage:
//
//	go run ./examples/webhook [-addr 127.0.0.1:8080] [-secret S] [-token T] [-write-key K]... [-context-traits] [-v]
//	                          [-regal-token T [-regal-header NAME]] [-regal-key K [-regal-url URL]] [-trigger FILE]...
//
// With -secret, every delivery must carry Segment's X-Signature for that shared secret;
// Segment signs only the first message of an array, so add -token, a shared bearer
// token every delivery must carry as "Authorization: Bearer T" (set that header in the
// Webhooks (Actions) destination's mapping); see SECURITY.md. With -write-key
// (repeatable), every delivery must carry one of the keys, as Basic credentials or, with
// -token, as "writeKey" in the body. The status codes are segmentio.Handler's. With
// -context-traits, the context.traits of tracks, pages and screens apply as traits
// (regalkit.Options.ApplyContextTraits); without it they are only recorded.
//
// With -trigger (repeatable), each FILE holds a journey trigger in its JSON form (package
// trigger); a file that cannot be read or decoded stops the server at start with an
// error naming the file and the field.
//
// With -regal-token, POST /regal takes Regal's events (see regalio.Handler): each
// request must carry "Authorization: Bearer T", or T raw in the header -regal-header
// names; without -regal-token the route is off (404).
//
// The read endpoints have no authentication of their own, and show phones and emails:
// keep the server on a loopback or private address, or put it behind a proxy that
// authenticates. Contacts live in memory and are lost when it stops.
//
// With -regal-key, what the server processes is forwarded to Regal's Events API (see
// regalkit.Forwarder): -regal-url is the full endpoint (default
// https://events.regalvoice.com/events) and the key goes raw in Authorization. Every
// message that changes what Regal holds of a contact, or records a track event, leaves
// an entry in the store's outbox in its own transaction; GET /outbox answers
// {"pending":N,"sent":N,"dead":N,"oldestPendingSeconds":N} for a health check.
// Contacts and the outbox live in memory: what is pending when the process ends is lost.
//
// SIGINT or SIGTERM stops the server gracefully: it accepts no new connections,
// finishes the requests in flight and then drains the forwarder's sends, for up to 25
// seconds in all, before it exits.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/segmentio"
)

// The server's timeouts. Segment's webhook destination waits 5 seconds for an answer;
// the others bound what a slow or idle client can hold.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	shutdownTimeout   = 25 * time.Second
)

// errUsage is a command line that cannot be run; the flag package has said why.
var errUsage = errors.New("usage error")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "webhook:", err)
		os.Exit(1)
	}
}

// run parses args, serves until ctx is done, then shuts down gracefully. It writes
// "listening on http://ADDR" to stdout once it accepts connections, and its log to
// stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("webhook", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "`host:port` to listen on; port 0 picks a free one")
	secret := fs.String("secret", "", "the Webhooks destination's shared `secret`: every delivery must be signed with it")
	token := fs.String("token", "", "a shared bearer `token`: every delivery must carry \"Authorization: Bearer token\"")
	var keys []string
	fs.Func("write-key", "a Segment source write `key` to accept (repeatable): every delivery must carry one", func(k string) error {
		if k == "" {
			return errors.New("empty write key")
		}
		keys = append(keys, k)
		return nil
	})
	var triggerFiles []string
	fs.Func("trigger", "a journey trigger's JSON `file` (repeatable): serves GET /triggers/{name}/due", func(f string) error {
		triggerFiles = append(triggerFiles, f)
		return nil
	})
	contextTraits := fs.Bool("context-traits", false, "apply the context.traits of track, page and screen as traits (regalkit.Options.ApplyContextTraits)")
	verbose := fs.Bool("v", false, "log every delivery, not only refusals and failures")
	var regal regalFlags
	fs.StringVar(&regal.token, "regal-token", "", "serve Regal's reporting webhooks at POST /regal; every request must carry this `token`")
	fs.StringVar(&regal.header, "regal-header", "", "a header `name` that may carry the -regal-token raw (Authorization: Bearer TOKEN always works)")
	var fwd forwardFlags // see forward.go
	fs.StringVar(&fwd.key, "regal-key", "", "forward what is processed to Regal's Events API with this API `key`")
	fs.StringVar(&fwd.url, "regal-url", defaultRegalURL, "the Events API endpoint `URL` -regal-key forwards to")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "webhook: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	if _, err := fwd.baseURL(); fwd.on() && err != nil {
		fmt.Fprintf(stderr, "webhook: %v\n", err)
		return errUsage
	}

	triggers, err := loadTriggers(triggerFiles)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	store := memstore.New()
	handler := newServerWithRegal(store, &regalkit.Options{Logger: logger, ApplyContextTraits: *contextTraits, Outbox: fwd.on(), Triggers: triggers},
		&segmentio.HandlerOptions{WriteKeys: keys, Secret: *secret, Token: *token, Logger: logger}, regal, logger)
	var fw *regalkit.Forwarder
	if fwd.on() {
		var err error
		if fw, err = newForwarder(store, fwd, logger); err != nil {
			return err
		}
		handler = withOutbox(handler, fw, logger)
		fw.Start()
		defer func() { // when Serve failed; a no-op after the drain below
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = fw.Stop(ctx)
		}()
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("webhook: shutting down; finishing the requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if fw != nil {
		// After the requests in flight, so that what they enqueued is sent too.
		if err := drain(shutdownCtx, fw, logger); err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
	}
	return nil
}

// newServer returns the routes of the server, processing deliveries into store with a
// Processor configured by popts (nil means logging to logger only).
func newServer(store contact.Store, popts *regalkit.Options, opts *segmentio.HandlerOptions, logger *slog.Logger) http.Handler {
	return newServerWithRegal(store, popts, opts, regalFlags{}, logger)
}

// newServerWithRegal is newServer with POST /regal when regal has a token.
func newServerWithRegal(store contact.Store, popts *regalkit.Options, opts *segmentio.HandlerOptions, regal regalFlags, logger *slog.Logger) http.Handler {
	if popts == nil {
		popts = &regalkit.Options{Logger: logger}
	}
	p := regalkit.New(store, popts)
	hook := segmentio.NewHandler(p.Sink(), opts)
	mux := http.NewServeMux()
	handleRegal(mux, p, regal, logger)
	handleGuard(mux, p, logger) // GET /guard: see guard.go
	handleTriggers(mux, store, popts.Triggers, logger)
	for _, route := range deliveryRoutes {
		mux.Handle("POST "+route, hook)
	}
	mux.HandleFunc("GET /contacts/{userId}", func(w http.ResponseWriter, r *http.Request) {
		serveContact(w, r, store, logger)
	})
	mux.HandleFunc("GET /audience", func(w http.ResponseWriter, r *http.Request) {
		serveAudience(w, r, store, logger)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/", notFound)
	return mux
}

// deliveryRoutes are the paths that take deliveries: the webhook's and the tracking
// API's. Only these reach the handler.
var deliveryRoutes = []string{"/{$}", "/v1/identify", "/v1/track", "/v1/page", "/v1/screen", "/v1/group", "/v1/alias", "/v1/batch"}

// notFound answers every request no route takes: 405 for a delivery route with another
// method, 404 for any other path, with a JSON error either way.
func notFound(w http.ResponseWriter, r *http.Request) {
	for _, route := range deliveryRoutes {
		if r.URL.Path == strings.TrimSuffix(route, "{$}") {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed: deliveries are POSTed"})
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such route"})
}

// serveContact writes the contact whose External ID is the path's userId, with its
// events (RULES.md, X), or 404.
func serveContact(w http.ResponseWriter, r *http.Request, store contact.Store, logger *slog.Logger) {
	ctx := r.Context()
	userID := r.PathValue("userId")
	found, err := store.Find(ctx, identity.UserKey(userID))
	if err != nil {
		fail(w, r, logger, err)
		return
	}
	var c *contact.Contact
	for _, f := range found {
		if f.UserID() == userID { // not a contact that once had the id (Rule I5)
			c = f
			break
		}
	}
	if c == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no contact has this userId"})
		return
	}
	var events []event.Record
	for rec, err := range store.Events(ctx, c.ID(), contact.EventQuery{}) {
		if err != nil {
			fail(w, r, logger, err)
			return
		}
		events = append(events, rec)
	}
	writeJSON(w, http.StatusOK, contact.Export{Contact: c, Events: events, OmitClocks: true})
}

// serveAudience writes the contacts in the audience as NDJSON, in the store's order.
func serveAudience(w http.ResponseWriter, r *http.Request, store contact.Store, logger *slog.Logger) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	wrote := false
	for c, err := range store.Contacts(r.Context()) {
		if err != nil {
			if !wrote {
				fail(w, r, logger, err)
				return
			}
			// The status is sent: end the stream short, and say so in the log.
			logger.LogAttrs(r.Context(), slog.LevelWarn, "webhook: audience cut short", slog.String("error", err.Error()))
			return
		}
		if !c.InAudience() {
			continue
		}
		if err := enc.Encode(contact.Export{Contact: c, OmitClocks: true}); err != nil {
			return // the client went away
		}
		wrote = true
	}
}

func fail(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	logger.LogAttrs(r.Context(), slog.LevelWarn, "webhook: store read failed", slog.String("route", r.Pattern), slog.String("error", err.Error()))
	writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "the store could not be read"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"the response could not be encoded"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
