package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// temporaryPrefix names the databases of throwaway stores (tests, benchmarks): the launcher's
// pid follows it, so a later launcher drops those whose launcher is gone (killed before it could).
const temporaryPrefix = "maskline_tmp_"

// exitNoPostgreSQL is the exit status when PostgreSQL cannot be used (unreachable, refused):
// deploy/local/infra.cjs then runs the store on SQLite instead.
const exitNoPostgreSQL = 3

// postgresDatabase makes the store's PostgreSQL database ready and answers its URL and how to drop
// it at exit (nil for a named, kept one). serverURL names the server, and the database to use
// unless temporary; a temporary one is made afresh as maskline_tmp_<pid>_<random>, after dropping
// those of launchers that are gone.
func postgresDatabase(ctx context.Context, serverURL string, temporary bool) (string, func(), error) {
	// Parsed as FerretDB's pool parses it: its pool_* parameters are not the server's.
	poolConfig, err := pgxpool.ParseConfig(serverURL)
	if err != nil {
		return "", nil, fmt.Errorf("bad -postgresql URL: %w", err)
	}
	config := poolConfig.ConnConfig
	name := config.Database
	if temporary {
		suffix := make([]byte, 4)
		_, _ = rand.Read(suffix)
		name = fmt.Sprintf("%s%d_%s", temporaryPrefix, os.Getpid(), hex.EncodeToString(suffix))
	}
	if name == "" {
		return "", nil, errors.New("the -postgresql URL names no database")
	}
	admin := config.Copy()
	admin.Database = "postgres"
	connectCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(connectCtx, admin)
	if err != nil {
		return "", nil, fmt.Errorf("cannot reach PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	if temporary {
		dropGone(connectCtx, conn)
	}
	if _, err := conn.Exec(connectCtx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != pgerrcode.DuplicateDatabase {
			return "", nil, fmt.Errorf("cannot create database %s: %w", name, err)
		}
	}
	url := withDatabase(serverURL, name)
	if !temporary {
		return url, nil, nil
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if conn, err := pgx.ConnectConfig(ctx, admin); err == nil {
			defer conn.Close(context.Background())
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		}
	}
	return url, drop, nil
}

// dropGone drops the temporary databases whose launcher process no longer runs.
func dropGone(ctx context.Context, conn *pgx.Conn) {
	rows, err := conn.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE $1", temporaryPrefix+"%")
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range names {
		pidText, _, _ := strings.Cut(strings.TrimPrefix(name, temporaryPrefix), "_")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue
		}
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
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
