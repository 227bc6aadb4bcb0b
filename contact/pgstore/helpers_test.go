package pgstore

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// dsnEnv names the variable the tests read the database's address from.
const dsnEnv = "REGALKIT_POSTGRES_DSN"

// testDSN returns the test database's DSN. Without one the tests skip, saying how to
// run them, except in CI (CI set), where a missing database is a failure.
func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn != "" {
		return dsn
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("%s is not set, and CI is: the PostgreSQL tests must run (.ci/postgres starts a server and sets it)", dsnEnv)
	}
	tb.Skipf("PostgreSQL tests need a database: run .ci/postgres from the repository root (it starts a throwaway server), or set %s=postgres://user@host:port/db", dsnEnv)
	return ""
}

var schemaSeq atomic.Int64

// testSchema creates an empty schema of its own for one test, dropped when it ends,
// and returns its name.
func testSchema(tb testing.TB) string {
	tb.Helper()
	dsn := testDSN(tb)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connecting to the test database: %v", err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("pgstore_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, schemaSeq.Add(1))
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		tb.Fatalf("creating schema: %v", err)
	}
	tb.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			tb.Errorf("connecting to drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA "+name+" CASCADE"); err != nil {
			tb.Errorf("dropping schema %s: %v", name, err)
		}
	})
	return name
}

// testPool opens a pool on the schema; configure, when not nil, adjusts its config. The
// pool is closed when the test ends.
func testPool(tb testing.TB, schema string, configure func(*pgxpool.Config)) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(testDSN(tb))
	if err != nil {
		tb.Fatalf("parsing %s: %v", dsnEnv, err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	if configure != nil {
		configure(cfg)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("opening pool: %v", err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// openStore returns a migrated Store on the pool.
func openStore(tb testing.TB, pool *pgxpool.Pool, opts *Options) *Store {
	tb.Helper()
	ctx := context.Background()
	s, err := New(ctx, pool, opts)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	if err := s.Migrate(ctx); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return s
}

// newTestStore returns a migrated Store in a fresh schema.
func newTestStore(tb testing.TB) *Store {
	tb.Helper()
	return openStore(tb, testPool(tb, testSchema(tb), nil), nil)
}
