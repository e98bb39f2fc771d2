package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// vacuumEvery is how often the launcher looks for tables with dead rows, where the server does not.
const vacuumEvery = 5 * time.Second

// vacuumTimeout bounds one table's VACUUM (a later look does the rest).
const vacuumTimeout = time.Minute

// deadTablesSQL lists the database's tables whose dead rows outnumber 200 and a tenth of their live
// ones, most first: autovacuum's rule with a lower bar, since the store's hottest tables (sessions,
// holds, allocations, saga steps) hold a few hundred live rows and turn over many times a minute.
// Only tables the launcher's role may vacuum (a non-owner's VACUUM only warns).
const deadTablesSQL = `
SELECT format('%I.%I', s.schemaname, s.relname), s.n_dead_tup FROM pg_stat_user_tables s
JOIN pg_class c ON c.oid = s.relid
WHERE s.n_dead_tup > 200 + s.n_live_tup / 10 AND pg_has_role(c.relowner, 'USAGE')
ORDER BY s.n_dead_tup DESC LIMIT 50`

// vacuumWhileRunning vacuums the database name's tables as autovacuum would, when the server's
// autovacuum is off (this machine's CI PostgreSQL turns it off), until ctx ends or the returned
// function is called (it waits for the loop to end). Every delete and update FerretDB makes leaves a
// dead row: unvacuumed, the store's hot tables grow with history, every scan and every lookup by id
// reading the dead rows too (a soak at 20 sessions a second fell behind within 7 minutes, its
// 135 live sessions among 40,622 dead rows). Like indexIDs, it only makes the store faster: whatever
// fails is said, and the store runs on.
func vacuumWhileRunning(ctx context.Context, admin *pgx.ConnConfig, name string) func() {
	config := admin.Copy()
	config.Database = name
	conn, err := connect(ctx, config)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-launcher: not vacuuming %s: %v\n", name, err)
		return func() {}
	}
	var setting string
	if err := step(ctx, func(c context.Context) error {
		return conn.QueryRow(c, "SELECT current_setting('autovacuum')").Scan(&setting)
	}); err != nil || setting == "on" {
		conn.Close(context.Background())
		if err == nil {
			fmt.Fprintf(os.Stderr, "ferretdb-launcher: autovacuum is on on this server: it vacuums %s\n", name)
		}
		return func() {}
	}
	fmt.Fprintf(os.Stderr, "ferretdb-launcher: autovacuum is off on this server: the launcher vacuums %s itself\n", name)
	loop, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { conn.Close(context.Background()) }()
		ticker := time.NewTicker(vacuumEvery)
		defer ticker.Stop()
		for {
			select {
			case <-loop.Done():
				return
			case <-ticker.C:
			}
			if conn.IsClosed() {
				// A new connection, or the closed one kept until the next look (never nil).
				next, err := connect(loop, config)
				if err != nil {
					continue
				}
				conn = next
			}
			vacuumed, err := vacuumDead(loop, conn)
			if len(vacuumed) > 0 {
				fmt.Fprintf(os.Stderr, "ferretdb-launcher: vacuumed %s\n", strings.Join(vacuumed, ", "))
			}
			if err != nil && loop.Err() == nil {
				fmt.Fprintf(os.Stderr, "ferretdb-launcher: vacuuming %s: %v\n", name, err)
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// vacuumDead vacuums (and analyzes) each table deadTablesSQL lists, one at a time, and names them
// with the dead rows each had.
func vacuumDead(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	type table struct {
		name string
		dead int64
	}
	var tables []table
	if err := step(ctx, func(c context.Context) error {
		rows, err := conn.Query(c, deadTablesSQL)
		if err == nil {
			tables, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (table, error) {
				var t table
				return t, r.Scan(&t.name, &t.dead)
			})
		}
		return err
	}); err != nil {
		return nil, err
	}
	var vacuumed []string
	var failed []error
	for _, t := range tables {
		if ctx.Err() != nil || conn.IsClosed() {
			break
		}
		c, cancel := context.WithTimeout(ctx, vacuumTimeout)
		// The name is quoted by format('%I.%I'); VACUUM takes no parameters.
		_, err := conn.Exec(c, "VACUUM (ANALYZE) "+t.name)
		cancel()
		var pgErr *pgconn.PgError
		switch {
		case err == nil:
			vacuumed = append(vacuumed, fmt.Sprintf("%s (%d dead rows)", t.name, t.dead))
		case errors.As(err, &pgErr) && pgErr.Code == pgerrcode.UndefinedTable:
			// Dropped since it was listed (a test's collection, say): nothing to do.
		default:
			// The others still get theirs: one table failing again and again must not starve them.
			failed = append(failed, fmt.Errorf("table %s: %w", t.name, err))
		}
	}
	return vacuumed, errors.Join(failed...)
}
