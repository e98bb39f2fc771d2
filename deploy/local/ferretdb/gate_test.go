package main

import (
	"encoding/binary"
	"testing"
)

func TestMaxInFlightIsHalfThePostgreSQLPool(t *testing.T) {
	for url, want := range map[string]int{
		"": 10, // SQLite: as on the project's PostgreSQL stores
		"postgres://127.0.0.1:5432/db?pool_max_conns=20":                       10,
		"postgres://127.0.0.1:5432/db?synchronous_commit=off&pool_max_conns=7": 3,
		"postgres://127.0.0.1:5432/db":                                         25, // FerretDB's own default pool of 50
		"postgres://127.0.0.1:5432/db?pool_max_conns=x":                        25,
		"postgres://127.0.0.1:5432/db?pool_max_conns=1":                        1,
	} {
		if got := maxInFlightFor(url); got != want {
			t.Errorf("maxInFlightFor(%q) = %d, want %d", url, got, want)
		}
	}
}

// opMsg is an OP_MSG whose body's first key is command (the rest of the document left out).
func opMsg(command string) []byte {
	body := append([]byte{0x02}, append([]byte(command), 0)...)
	m := make([]byte, 16+4+1+4, 64)
	binary.LittleEndian.PutUint32(m[12:16], 2013)
	m = append(m, body...)
	binary.LittleEndian.PutUint32(m[0:4], uint32(len(m)))
	return m
}

func TestMonitoringCommandsPassTheGate(t *testing.T) {
	for command, want := range map[string]bool{
		"hello": true, "isMaster": true, "ismaster": true, "ping": true,
		"find": false, "update": false, "delete": false, "getMore": false, "helloThere": false,
	} {
		if got := monitoring(opMsg(command)); got != want {
			t.Errorf("monitoring(%q) = %v, want %v", command, got, want)
		}
	}
	query := make([]byte, 16)
	binary.LittleEndian.PutUint32(query[12:16], 2004)
	if !monitoring(query) {
		t.Error("a legacy OP_QUERY (the handshake) should pass")
	}
	if monitoring(opMsg("")[:22]) {
		t.Error("a message too short to name its command should wait like any other")
	}
}
