// Regalkit-webhook is the webhook server of examples/webhook on PostgreSQL: contacts
// survive a restart, and any number of replicas can serve one database. Both run the
// server of package internal/webhookserver, with the same flags and routes: it receives
// Segment deliveries with segmentio.Handler, runs them through regalkit's Processor on a
// contact/pgstore Store, and serves what it built:
//
//	POST /               webhook deliveries: one message, or a JSON array
//	POST /v1/{identify,track,page,screen,group,alias,batch}
//	                     tracking-API calls
//	GET  /contacts/{userId}
//	                     the contact with that External ID, with its events, in the
//	                     export format of RULES.md, X; 404 when there is none
//	GET  /audience       the contacts in the audience (Rule A1), one JSON document a
//	                     line (NDJSON), without their events
//	GET  /guard?phone=...[&channel=sms|voice][&at=RFC3339]
//	                     may the phone be reached on the channel at the time (Rule G4)
//	GET  /triggers/{name}/due[?at=RFC3339]
//	                     the contacts due for a -trigger at a time (now by default),
//	                     NDJSON sorted by dueAt then contactId; 404 for an unknown trigger
//	GET  /healthz        200 while the server runs and reaches its database
//	POST /regal          Regal's reporting webhooks, with -regal-token only
//	GET  /outbox         the counts of what is forwarded to Regal, with -regal-key only
//
// Any other path or method gets a JSON error, 404 or 405, and nothing is processed.
//
// Usage:
//
//	regalkit-webhook -postgres DSN [-addr 127.0.0.1:8080] [-secret S] [-token T] [-write-key K]... [-max-conns N]
//	                 [-context-traits] [-regal-token T [-regal-header NAME]] [-regal-key K [-regal-url URL]]
//	                 [-trigger FILE]... [-v]
//
// DSN is a PostgreSQL connection string (postgres://user:password@host:5432/db, or
// key=value pairs); without -postgres the server reads REGALKIT_POSTGRES_DSN. The
// server creates or upgrades its tables at start (pgstore's Migrate, which replicas may
// run at once). -secret, -token, -write-key, -context-traits, -trigger, -regal-token and
// -regal-header are as for examples/webhook. A delivery is answered 200 once every
// message in it is committed; when the database fails, 500, and Segment retries: a
// retried delivery applies nothing twice (Rule E2), whichever replica gets it.
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
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/regalkit/regalkit/contact/pgstore"
	"github.com/regalkit/regalkit/internal/webhookserver"
)

// startTimeout bounds connecting to the database and migrating it at start.
const startTimeout = 30 * time.Second

func main() { webhookserver.Main("regalkit-webhook", run) }

// run parses args, connects to the database, serves until ctx is done, then shuts down
// gracefully. It writes "listening on http://ADDR" to stdout once it accepts
// connections, and its log to stderr. A command line that cannot be run is
// webhookserver.ErrUsage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("regalkit-webhook", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var flags webhookserver.Flags
	flags.Register(fs)
	// No default value: flag would print it, password included, in the usage text.
	dsn := fs.String("postgres", "", "PostgreSQL connection string (`DSN`); default $REGALKIT_POSTGRES_DSN")
	maxConns := fs.Int("max-conns", 0, "most database connections the server opens (`N`); 0 for pgx's default")
	if err := flags.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *dsn == "" {
		*dsn = os.Getenv("REGALKIT_POSTGRES_DSN")
	}
	if *dsn == "" {
		fmt.Fprintln(stderr, "regalkit-webhook: no database: give -postgres DSN or set REGALKIT_POSTGRES_DSN")
		fs.Usage()
		return webhookserver.ErrUsage
	}

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
	return webhookserver.Run(ctx, webhookserver.Config{
		Name:   "regalkit-webhook",
		Store:  store,
		Flags:  flags,
		Logger: flags.Logger(stderr),
		Health: pool.Ping,
	}, stdout)
}
