package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// temporaryPrefix names the databases of throwaway stores (tests, benchmarks).
const temporaryPrefix = "maskline_tmp_"

// exitNoPostgreSQL is the exit status when PostgreSQL cannot be used (unreachable, refused):
// deploy/local/infra.cjs then runs the store on SQLite instead.
const exitNoPostgreSQL = 3

// stepTimeout bounds each statement of the preparation (a busy server still answers within it).
const stepTimeout = 10 * time.Second

// postgresDatabase makes the store's PostgreSQL database ready and answers its URL and what to do
// at exit. serverURL names the server, and the database to use unless temporary. A temporary one
// is made afresh as maskline_tmp_<pid>_<random>, and this launcher holds an advisory lock named
// after it for as long as it runs (on a connection of its own): a later launcher drops the
// temporary databases whose lock it can take, those of launchers gone, wherever they ran.
func postgresDatabase(ctx context.Context, serverURL string, temporary bool) (string, func(), error) {
	// Parsed as FerretDB's pool parses it: its pool_* parameters are not the server's.
	poolConfig, err := pgxpool.ParseConfig(serverURL)
	if err != nil {
		return "", nil, fmt.Errorf("bad -postgresql URL: %w", err)
	}
	admin := poolConfig.ConnConfig.Copy()
	name := admin.Database
	admin.Database = "postgres"
	if temporary {
		suffix := make([]byte, 4)
		_, _ = rand.Read(suffix)
		name = fmt.Sprintf("%s%d_%s", temporaryPrefix, os.Getpid(), hex.EncodeToString(suffix))
	}
	if name == "" {
		return "", nil, errors.New("the -postgresql URL names no database")
	}
	conn, err := connect(ctx, admin)
	if err != nil {
		return "", nil, fmt.Errorf("cannot reach PostgreSQL: %w", err)
	}
	closeConn := func() { conn.Close(context.Background()) }
	if temporary {
		if err := exec(ctx, conn, "SELECT pg_advisory_lock(hashtextextended($1, 0))", name); err != nil {
			closeConn()
			return "", nil, fmt.Errorf("cannot lock database name %s: %w", name, err)
		}
		dropGone(ctx, admin)
	}
	if err := create(ctx, conn, name); err != nil {
		closeConn()
		return "", nil, err
	}
	url := withDatabase(serverURL, name)
	if indexIDs(ctx, admin, name) {
		url = withCustomPlans(url)
	}
	stopVacuum := vacuumWhileRunning(ctx, admin, name)
	if !temporary {
		closeConn()
		return url, stopVacuum, nil
	}
	// Kept open: it holds the database's lock until the launcher exits.
	return url, func() {
		stopVacuum()
		drop(context.Background(), conn, name)
		closeConn()
	}, nil
}

func connect(ctx context.Context, config *pgx.ConnConfig) (*pgx.Conn, error) {
	c, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	return pgx.ConnectConfig(c, config)
}

func step(ctx context.Context, run func(context.Context) error) error {
	c, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	return run(c)
}

// exec runs one statement within stepTimeout.
func exec(ctx context.Context, conn *pgx.Conn, sql string, args ...any) error {
	return step(ctx, func(c context.Context) error {
		_, err := conn.Exec(c, sql, args...)
		return err
	})
}

// create makes the database unless it exists, in UTF8 with the C collation FerretDB requires
// (a server whose default locale is another would otherwise give a store that fails every command).
func create(ctx context.Context, conn *pgx.Conn, name string) error {
	var exists bool
	if err := step(ctx, func(c context.Context) error {
		return conn.QueryRow(c, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	}); err != nil {
		return fmt.Errorf("cannot look for database %s: %w", name, err)
	}
	if exists {
		return checkLocale(ctx, conn, name)
	}
	err := exec(ctx, conn, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+
		" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
	var pgErr *pgconn.PgError
	if err != nil && !(errors.As(err, &pgErr) && pgErr.Code == pgerrcode.DuplicateDatabase) {
		return fmt.Errorf("cannot create database %s: %w", name, err)
	}
	return nil
}

// checkLocale refuses a database FerretDB would fail every command on: not UTF8, or a collation
// other than those it takes (one made by hand, or before the launcher asked for C).
func checkLocale(ctx context.Context, conn *pgx.Conn, name string) error {
	var encoding, collate, ctype string
	if err := step(ctx, func(c context.Context) error {
		return conn.QueryRow(c, "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database WHERE datname = $1",
			name).Scan(&encoding, &collate, &ctype)
	}); err != nil {
		return fmt.Errorf("cannot read database %s's locale: %w", name, err)
	}
	takes := map[string]bool{"C": true, "POSIX": true, "C.UTF8": true, "C.UTF-8": true, "en_US.UTF8": true, "en_US.utf8": true, "en_US.UTF-8": true}
	if encoding != "UTF8" || !takes[collate] || !takes[ctype] {
		return &localeError{fmt.Sprintf("database %s is %s with collation %s and ctype %s; FerretDB needs UTF8 with C "+
			"(or C.UTF8, POSIX, en_US.UTF8): drop it, or name another database", name, encoding, collate, ctype)}
	}
	return nil
}

// localeError is a database FerretDB cannot use: not a reason to run elsewhere, as an unreachable server is.
type localeError struct{ message string }

func (e *localeError) Error() string { return e.message }

// dropGone drops the temporary databases whose launcher no longer holds their lock. A plain DROP:
// a launcher gone has no connections left, and one whose lock was lost but that still runs (a
// server restart ends the lock's session) keeps its database, as the drop fails on its connections.
func dropGone(ctx context.Context, admin *pgx.ConnConfig) {
	conn, err := connect(ctx, admin)
	if err != nil {
		return
	}
	defer conn.Close(context.Background())
	var names []string
	if err := step(ctx, func(c context.Context) error {
		rows, err := conn.Query(c, "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", temporaryPrefix)
		if err == nil {
			names, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		return err
	}); err != nil {
		return
	}
	for _, name := range names {
		var free bool
		if step(ctx, func(c context.Context) error {
			return conn.QueryRow(c, "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", name).Scan(&free)
		}) != nil || !free {
			continue
		}
		_ = exec(ctx, conn, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize())
		_ = exec(ctx, conn, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", name)
	}
}

// drop drops this launcher's own database at exit, its open connections with it where the server
// can (PostgreSQL ≥ 13).
func drop(ctx context.Context, conn *pgx.Conn, name string) {
	quoted := pgx.Identifier{name}.Sanitize()
	if exec(ctx, conn, "DROP DATABASE IF EXISTS "+quoted+" WITH (FORCE)") != nil {
		_ = exec(ctx, conn, "DROP DATABASE IF EXISTS "+quoted)
	}
}

// withDatabase is serverURL with its path (the database) replaced by name, its query kept.
func withDatabase(serverURL, name string) string {
	base, query, _ := strings.Cut(serverURL, "?")
	if scheme, rest, ok := strings.Cut(base, "://"); ok {
		host, _, _ := strings.Cut(rest, "/")
		base = scheme + "://" + host
	}
	if query != "" {
		return base + "/" + name + "?" + query
	}
	return base + "/" + name
}

// indexTriggerSQL gives every table FerretDB makes in the database from now on a GIN index on its
// documents' _id (indexIDs indexes those made before). FerretDB v1 hands a filter's equalities to
// PostgreSQL as containment (`_jsonb->'_id' @> '"…"'`), which its own unique index on _id (a btree,
// for equality) cannot serve: every find, update, delete and findAndModify by id read the whole
// table (24 ms at 2,849 live sessions against 0.05 ms with this index, and the soak's largest
// cost). The index changes no answer: FerretDB still filters what it is handed. Without a pending
// list (fastupdate off), a lookup never reads a backlog of recent writes.
const indexTriggerSQL = `
CREATE OR REPLACE FUNCTION public.maskline_index_ids() RETURNS event_trigger LANGUAGE plpgsql
SET search_path = pg_catalog AS $fn$
DECLARE r record;
BEGIN
  FOR r IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' LOOP
    IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
        WHERE c.oid = r.objid AND c.relkind = 'r' AND c.relpersistence = 'p'
          AND a.attname = '_jsonb' AND a.atttypid = 'jsonb'::regtype AND NOT a.attisdropped) THEN
      EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb->''_id'') jsonb_path_ops) WITH (fastupdate = off)',
        'maskline_id_' || r.objid, r.objid::regclass);
    END IF;
  END LOOP;
END
$fn$;
DROP EVENT TRIGGER IF EXISTS maskline_index_ids;
CREATE EVENT TRIGGER maskline_index_ids ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
  EXECUTE FUNCTION public.maskline_index_ids();
`

// unindexedTablesSQL lists FerretDB's tables made before the trigger that lack its index.
const unindexedTablesSQL = `
SELECT c.oid::regclass::text, 'maskline_id_' || c.oid FROM pg_class c
JOIN pg_attribute a ON a.attrelid = c.oid
WHERE c.relkind = 'r' AND c.relpersistence = 'p' AND a.attname = '_jsonb' AND a.atttypid = 'jsonb'::regtype
  AND NOT a.attisdropped
  AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
  AND NOT EXISTS (SELECT 1 FROM pg_class i WHERE i.relname = 'maskline_id_' || c.oid AND i.relkind = 'i')
`

// indexBudget bounds indexIDs as a whole: well within the 30 s infra.cjs waits for the store's port.
const indexBudget = 20 * time.Second

// customPlansFrom is the first PostgreSQL with plan_cache_mode (12); event triggers' EXECUTE
// FUNCTION came with 11.
const customPlansFrom = 120000

// indexIDs installs indexTriggerSQL in the database name and indexes its tables made before, one
// table per statement. It only makes the store faster, so nothing here stops it: whatever fails
// (no superuser, a PostgreSQL before 12, a table too large to index within the budget, done at the
// next start) is said, and the store runs as FerretDB alone would, each lookup by id a scan. True
// when the statements may be planned with their values (withCustomPlans).
func indexIDs(ctx context.Context, admin *pgx.ConnConfig, name string) bool {
	warn := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "ferretdb-launcher: not indexing ids in %s: "+format+
			"; every lookup by id reads its whole table\n", append([]any{name}, args...)...)
	}
	c, cancel := context.WithTimeout(ctx, indexBudget)
	defer cancel()
	config := admin.Copy()
	config.Database = name
	conn, err := pgx.ConnectConfig(c, config)
	if err != nil {
		warn("%v", err)
		return false
	}
	defer conn.Close(context.Background())
	var version int
	if err := conn.QueryRow(c, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		warn("%v", err)
		return false
	}
	if version < customPlansFrom {
		warn("PostgreSQL %d is older than 12", version)
		return false
	}
	if _, err := conn.Exec(c, indexTriggerSQL); err != nil {
		warn("%v", err)
		return false
	}
	rows, err := conn.Query(c, unindexedTablesSQL)
	if err != nil {
		warn("%v", err)
		return true
	}
	type table struct{ name, index string }
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (table, error) {
		var t table
		return t, r.Scan(&t.name, &t.index)
	})
	if err != nil {
		warn("%v", err)
		return true
	}
	for _, t := range tables {
		sql := fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s USING gin ((_jsonb->'_id') jsonb_path_ops) WITH (fastupdate = off)",
			pgx.Identifier{t.index}.Sanitize(), t.name)
		if _, err := conn.Exec(c, sql); err != nil {
			warn("table %s: %v", t.name, err)
			return true
		}
	}
	return true
}

// withCustomPlans makes the store's connections plan each statement with its values
// (plan_cache_mode=force_custom_plan): FerretDB names a filter's field as a parameter
// (`_jsonb->$1 @> $2`), and only a plan made knowing it is '_id' can use indexTriggerSQL's index.
func withCustomPlans(url string) string {
	if strings.Contains(url, "plan_cache_mode=") {
		return url
	}
	if strings.Contains(url, "?") {
		return url + "&plan_cache_mode=force_custom_plan"
	}
	return url + "?plan_cache_mode=force_custom_plan"
}
