package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/segmentio"
)

// statementTracer counts what pgx sends: each Query, QueryRow or Exec, each batch and
// each prepare is one round trip to the server.
type statementTracer struct {
	queries, batches, prepares atomic.Int64
}

func (c *statementTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.queries.Add(1)
	return ctx
}
func (c *statementTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *statementTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.batches.Add(1)
	return ctx
}
func (c *statementTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *statementTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}
func (c *statementTracer) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	c.prepares.Add(1)
	return ctx
}
func (c *statementTracer) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

func (c *statementTracer) total() int64 {
	return c.queries.Load() + c.batches.Load() + c.prepares.Load()
}

// wireCounter counts round trips on the wire: each time the client reads after having
// written, it waits for the server once. It checks the tracer's count, and catches a
// round trip pgx makes on its own (such as describing a statement it has not seen).
type wireCounter struct {
	mu    sync.Mutex
	trips int64
}

type countedConn struct {
	net.Conn
	c     *wireCounter
	wrote bool
}

func (cc *countedConn) Write(b []byte) (int, error) {
	cc.wrote = true
	return cc.Conn.Write(b)
}

func (cc *countedConn) Read(b []byte) (int, error) {
	if cc.wrote {
		cc.wrote = false
		cc.c.mu.Lock()
		cc.c.trips++
		cc.c.mu.Unlock()
	}
	return cc.Conn.Read(b)
}

func (w *wireCounter) load() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.trips
}

// countingPool opens a one-connection pool on the schema whose round trips are counted.
func countingPool(tb testing.TB, schema string) (*pgxpool.Pool, *statementTracer, *wireCounter) {
	tr, wire := &statementTracer{}, &wireCounter{}
	pool := testPool(tb, schema, func(cfg *pgxpool.Config) {
		cfg.MaxConns = 1 // one statement cache, warmed once
		cfg.ConnConfig.Tracer = tr
		dialer := &net.Dialer{}
		cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &countedConn{Conn: c, c: wire}, nil
		}
	})
	return pool, tr, wire
}

// roundTripCases are the messages whose round trips are counted, in order: each one's
// count depends on what the ones before it stored.
var roundTripCases = []struct {
	name, payload string
}{
	{"identify, new user", `{"type":"identify","messageId":"%s-1","userId":"%s","anonymousId":"%s-anon","timestamp":"2024-03-01T12:00:00Z","traits":{"firstName":"Ann","email":"ann@example.com","phone":"+19545552399"}}`},
	{"identify, known user", `{"type":"identify","messageId":"%s-2","userId":"%s","anonymousId":"%s-anon","timestamp":"2024-03-01T12:01:00Z","traits":{"firstName":"Anne"}}`},
	{"track, known user", `{"type":"track","messageId":"%s-3","userId":"%s","anonymousId":"%s-anon","timestamp":"2024-03-01T12:02:00Z","event":"Viewed","properties":{"sku":"a"}}`},
	{"page, known user", `{"type":"page","messageId":"%s-4","userId":"%s","timestamp":"2024-03-01T12:03:00Z","name":"Home"}`},
	{"group, known user", `{"type":"group","messageId":"%s-5","userId":"%s","timestamp":"2024-03-01T12:04:00Z","groupId":"g-1","traits":{"name":"Acme"}}`},
	{"track, anonymous only", `{"type":"track","messageId":"%s-6","anonymousId":"%s-other","timestamp":"2024-03-01T12:05:00Z","event":"Viewed"}`},
	{"alias", `{"type":"alias","messageId":"%s-7","userId":"%s","previousId":"%s-other","timestamp":"2024-03-01T12:06:00Z"}`},
	{"duplicate", `{"type":"identify","messageId":"%s-2","userId":"%s","anonymousId":"%s-anon","timestamp":"2024-03-01T12:01:00Z","traits":{"firstName":"Anne"}}`},
	{"delete", `{"type":"delete","messageId":"%s-8","userId":"%s","timestamp":"2024-03-01T12:07:00Z"}`},
}

// payloadFor fills a case's payload in for a user.
func payloadFor(payload, user string) string {
	n := strings.Count(payload, "%s")
	args := make([]any, n)
	args[0] = "m-" + user
	for i := 1; i < n; i++ {
		args[i] = user
	}
	return fmt.Sprintf(payload, args...)
}

// roundTrips processes the cases for a user and returns each one's round trips: by the
// tracer and on the wire.
func roundTrips(tb testing.TB, p *regalkit.Processor, tr *statementTracer, wire *wireCounter, user string) (traced, onWire []int64) {
	tb.Helper()
	for _, c := range roundTripCases {
		items, err := segmentio.DecodeAll([]byte(payloadFor(c.payload, user)), nil)
		require.NoError(tb, err)
		require.Len(tb, items, 1)
		require.NoError(tb, items[0].Err)
		t0, w0 := tr.total(), wire.load()
		_, err = p.Process(context.Background(), items[0].Message)
		require.NoError(tb, err, c.name)
		traced = append(traced, tr.total()-t0)
		onWire = append(onWire, wire.load()-w0)
	}
	return traced, onWire
}

// TestRoundTrips counts the round trips of each kind of message once the connection
// has prepared every statement. An identify of a known user takes at most 4, BEGIN and
// COMMIT included (the BEGIN goes with the first read, the writes with the COMMIT), and
// every count is the one doc.go's table gives.
func TestRoundTrips(t *testing.T) {
	pool, tr, wire := countingPool(t, testSchema(t))
	s := openStore(t, pool, nil)
	p := regalkit.New(s, processorOptions("rt"))
	roundTrips(t, p, tr, wire, "warm") // prepares the statements
	traced, onWire := roundTrips(t, p, tr, wire, "user")
	for i, c := range roundTripCases {
		t.Logf("%-24s %d round trips (tracer: %d)", c.name, onWire[i], traced[i])
		assert.Equal(t, traced[i], onWire[i], "%s: the tracer and the wire disagree", c.name)
	}
	assert.LessOrEqual(t, onWire[1], int64(4), "identify of a known user")
	assert.LessOrEqual(t, onWire[2], int64(3), "track of a known user: the event's check goes with the lookup")
	assert.Equal(t, int64(2), onWire[7], "a duplicate: BEGIN with the messageId check, then COMMIT")
	// The package doc's table ("Round trips") says these counts: a change to them is a
	// change to the doc.
	assert.Equal(t, []int64{7, 3, 3, 3, 3, 5, 12, 2, 16}, onWire, "the table of doc.go")
}

// retryCounter counts the transactions begun: with one Update per message, what is
// over the message count is runs of a transaction again.
type retryCounter struct {
	begins atomic.Int64
	mu     sync.Mutex
	codes  map[string]int // the SQLSTATEs of failed batches
}

func (c *retryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}
func (c *retryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *retryCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	if d.Batch != nil && len(d.Batch.QueuedQueries) > 0 && d.Batch.QueuedQueries[0].SQL == sqlBegin {
		c.begins.Add(1)
	}
	return ctx
}
func (c *retryCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *retryCounter) TraceBatchEnd(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchEndData) {
	var pe *pgconn.PgError
	if errors.As(d.Err, &pe) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.codes == nil {
			c.codes = map[string]int{}
		}
		c.codes[pe.Code+" "+pe.Message]++
	}
}

// TestInsert_refusesTextJSONWouldChange: a contact whose id is not valid UTF-8 is
// refused with an error, and nothing is stored. A review found it stored with its id
// read back as U+FFFD: a read, change and Put of it then failed with ErrNotFound, and
// its row could not be found by the id it was read with.
func TestInsert_refusesTextJSONWouldChange(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	err := s.Update(ctx, func(tx contact.Tx) error { return tx.Insert(contact.New("c\xff")) })
	require.Error(t, err)
	n := 0
	for _, err := range s.Contacts(ctx) {
		require.NoError(t, err)
		n++
	}
	assert.Zero(t, n, "nothing stored")
}
