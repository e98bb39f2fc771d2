package main

// The gate in front of FerretDB: the launcher's listener, which lets at most a fixed number of
// commands into FerretDB at once, across all client connections.
//
// Why: FerretDB v1.24.2 on PostgreSQL runs an update, a delete or a findAndModify as a query whose
// rows hold one connection of its pool while the write takes a second one (handler/msg_update.go:
// the query's iterator is closed only after common.UpdateDocument). The project's stores have a
// pool of 20 (pool_max_conns, deploy/local/infra.cjs). Once about as many such writes that match
// documents arrive together, each holds one connection and waits for another, and none ever
// finishes (measured 2026-12-02: 20 concurrent updates by _id of existing documents, ten rounds,
// all done; 22, the fifth round hung for good; 24, the first). The services each keep up to 20
// connections to the store, so under load they got there, and every write then waited for its
// deadline (the soak at 20 sessions a second: expiries stopped). With at most half the pool inside
// (maxInFlightFor), each command needing at most two connections, a connection stays free for one
// of them to finish, unless as many cursors as the other half hold theirs between getMores.
//
// FerretDB v1.24.2 answers every request with exactly one response, in order, on its connection
// (its clientconn loop reads a message, handles it, writes the answer; it sends no exhaust replies
// and answers even a moreToCome request), so a command is in FerretDB from the moment its request is
// sent until its response has been read. Commands the drivers' monitors send (hello, ping) pass
// without waiting: behind a long sweep they would time out and the driver would drop its pool.
// FerretDB does not cancel a command whose client has gone (it reads its socket only between
// commands), so a request whose client went away while it waited here is dropped, never sent.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"
)

// maxMessageBytes is the wire protocol's largest message (48 MB, MongoDB's maxMessageSizeBytes).
const maxMessageBytes = 48 * 1000 * 1000

// maxInFlightFor is the gate's size for a backend: half of PostgreSQL's pool (FerretDB's own default
// of 50 when the URL names none); on SQLite, which has no such pool, as many as on PostgreSQL's 20.
func maxInFlightFor(postgresURL string) int {
	pool := 50
	if postgresURL == "" {
		pool = 20
	} else if i := strings.Index(postgresURL, "pool_max_conns="); i >= 0 {
		var n int
		if _, err := fmt.Sscanf(postgresURL[i+len("pool_max_conns="):], "%d", &n); err == nil && n > 0 {
			pool = n
		}
	}
	return max(1, pool/2)
}

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

// serve relays clients until ctx ends, then closes the listener and every relay. An accept that
// fails (out of file descriptors, say) is tried again after a pause, never given up.
func (g *gate) serve(ctx context.Context) {
	go func() {
		<-ctx.Done()
		g.listener.Close()
	}()
	pause := 5 * time.Millisecond
	for {
		client, err := g.listener.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			g.logger.Error("gate: accept failed; trying again", "err", err, "in", pause)
			select {
			case <-time.After(pause):
			case <-ctx.Done():
			}
			pause = min(2*pause, time.Second)
			continue
		}
		pause = 5 * time.Millisecond
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
	// The launcher stopping ends both sides.
	stop := context.AfterFunc(ctx, func() {
		client.Close()
		server.Close()
	})
	defer stop()

	// The client's requests, read as they come: so that its going away is seen while a request of
	// its waits for a slot.
	requests := make(chan []byte)
	gone := make(chan struct{})
	done := make(chan struct{})
	defer close(done)
	go func() {
		defer close(gone)
		for {
			request, err := readMessage(client)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
					g.logger.Debug("gate: client read", "err", err)
				}
				return
			}
			select {
			case requests <- request:
			case <-done:
				return
			}
		}
	}()
	for {
		var request []byte
		select {
		case request = <-requests:
		case <-gone:
			return
		case <-ctx.Done():
			return
		}
		gated := !monitoring(request)
		if gated {
			select {
			case g.slots <- struct{}{}:
			case <-gone:
				return // the client left while its request waited: nobody wants the answer
			case <-ctx.Done():
				return
			}
			select {
			case <-gone: // left just as the slot came
				<-g.slots
				return
			default:
			}
		}
		response, err := exchange(server, request)
		if gated {
			// FerretDB is done with it; a client slow to read its answer holds no slot.
			<-g.slots
		}
		if err == nil {
			_, err = client.Write(response)
		}
		if err != nil {
			g.logger.Debug("gate: exchange", "err", err)
			return
		}
	}
}

// exchange sends one request to FerretDB and reads its one response.
func exchange(server net.Conn, request []byte) ([]byte, error) {
	if _, err := server.Write(request); err != nil {
		return nil, err
	}
	return readMessage(server)
}

// monitoring tells the commands a driver's monitor and handshake send: an OP_MSG whose command (the
// first key of its body) is hello, isMaster or ping, and any legacy OP_QUERY (the handshake).
func monitoring(message []byte) bool {
	const opQuery, opMsg = 2004, 2013
	opCode := binary.LittleEndian.Uint32(message[12:16])
	if opCode == opQuery {
		return true
	}
	// OP_MSG: header (16), flag bits (4), then a section of kind 0 (1): a BSON document whose first
	// element is its length (4), then the element's type (1) and its name, ended by a zero byte.
	const nameAt = 16 + 4 + 1 + 4 + 1
	if opCode != opMsg || len(message) <= nameAt || message[20] != 0 {
		return false
	}
	end := nameAt
	for end < len(message) && message[end] != 0 {
		end++
	}
	switch strings.ToLower(string(message[nameAt:end])) {
	case "hello", "ismaster", "ping":
		return true
	}
	return false
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
