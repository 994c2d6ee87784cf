package embeddeddb

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// connDrops holds the connections still to drop, per table.
type connDrops struct {
	pending atomic.Int64 // sum of left, so that requests skip the lock while nothing is to drop
	mu      sync.Mutex
	left    map[string]int
}

// DropConnections makes the next n requests that touch table lose their
// connection: the server closes it without an answer before the store sees
// the request, as a reset connection or a load balancer's idle cut does.
// The SDK gets a transport error (EOF, connection reset), not one of
// DynamoDB's answers; n = 0 ends the drops for table. Other tables, and so
// other tests sharing the server, keep their connections.
func (db *DB) DropConnections(table string, n int) {
	n = max(n, 0)
	d := db.drops
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pending.Add(int64(n - d.left[table]))
	if n == 0 {
		delete(d.left, table)
		return
	}
	d.left[table] = n
}

// PendingDrops is how many of the connections DropConnections asked for
// table are not dropped yet.
func (db *DB) PendingDrops(table string) int {
	d := db.drops
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.left[table]
}

// take reports whether a request touching tables is to lose its connection,
// counting it as dropped.
func (d *connDrops) take(tables []string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, t := range tables {
		if d.left[t] > 0 {
			d.left[t]--
			d.pending.Add(-1)
			if d.left[t] == 0 {
				delete(d.left, t)
			}
			return true
		}
	}
	return false
}

// dropConnections closes the connection of the requests d says to drop,
// before next (the store) sees them.
func dropConnections(d *connDrops, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.pending.Load() == 0 {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if !d.take(tablesOf(body)) {
			next.ServeHTTP(w, r)
			return
		}
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("embeddeddb: the connection cannot be dropped: the ResponseWriter is no http.Hijacker")
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			_ = conn.Close()
		}
	})
}

// tablesOf names the tables a DynamoDB JSON request touches: its TableName,
// a batch's RequestItems keys, a transaction's items' TableName.
func tablesOf(body []byte) []string {
	var req struct {
		TableName     string
		RequestItems  map[string]json.RawMessage
		TransactItems []map[string]struct{ TableName string }
	}
	if json.Unmarshal(body, &req) != nil {
		return nil
	}
	var out []string
	if req.TableName != "" {
		out = append(out, req.TableName)
	}
	for t := range req.RequestItems {
		out = append(out, t)
	}
	for _, it := range req.TransactItems {
		for _, op := range it {
			if op.TableName != "" {
				out = append(out, op.TableName)
			}
		}
	}
	return out
}
