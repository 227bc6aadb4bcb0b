// Regalkit-webhook is the webhook server of examples/webhook on PostgreSQL: contacts
// survive a restart, and any number of replicas can serve one database. It receives
// Segment deliveries with segmentio.Handler, runs them through regalkit's Processor on a
// contact/pgstore Store, and serves what it built:
//
//	POST /               webhook deliveries: one message, or a JSON array
//	POST /v1/{identify,track,page,screen,group,alias,batch}
//	                     tracking-API calls
//	GET  /contacts/{userId}
//	                     the contact with that External ID, with its events, in the
//	                     export format of SPEC X; 404 when there is none
//	GET  /audience       the contacts in the audience (Rule A1), one JSON document a
//	                     line (NDJSON), without their events
//	GET  /healthz        200 while the server runs and reaches its database
//	GET  /outbox         the counts of what is forwarded to Regal, with -regal-key only
//
// Usage:
//
//	regalkit-webhook -postgres DSN [-addr 127.0.0.1:8080] [-secret S] [-write-key K]... [-max-conns N]
//	                 [-regal-key K [-regal-url URL]] [-v]
//
// DSN is a PostgreSQL connection string (postgres://user:password@host:5432/db, or
// key=value pairs); without -postgres the server reads REGALKIT_POSTGRES_DSN. The
// server creates or upgrades its tables at start (pgstore's Migrate, which replicas may
// run at once). -secret and -write-key are as for examples/webhook. A delivery is
// answered 200 once every message in it is committed; when the database fails, 500, and
// Segment retries: a retried delivery applies nothing twice (Rule E2), whichever
// replica gets it.
//
// With -regal-key, what the server processes is forwarded to Regal's Events API (see
// regalkit.Forwarder), as examples/webhook does: -regal-url is the full endpoint
// (default https://events.regalvoice.com/events) and the key goes raw in Authorization.
// Every message that changes what Regal holds of a contact, or records an event, adds an
// entry to the outbox table in its own transaction. The replicas share that outbox:
// each runs a Forwarder, and they claim entries with FOR UPDATE SKIP LOCKED under a
// lease (see contact/pgstore, "Outbox"), so that every entry is sent by one replica, in
// order per contact, at least once and in practice once; when a replica dies, the others
// take its entries once their leases end. GET /outbox answers
// {"pending":N,"sent":N,"dead":N,"oldestPendingSeconds":N}, counted across replicas.
//
// The read endpoints have no authentication of their own and show phones and emails:
// keep the server on a loopback or private address, or behind a proxy that
// authenticates. SIGINT or SIGTERM stops the server gracefully: it stops accepting,
// finishes the requests in flight, then drains the forwarder's sends, for up to 25
// seconds in all.
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
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/pgstore"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/segmentio"
)

// The server's timeouts, as examples/webhook's: Segment's webhook destination waits 5
// seconds for an answer; the others bound what a slow or idle client can hold.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	shutdownTimeout   = 25 * time.Second
	startTimeout      = 30 * time.Second
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
		fmt.Fprintln(os.Stderr, "regalkit-webhook:", err)
		os.Exit(1)
	}
}

// run parses args, connects to the database, serves until ctx is done, then shuts down
// gracefully. It writes "listening on http://ADDR" to stdout once it accepts
// connections, and its log to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("regalkit-webhook", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "`host:port` to listen on; port 0 picks a free one")
	dsn := fs.String("postgres", os.Getenv("REGALKIT_POSTGRES_DSN"), "PostgreSQL connection string (`DSN`); default $REGALKIT_POSTGRES_DSN")
	maxConns := fs.Int("max-conns", 0, "most database connections the server opens (`N`); 0 for pgx's default")
	secret := fs.String("secret", "", "the Webhooks destination's shared `secret`: every delivery must be signed with it")
	var keys []string
	fs.Func("write-key", "a Segment source write `key` to accept (repeatable): every delivery must carry one", func(k string) error {
		if k == "" {
			return errors.New("empty write key")
		}
		keys = append(keys, k)
		return nil
	})
	verbose := fs.Bool("v", false, "log every delivery, not only refusals and failures")
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
		fmt.Fprintf(stderr, "regalkit-webhook: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	if _, err := fwd.baseURL(); fwd.on() && err != nil {
		fmt.Fprintf(stderr, "regalkit-webhook: %v\n", err)
		return errUsage
	}
	if *dsn == "" {
		fmt.Fprintln(stderr, "regalkit-webhook: no database: give -postgres DSN or set REGALKIT_POSTGRES_DSN")
		fs.Usage()
		return errUsage
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	cfg, err := pgxpool.ParseConfig(*dsn)
	if err != nil {
		// The error may quote the DSN, password included: say only that it is wrong.
		return errors.New("-postgres: not a PostgreSQL connection string")
	}
	if *maxConns > 0 {
		cfg.MaxConns = int32(*maxConns)
	}
	startCtx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(startCtx, cfg)
	if err != nil {
		return fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	defer pool.Close()
	store, err := pgstore.New(startCtx, pool, nil)
	if err != nil {
		return err
	}
	if err := store.Migrate(startCtx); err != nil {
		return err
	}

	handler := newServer(store, pool, &regalkit.Options{Logger: logger, Outbox: fwd.on()},
		&segmentio.HandlerOptions{WriteKeys: keys, Secret: *secret, Logger: logger}, logger)
	var fw *regalkit.Forwarder
	if fwd.on() {
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
	logger.Info("regalkit-webhook: shutting down; finishing the requests in flight")
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancelShutdown()
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
func newServer(store contact.Store, pool *pgxpool.Pool, popts *regalkit.Options, opts *segmentio.HandlerOptions, logger *slog.Logger) http.Handler {
	if popts == nil {
		popts = &regalkit.Options{Logger: logger}
	}
	p := regalkit.New(store, popts)
	hook := segmentio.NewHandler(p.Sink(), opts)
	mux := http.NewServeMux()
	mux.Handle("POST /", hook)
	mux.HandleFunc("GET /contacts/{userId}", func(w http.ResponseWriter, r *http.Request) {
		serveContact(w, r, store, logger)
	})
	mux.HandleFunc("GET /audience", func(w http.ResponseWriter, r *http.Request) {
		serveAudience(w, r, store, logger)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := pool.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "database unreachable\n")
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux
}

// serveContact writes the contact whose External ID is the path's userId, with its
// events (SPEC X), or 404.
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

// serveAudience writes the contacts in the audience as NDJSON, by contact id.
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
			logger.LogAttrs(r.Context(), slog.LevelWarn, "regalkit-webhook: audience cut short", slog.String("error", err.Error()))
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
	logger.LogAttrs(r.Context(), slog.LevelWarn, "regalkit-webhook: store read failed", slog.String("route", r.Pattern), slog.String("error", err.Error()))
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
