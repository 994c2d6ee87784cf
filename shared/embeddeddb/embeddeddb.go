// Package embeddeddb runs github.com/truora/minidyn's DynamoDB JSON API
// server in-process on a loopback port, so the local server and the tests
// talk to a DynamoDB-compatible store through the real aws-sdk-go-v2 client
// over HTTP, with no Docker and no Java.
package embeddeddb

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	miniserver "github.com/truora/minidyn/server"
)

// DB is a running embedded store.
type DB struct {
	// URL is the endpoint to give the SDK (store.Options.Endpoint).
	URL string
	// Server exposes minidyn's failure emulation to tests.
	Server *miniserver.Server
	http   *http.Server
}

// Start listens on addr ("127.0.0.1:0" for any free port) and serves.
func Start(addr string) (*DB, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := miniserver.NewServer()
	hs := &http.Server{Handler: serializeTableChanges(srv), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic("embeddeddb: " + err.Error())
		}
	}()
	return &DB{URL: "http://" + ln.Addr().String(), Server: srv, http: hs}, nil
}

// serializeTableChanges runs each CreateTable, UpdateTable and DeleteTable
// alone. minidyn v0.8.2 changes its table map in these without taking its
// lock, so one of them concurrent with any other request crashes the
// process ("concurrent map read and map write"); parallel tests and the
// event replay create tables while others use theirs.
func serializeTableChanges(next http.Handler) http.Handler {
	var mu sync.RWMutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("X-Amz-Target") {
		case "DynamoDB_20120810.CreateTable", "DynamoDB_20120810.UpdateTable", "DynamoDB_20120810.DeleteTable":
			mu.Lock()
			defer mu.Unlock()
		default:
			mu.RLock()
			defer mu.RUnlock()
		}
		next.ServeHTTP(w, r)
	})
}

// Fail makes every DynamoDB call fail with an InternalServerError until
// Recover, to test how the API answers an outage.
func (db *DB) Fail() { db.Server.EmulateFailure(miniserver.FailureConditionInternalServerError) }

// Recover ends Fail.
func (db *DB) Recover() { db.Server.EmulateFailure(miniserver.FailureConditionNone) }

// Close stops the server.
func (db *DB) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return db.http.Shutdown(ctx)
}

// FailTable makes every call touching table fail until RecoverTable; other
// tables, and so other tests sharing the server, keep working.
func (db *DB) FailTable(table string) {
	db.Server.EmulateFailureForTable(table, miniserver.FailureConditionInternalServerError)
}

// RecoverTable ends FailTable.
func (db *DB) RecoverTable(table string) {
	db.Server.EmulateFailureForTable(table, miniserver.FailureConditionNone)
}
