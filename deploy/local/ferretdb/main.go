// Command ferretdb-launcher runs FerretDB v1 (MongoDB wire protocol) on the SQLite
// backend for local development and tests. It exists because `go install
// .../cmd/ferretdb@v1.24.2` builds a binary that panics at start (FerretDB #2982);
// the embeddable package does not, and keeps telemetry off.
//
// go.mod pins modernc.org/sqlite at v1.40.1, past the v1.32.0 FerretDB v1.24.2 names: the older
// driver left a pool connection interrupted for good after a query cancelled at its first row
// (docs/architecture.md, "The SQLite driver under FerretDB"; sqlite_interrupt_test.go).
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data", "", "directory for the SQLite database files (created if missing)")
	postgresURL := flag.String("postgresql", "", "PostgreSQL URL: the PostgreSQL backend instead of SQLite, on the URL's database (created if missing)")
	temporary := flag.Bool("temporary", false, "with -postgresql: a database of its own, dropped at exit")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	maxInFlight := flag.Int("max-in-flight", 0, "commands let into FerretDB at once, across all connections (gate.go); 0: half of PostgreSQL's pool")
	flag.Parse()

	if *maxInFlight < 0 {
		fmt.Fprintln(os.Stderr, "ferretdb-launcher: -max-in-flight must be 0 (derived) or more")
		os.Exit(2)
	}
	if (*dataDir == "") == (*postgresURL == "") {
		fmt.Fprintln(os.Stderr, "ferretdb-launcher: one of -data and -postgresql is required")
		os.Exit(2)
	}
	abs := ""
	if *dataDir != "" {
		var err error
		if abs, err = filepath.Abs(*dataDir); err == nil {
			err = os.MkdirAll(abs, 0o700)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "ferretdb-launcher: %v\n", err)
			os.Exit(2)
		}
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-launcher: bad -log-level: %v\n", err)
		os.Exit(2)
	}
	var out io.Writer = os.Stderr
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	config := &ferretdb.Config{
		Logger:  logger,
		Handler: "sqlite",
		// WAL with synchronous=NORMAL: a commit survives the store process crashing or being killed
		// (what the tests and the chaos run do to it), not the machine losing power; it no longer
		// waits for an fsync while holding the database's one write lock, so concurrent writers do
		// not queue behind the disk. Production runs MongoDB.
		SQLiteURL: "file:" + abs + "/?_pragma=synchronous(normal)",
	}
	// What to undo at exit, last first: also on the way out through fail.
	var cleanups []func()
	fail := func(code int, format string, args ...any) {
		fmt.Fprintf(os.Stderr, "ferretdb-launcher: "+format+"\n", args...)
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
		os.Exit(code)
	}
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}()

	if *postgresURL != "" {
		url, atExit, err := postgresDatabase(ctx, *postgresURL, *temporary)
		if err != nil {
			var locale *localeError
			if errors.As(err, &locale) {
				fail(1, "PostgreSQL: %v", err)
			}
			fail(exitNoPostgreSQL, "PostgreSQL: %v", err)
		}
		cleanups = append(cleanups, atExit)
		config.Handler, config.SQLiteURL, config.PostgreSQLURL = "postgresql", "", url
	}
	if *maxInFlight == 0 {
		*maxInFlight = maxInFlightFor(config.PostgreSQLURL)
	}
	// Clients reach FerretDB through the gate (gate.go), on -listen; FerretDB listens on a socket of
	// its own. The port is taken first, so that a port in use fails before FerretDB starts.
	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		fail(1, "%v", err)
	}
	// On Linux an abstract socket (no file: nothing is left behind, even by a SIGKILL), under a name
	// nobody can guess and take first (an abstract name has no permissions); elsewhere a socket in a
	// directory of its own (0700), removed at exit.
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		fail(2, "%v", err)
	}
	socket := fmt.Sprintf("@maskline-ferretdb-%d-%x", os.Getpid(), nonce)
	if runtime.GOOS != "linux" {
		socketDir, err := os.MkdirTemp("", "ferretdb-gate-")
		if err != nil {
			fail(2, "%v", err)
		}
		cleanups = append(cleanups, func() { os.RemoveAll(socketDir) })
		socket = filepath.Join(socketDir, "ferretdb.sock")
	}
	config.Listener = ferretdb.ListenerConfig{Unix: socket}
	f, err := ferretdb.New(config)
	if err != nil {
		fail(1, "%v", err)
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()

	// Announce readiness only once FerretDB accepts connections; the gate then serves the port.
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("unix", socket, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			fail(1, "FerretDB not listening after 30s: %v", err)
		}
		select {
		case <-done:
			fail(1, "stopped before it was ready")
		case <-time.After(50 * time.Millisecond):
		}
	}
	var dialer net.Dialer
	g := newGate(listener, *maxInFlight, func(ctx context.Context) (net.Conn, error) {
		return dialer.DialContext(ctx, "unix", socket)
	}, logger)
	gateDone := make(chan struct{})
	go func() {
		defer close(gateDone)
		g.serve(ctx)
	}()
	fmt.Printf("ferretdb ready mongodb://%s/\n", *listen)

	<-done
	stop()
	<-gateDone
}
