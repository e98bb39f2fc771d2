package main

// The gate in front of FerretDB: the launcher's listener, which lets at most a fixed number of
// commands into FerretDB at once, across all client connections.
//
// Why: FerretDB v1.24.2 on PostgreSQL runs an update, a delete or a findAndModify as a query whose
// rows hold one connection of its pool while the write takes a second one (handler/msg_update.go:
// the query's iterator is closed only after common.UpdateDocument). Its pool has 50 connections
// (pool_max_conns). Once about 22 such writes that match documents arrive together, each holds one
// connection and waits for another, and none ever finishes (measured 2026-12-02: 20 concurrent
// updates by _id of existing documents, ten rounds, all done; 22, the fifth round hung for good;
// 24, the first). The services each keep up to 20 connections to the store, so under load they
// reached it, and every write then waited for its deadline (the soak at 20 sessions a second:
// expiries stopped). With at most maxInFlight commands inside, each needing at most two
// connections, the pool can never run dry.
//
// FerretDB answers every request with exactly one response, in order, on its connection (its
// clientconn loop reads a message, handles it, writes the answer), so a command is in flight from
// the moment its request is read until its response is written back. A client that goes away
// closes its FerretDB connection too, which cancels what it was running, as it would without the gate.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
)

// maxMessageBytes is the wire protocol's largest message (48 MB, MongoDB's maxMessageSizeBytes).
const maxMessageBytes = 48 * 1000 * 1000

// gate accepts clients on its listener and relays each to its own connection to FerretDB.
type gate struct {
	listener net.Listener
	dial     func(ctx context.Context) (net.Conn, error)
	slots    chan struct{}
	logger   *slog.Logger
	wg       sync.WaitGroup
}

func newGate(listener net.Listener, maxInFlight int, dial func(ctx context.Context) (net.Conn, error), logger *slog.Logger) *gate {
	return &gate{listener: listener, dial: dial, slots: make(chan struct{}, maxInFlight), logger: logger}
}

// serve relays clients until ctx ends, then closes the listener and every relay.
func (g *gate) serve(ctx context.Context) {
	go func() {
		<-ctx.Done()
		g.listener.Close()
	}()
	for {
		client, err := g.listener.Accept()
		if err != nil {
			if ctx.Err() == nil {
				g.logger.Error("gate: accept failed", "err", err)
			}
			break
		}
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			g.relay(ctx, client)
		}()
	}
	g.wg.Wait()
}

// relay carries one client's requests to FerretDB and their responses back, one at a time.
func (g *gate) relay(ctx context.Context, client net.Conn) {
	defer client.Close()
	server, err := g.dial(ctx)
	if err != nil {
		g.logger.Error("gate: FerretDB unreachable", "err", err)
		return
	}
	defer server.Close()
	// Either side closing (or the launcher stopping) ends both: a request waiting for a slot is
	// then dropped, and FerretDB cancels one it is running, as when its client goes away.
	stop := context.AfterFunc(ctx, func() {
		client.Close()
		server.Close()
	})
	defer stop()
	for {
		request, err := readMessage(client)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				g.logger.Debug("gate: client read", "err", err)
			}
			return
		}
		select {
		case g.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		err = g.exchange(client, server, request)
		<-g.slots
		if err != nil {
			g.logger.Debug("gate: exchange", "err", err)
			return
		}
	}
}

// exchange sends one request to FerretDB and its one response back to the client.
func (g *gate) exchange(client, server net.Conn, request []byte) error {
	if _, err := server.Write(request); err != nil {
		return err
	}
	response, err := readMessage(server)
	if err != nil {
		return err
	}
	_, err = client.Write(response)
	return err
}

// readMessage reads one wire protocol message: its length (the first four bytes, little-endian,
// counting themselves), then the rest.
func readMessage(r io.Reader) ([]byte, error) {
	var header [4]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err
	}
	length := int(int32(binary.LittleEndian.Uint32(header[:])))
	if length < 16 || length > maxMessageBytes {
		return nil, fmt.Errorf("a message of %d bytes", length)
	}
	message := make([]byte, length)
	copy(message, header[:])
	if _, err := io.ReadFull(r, message[4:]); err != nil {
		return nil, err
	}
	return message, nil
}
