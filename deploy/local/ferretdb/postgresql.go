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
		if err := step(ctx, func(c context.Context) error {
			_, err := conn.Exec(c, "SELECT pg_advisory_lock(hashtextextended($1, 0))", name)
			return err
		}); err != nil {
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
	if !temporary {
		closeConn()
		return url, func() {}, nil
	}
	// Kept open: it holds the database's lock until the launcher exits.
	return url, func() {
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
		return nil
	}
	err := step(ctx, func(c context.Context) error {
		_, err := conn.Exec(c, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+
			" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
		return err
	})
	var pgErr *pgconn.PgError
	if err != nil && !(errors.As(err, &pgErr) && pgErr.Code == pgerrcode.DuplicateDatabase) {
		return fmt.Errorf("cannot create database %s: %w", name, err)
	}
	return nil
}

// dropGone drops the temporary databases whose launcher no longer holds their lock.
func dropGone(ctx context.Context, admin *pgx.ConnConfig) {
	conn, err := connect(ctx, admin)
	if err != nil {
		return
	}
	defer conn.Close(context.Background())
	var names []string
	if err := step(ctx, func(c context.Context) error {
		rows, err := conn.Query(c, "SELECT datname FROM pg_database WHERE datname LIKE $1", temporaryPrefix+"%")
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
		drop(ctx, conn, name)
		_ = step(ctx, func(c context.Context) error {
			_, err := conn.Exec(c, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", name)
			return err
		})
	}
}

// drop drops the database, its open connections with it where the server can (PostgreSQL ≥ 13).
func drop(ctx context.Context, conn *pgx.Conn, name string) {
	quoted := pgx.Identifier{name}.Sanitize()
	if step(ctx, func(c context.Context) error {
		_, err := conn.Exec(c, "DROP DATABASE IF EXISTS "+quoted+" WITH (FORCE)")
		return err
	}) != nil {
		_ = step(ctx, func(c context.Context) error {
			_, err := conn.Exec(c, "DROP DATABASE IF EXISTS "+quoted)
			return err
		})
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
