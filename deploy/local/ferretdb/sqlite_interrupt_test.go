package main

// The SQLite driver FerretDB runs on must not leave a connection of its pool interrupted for good
// when a query's context ends just as its first row is made (a client's maxTimeMS running out, or
// its connection closing mid-query). modernc.org/sqlite before v1.40.1 dropped those rows without
// closing them: the statement stayed active, so SQLite's interrupt flag was never cleared, and
// every later statement on that connection failed with "interrupted (9)" — for as long as FerretDB
// ran (its pool never retires a connection). CI saw it twice: the chaos run's store counts after
// the load got nothing but "interrupted" for two minutes. go.mod pins the driver past the fix.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"path/filepath"
	"testing"
	"time"

	sqlite "modernc.org/sqlite"
)

func TestQueryCancelledAtItsFirstRowLeavesTheConnectionUsable(t *testing.T) {
	var cancel context.CancelFunc
	// A function that ends the query's context while SQLite is making the first row, then gives
	// the driver's watcher time to see it: the cancellation lands exactly between "a row is ready"
	// and "the query returns", the window the bug lived in.
	sqlite.MustRegisterDeterministicScalarFunction("end_the_context", 0,
		func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
			cancel()
			time.Sleep(50 * time.Millisecond)
			return int64(1), nil
		})

	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "x.db")+"?_pragma=journal_mode(wal)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // the connection a quiet database's pool hands out again and again
	for _, q := range []string{"CREATE TABLE t (n INTEGER)", "INSERT INTO t VALUES (1)"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}

	ctx, c := context.WithCancel(context.Background())
	cancel = c
	if rows, err := db.QueryContext(ctx, "SELECT end_the_context() FROM t"); err == nil {
		rows.Close()
	}

	for i := 0; i < 3; i++ {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
			t.Fatalf("a plain query after the cancelled one: n=%d err=%v (want 1, nil)", n, err)
		}
	}
}
