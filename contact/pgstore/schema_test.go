package pgstore

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/contact"
)

// TestMigrate: Migrate brings an empty schema to SchemaVersion, is idempotent, and
// replicas running it at once all succeed with one record of each version.
func TestMigrate(t *testing.T) {
	pool := testPool(t, testSchema(t), nil)
	ctx := context.Background()
	stores := make([]*Store, 4)
	for i := range stores {
		s, err := New(ctx, pool, nil)
		require.NoError(t, err, "New before any migration")
		stores[i] = s
	}
	var wg sync.WaitGroup
	for _, s := range stores {
		wg.Go(func() { assert.NoError(t, s.Migrate(ctx), "concurrent Migrate") })
	}
	wg.Wait()
	require.NoError(t, stores[0].Migrate(ctx), "Migrate again")

	var versions, latest int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*), max(version) FROM regalkit_schema_version`).Scan(&versions, &latest))
	assert.Equal(t, SchemaVersion, versions, "one record per version")
	assert.Equal(t, SchemaVersion, latest)
	require.NoError(t, stores[1].Update(ctx, func(tx contact.Tx) error { return tx.Insert(contact.New("c-1")) }))
}

// TestNewRefusesANewerSchema: a database migrated by a newer version of the package is
// an error matching ErrSchema, for New and for Migrate, and is left alone.
func TestNewRefusesANewerSchema(t *testing.T) {
	pool := testPool(t, testSchema(t), nil)
	ctx := context.Background()
	s := openStore(t, pool, nil)
	_, err := pool.Exec(ctx, `INSERT INTO regalkit_schema_version (version) VALUES ($1)`, SchemaVersion+1)
	require.NoError(t, err)

	_, err = New(ctx, pool, nil)
	require.ErrorIs(t, err, ErrSchema)
	var se *SchemaError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, SchemaError{Found: SchemaVersion + 1, Want: SchemaVersion}, *se)
	assert.ErrorIs(t, s.Migrate(ctx), ErrSchema)
}

func TestNewNilPool(t *testing.T) {
	_, err := New(context.Background(), nil, nil)
	assert.Error(t, err)
}
