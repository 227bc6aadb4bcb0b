// Package webhookserver is the webhook server that examples/webhook (on an in-memory
// store) and contact/pgstore/cmd/regalkit-webhook (on PostgreSQL) both run: the same
// flags, the same routes, the same forwarding to Regal and the same graceful shutdown;
// a main parses the flags, builds its store and calls Run. It receives deliveries with
// segmentio.Handler, runs them through regalkit's Processor on the store, and serves
// what it built:
//
//	POST /               webhook deliveries: one message, or a JSON array
//	POST /v1/{identify,track,page,screen,group,alias,batch,import,b}
//	                     tracking-API calls, and analytics.js's /v1/{i,t,p,s,g,a}
//	GET  /contacts/{userId}
//	                     the contact with that External ID, with its events, in the
//	                     export format of RULES.md, X; 404 when there is none
//	GET  /audience       the contacts in the audience (Rule A1), one JSON document a
//	                     line (NDJSON), without their events
//	GET  /guard          the Guard's decision for a phone (Rule G4), see guard.go
//	GET  /triggers/{name}/due[?at=RFC3339]
//	                     the contacts due for a -trigger at a time (Rule J3)
//	GET  /healthz        200 while the server runs (and Config.Health passes)
//	POST /regal          Regal's reporting webhooks, with -regal-token only (Rule R4)
//	GET  /outbox         the counts of what is forwarded to Regal, with -regal-key only
//
// Any other path or method gets a JSON error, 404 or 405, and nothing is processed.
package webhookserver

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
	"path"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/httpstatus"
	"github.com/regalkit/regalkit/segmentio"
)

// The server's timeouts. Segment's webhook destination waits 5 seconds for an answer;
// the others bound what a slow or idle client can hold.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 20 * time.Second // within the shutdown's time for requests
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	healthTimeout     = 2 * time.Second
)

// shutdownTimeout bounds a graceful shutdown, requests and forwarder together (a
// variable for the tests).
var shutdownTimeout = 25 * time.Second

// Flags are the command-line settings every webhook server takes. Register adds them
// to a flag.FlagSet; the zero Flags, with Addr and RegalURL set, is a server with
// nothing optional turned on.
type Flags struct {
	Addr          string   // -addr: host:port to listen on
	Secret        string   // -secret: the Webhooks destination's shared secret
	Token         string   // -token: a shared bearer token every delivery carries
	WriteKeys     []string // -write-key (repeatable): the Segment write keys accepted
	TriggerFiles  []string // -trigger (repeatable): journey triggers' JSON files
	ContextTraits bool     // -context-traits: regalkit.Options.ApplyContextTraits
	Verbose       bool     // -v: log every delivery
	RegalToken    string   // -regal-token: turns POST /regal on
	RegalHeader   string   // -regal-header: a header that may carry the token raw
	RegalKey      string   // -regal-key: turns forwarding to Regal on
	RegalURL      string   // -regal-url: the full Events API endpoint
}

// Register adds the flags to fs, with their defaults, writing into f.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Addr, "addr", "127.0.0.1:8080", "`host:port` to listen on; port 0 picks a free one")
	fs.StringVar(&f.Secret, "secret", "", "the Webhooks destination's shared `secret`: every delivery must be signed with it (or $REGALKIT_SECRET)")
	fs.StringVar(&f.Token, "token", "", "a shared bearer `token`: every delivery must carry \"Authorization: Bearer token\" (or $REGALKIT_TOKEN)")
	fs.Func("write-key", "a Segment source write `key` to accept (repeatable): every delivery must carry one", func(k string) error {
		if k == "" {
			return errors.New("empty write key")
		}
		f.WriteKeys = append(f.WriteKeys, k)
		return nil
	})
	fs.Func("trigger", "a journey trigger's JSON `file` (repeatable): serves GET /triggers/{name}/due", func(p string) error {
		f.TriggerFiles = append(f.TriggerFiles, p)
		return nil
	})
	fs.BoolVar(&f.ContextTraits, "context-traits", false, "apply the context.traits of track, page and screen as traits (regalkit.Options.ApplyContextTraits)")
	fs.BoolVar(&f.Verbose, "v", false, "log every delivery, not only refusals and failures")
	fs.StringVar(&f.RegalToken, "regal-token", "", "serve Regal's reporting webhooks at POST /regal; every request must carry this `token` (or $REGALKIT_REGAL_TOKEN)")
	fs.StringVar(&f.RegalHeader, "regal-header", "", "a header `name` that may carry the -regal-token raw (Authorization: Bearer TOKEN always works)")
	fs.StringVar(&f.RegalKey, "regal-key", "", "forward what is processed to Regal's Events API with this API `key` (or $REGALKIT_REGAL_KEY)")
	fs.StringVar(&f.RegalURL, "regal-url", defaultRegalURL, "the Events API endpoint `URL` -regal-key forwards to")
}

// ErrUsage is a command line that cannot be run; what is wrong has been written to the
// flag set's output. Main exits 2 for it.
var ErrUsage = errors.New("usage error")

// Parse parses args with fs, on which Register has added f's flags (and the main its
// own), and checks them: it returns flag.ErrHelp for -h, ErrUsage for a command line
// that cannot be run (having said why on fs's output, prefixed with fs's name), and
// nil otherwise.
func (f *Flags) Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp
		}
		return ErrUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return ErrUsage
	}
	f.fromEnvironment(os.Getenv)
	if err := f.Check(); err != nil {
		fmt.Fprintf(fs.Output(), "%s: %v\n", fs.Name(), err)
		return ErrUsage
	}
	return nil
}

// Main runs a server's run function with os.Args, until SIGINT or SIGTERM, and exits:
// 2 for ErrUsage, 1 for any other error (written to stderr after name), 0 otherwise.
func Main(name string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if errors.Is(err, ErrUsage) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// secretEnv names the environment variable each credential flag falls back to, so that
// on a shared machine a credential need not be on the command line, where any user can
// read it in the process list (SECURITY.md).
var secretEnv = [...]struct {
	flag, env string
	field     func(*Flags) *string
}{
	{"secret", "REGALKIT_SECRET", func(f *Flags) *string { return &f.Secret }},
	{"token", "REGALKIT_TOKEN", func(f *Flags) *string { return &f.Token }},
	{"regal-token", "REGALKIT_REGAL_TOKEN", func(f *Flags) *string { return &f.RegalToken }},
	{"regal-key", "REGALKIT_REGAL_KEY", func(f *Flags) *string { return &f.RegalKey }},
}

// fromEnvironment fills each credential not given as a flag from its environment
// variable (secretEnv). Read after parsing, not as the flags' defaults: -h prints
// defaults.
func (f *Flags) fromEnvironment(getenv func(string) string) {
	for _, s := range secretEnv {
		if p := s.field(f); *p == "" {
			*p = getenv(s.env)
		}
	}
}

// Check reports a combination of flags the server cannot run with: a -regal-url that
// is not an Events API endpoint while -regal-key is set, a -regal-header without
// -regal-token.
func (f *Flags) Check() error {
	if f.RegalHeader != "" && f.RegalToken == "" {
		return errors.New("-regal-header names where Regal's token comes, and needs -regal-token (or $REGALKIT_REGAL_TOKEN)")
	}
	if !f.forward().on() {
		return nil
	}
	_, err := f.forward().baseURL()
	return err
}

// Logger returns the server's logger, writing text to w: at debug level with -v, at
// info level without.
func (f *Flags) Logger(w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if f.Verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

func (f *Flags) forward() forwardFlags { return forwardFlags{key: f.RegalKey, url: f.RegalURL} }

func (f *Flags) regal() regalFlags { return regalFlags{token: f.RegalToken, header: f.RegalHeader} }

// Config is what a main hands Run: the store it built, the flags it parsed, and how the
// server names itself.
type Config struct {
	// Name prefixes the server's log messages ("webhook" when empty).
	Name string
	// Store keeps the contacts (and, with -regal-key, the outbox).
	Store contact.Store
	// Flags are the parsed command line.
	Flags Flags
	// Logger receives the server's log; nil means Flags.Logger(io.Discard).
	Logger *slog.Logger
	// Health, when set, is asked by GET /healthz (with a 2-second deadline); an error
	// answers 503 "database unreachable".
	Health func(context.Context) error
}

func (c *Config) name() string {
	if c.Name == "" {
		return "webhook"
	}
	return c.Name
}

func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		return c.Flags.Logger(io.Discard)
	}
	return c.Logger
}

// Run serves cfg until ctx is done, then shuts down gracefully: it accepts no new
// connections, finishes the requests in flight and then drains the forwarder's sends,
// for up to 25 seconds in all. It writes "listening on http://ADDR" to stdout once it
// accepts connections. A trigger file that cannot be read or decoded is an error
// before anything listens.
func Run(ctx context.Context, cfg Config, stdout io.Writer) error {
	triggers, err := loadTriggers(cfg.Flags.TriggerFiles)
	if err != nil {
		return err
	}
	logger := cfg.logger()
	fwd := cfg.Flags.forward()
	handler := NewHandler(cfg,
		&regalkit.Options{Logger: logger, ApplyContextTraits: cfg.Flags.ContextTraits, Outbox: fwd.on(), Triggers: triggers},
		&segmentio.HandlerOptions{WriteKeys: cfg.Flags.WriteKeys, Secret: cfg.Flags.Secret, Token: cfg.Flags.Token, Logger: logger})
	s := &server{name: cfg.name(), store: cfg.Store, logger: logger}
	var fw *regalkit.Forwarder
	if fwd.on() {
		if fw, err = newForwarder(cfg.Store, fwd, logger); err != nil {
			return err
		}
		handler = s.withOutbox(handler, fw)
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

	ln, err := net.Listen("tcp", cfg.Flags.Addr)
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
	logger.Info(s.name + ": shutting down; finishing the requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	// The requests get the shutdown time but the forwarder's share: a client that
	// sends its body slowly must not take the drain's time too.
	requestsCtx, cancelRequests := context.WithTimeout(shutdownCtx, shutdownTimeout-drainReserve)
	defer cancelRequests()
	if err := srv.Shutdown(requestsCtx); err != nil {
		logger.Warn(s.name + ": requests still in flight at the shutdown deadline were cut off")
		_ = srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if fw != nil {
		// After the requests in flight, so that what they enqueued is sent too (see drain).
		if err := s.drain(shutdownCtx, fw); err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
	}
	return nil
}

// NewHandler returns the routes of the server, processing deliveries into cfg.Store
// with a Processor configured by popts (nil means logging to cfg.Logger only) and a
// segmentio.Handler configured by opts. Of cfg.Flags it reads only -regal-token and
// -regal-header; GET /outbox is Run's, with -regal-key.
func NewHandler(cfg Config, popts *regalkit.Options, opts *segmentio.HandlerOptions) http.Handler {
	s := &server{name: cfg.name(), store: cfg.Store, logger: cfg.logger()}
	if popts == nil {
		popts = &regalkit.Options{Logger: s.logger}
	}
	p := regalkit.New(cfg.Store, popts)
	hook := segmentio.NewHandler(p.Sink(), opts)
	mux := http.NewServeMux()
	handleRegal(mux, p, cfg.Flags.regal(), s.logger)
	s.handleGuard(mux, p) // GET /guard: see guard.go
	s.handleTriggers(mux, popts.Triggers)
	for _, route := range deliveryRoutes {
		mux.Handle("POST "+route, hook)
		if strings.HasPrefix(route, "/v1/") {
			mux.Handle("OPTIONS "+route, hook) // analytics.js's CORS preflight: see segmentio.Handler
		}
	}
	mux.HandleFunc("GET /contacts/{userId}", s.serveContact)
	mux.HandleFunc("GET /audience", s.serveAudience)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if cfg.Health != nil {
			ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
			defer cancel()
			if err := cfg.Health(ctx); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, "database unreachable\n")
				return
			}
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/", notFound)
	return cleanPaths(mux)
}

// cleanPaths answers a path that is not clean (with "..", ".", "//" or a trailing
// "/.") with notFound's 404, where ServeMux would redirect to the cleaned path: every
// path but the routes' gets a JSON error (SECURITY.md), and a redirect would echo a
// sender's path in its Location.
func cleanPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The path as sent, escapes kept: a userId may hold "//" or "/../", escaped.
		p := r.URL.EscapedPath()
		c := path.Clean(p)
		if p != c && (r.Method == http.MethodPost || r.Method == http.MethodOptions) && c != "/" && slices.Contains(deliveryRoutes, c) && !hasDotSegment(p) {
			// A delivery to a route's path written with "//" or a trailing "/", as
			// analytics-go posts to an endpoint configured with a trailing "/": served
			// as the route's, without a redirect (a client would not POST it again);
			// and its CORS preflight, which a browser sends to the same path.
			// A path with "." or ".." segments is refused as below.
			u := *r.URL
			u.Path, u.RawPath = c, ""
			r2 := *r
			r2.URL = &u
			next.ServeHTTP(w, &r2)
			return
		}
		if p != "" && p != c && (c == "/" || p != c+"/") {
			writeJSON(w, http.StatusNotFound, refusal(http.StatusNotFound, "no such route"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hasDotSegment reports whether the path has a "." or ".." segment.
func hasDotSegment(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// server holds what the routes share.
type server struct {
	name   string // the prefix of log messages
	store  contact.Store
	logger *slog.Logger
}

// deliveryRoutes are the paths that take deliveries: the webhook's and the tracking
// API's. Only these reach the handler.
var deliveryRoutes = []string{"/{$}", "/v1/identify", "/v1/track", "/v1/page", "/v1/screen", "/v1/group", "/v1/alias", "/v1/batch",
	"/v1/import",                                         // analytics-android and older mobile libraries
	"/v1/b",                                              // analytics.js batching, analytics-kotlin, analytics-swift
	"/v1/i", "/v1/t", "/v1/p", "/v1/s", "/v1/g", "/v1/a"} // analytics.js: the type's first letter

// readRoutes are the paths the server answers GET on, for notFound's 405: a "{}" stands
// for one path segment.
var readRoutes = []string{"/healthz", "/audience", "/guard", "/contacts/{}", "/triggers/{}/due"}

// matchRoute reports whether path is route, each "{}" of route one non-empty segment.
func matchRoute(route, path string) bool {
	rs, ps := strings.Split(route, "/"), strings.Split(path, "/")
	if len(rs) != len(ps) {
		return false
	}
	for i := range rs {
		if rs[i] != ps[i] && (rs[i] != "{}" || ps[i] == "") {
			return false
		}
	}
	return true
}

// notFound answers every request no route takes: 405 for a route's path with another
// method, 404 for any other path, with a JSON error either way.
func notFound(w http.ResponseWriter, r *http.Request) {
	for _, route := range deliveryRoutes {
		if r.URL.Path == strings.TrimSuffix(route, "{$}") {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, refusal(http.StatusMethodNotAllowed, "method not allowed: deliveries are POSTed"))
			return
		}
	}
	for _, route := range readRoutes {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && matchRoute(route, r.URL.Path) {
			w.Header().Set("Allow", "GET, HEAD")
			writeJSON(w, http.StatusMethodNotAllowed, refusal(http.StatusMethodNotAllowed, "method not allowed: this route is read with GET"))
			return
		}
	}
	writeJSON(w, http.StatusNotFound, refusal(http.StatusNotFound, "no such route"))
}

// serveContact writes the contact whose External ID is the path's userId, with its
// events (RULES.md, X), or 404.
func (s *server) serveContact(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	userID := r.PathValue("userId")
	found, err := s.store.Find(ctx, identity.UserKey(userID))
	if err != nil {
		s.fail(w, r, err)
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
		writeJSON(w, http.StatusNotFound, refusal(http.StatusNotFound, "no contact has this userId"))
		return
	}
	var events []event.Record
	for rec, err := range s.store.Events(ctx, c.ID(), contact.EventQuery{}) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		events = append(events, rec)
	}
	writeJSON(w, http.StatusOK, contact.Export{Contact: c, Events: events})
}

// serveAudience writes the contacts in the audience as NDJSON, in the store's order.
func (s *server) serveAudience(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	wrote := false
	for c, err := range s.store.Contacts(r.Context()) {
		if err != nil {
			if !wrote {
				s.fail(w, r, err)
				return
			}
			// The status is sent: end the stream short, and say so in the log.
			s.logger.LogAttrs(r.Context(), slog.LevelWarn, s.name+": audience cut short", slog.String("error", err.Error()))
			return
		}
		if !c.InAudience() {
			continue
		}
		b, err := json.Marshal(contact.Export{Contact: c})
		if err != nil {
			// A contact that cannot be written is skipped, said in the log, and the
			// others still go out.
			s.logger.LogAttrs(r.Context(), slog.LevelError, s.name+": audience: a contact could not be exported",
				slog.String("contactId", c.ID()), slog.String("error", err.Error()))
			continue
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			return // the client went away
		}
		wrote = true
	}
}

// fail logs a store error and answers 500 without its text.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.logger.LogAttrs(r.Context(), slog.LevelWarn, s.name+": store read failed", slog.String("route", r.Pattern), slog.String("error", err.Error()))
	writeJSON(w, http.StatusInternalServerError, refusal(http.StatusInternalServerError, "the store could not be read"))
}

// refusal is the body of a response that refuses a request: its error, and the code and
// message Segment's libraries read (analytics-python retries a refusal without them as a
// network failure), as segmentio.HandlerResponse has them.
func refusal(status int, msg string) map[string]string {
	return map[string]string{"error": msg, "code": string(httpstatus.Code(status)), "message": msg}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"the response could not be encoded","code":"http.internal_server_error","message":"the response could not be encoded"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
