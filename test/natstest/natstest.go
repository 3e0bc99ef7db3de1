// Package natstest starts a real NATS server with JetStream for tests.
package natstest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/natsembed"
)

// Bundle is a running server with a connection and sfsap's topology.
type Bundle struct {
	Server *server.Server
	Conn   *nats.Conn
	JS     jetstream.JetStream
}

// Start starts an embedded server on a random loopback port with its store
// in a temporary folder, creates sfsap's streams, consumers and buckets
// with the given topology, and stops everything when the test ends.
func Start(t testing.TB, topo bus.Topology) *Bundle {
	t.Helper()
	srv, err := natsembed.Start(natsembed.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatalf("starting NATS: %v", err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatalf("connecting to NATS at %s: %v", srv.ClientURL(), err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("opening JetStream: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := bus.Ensure(ctx, js, topo); err != nil {
		t.Fatalf("creating topology: %v", err)
	}
	return &Bundle{Server: srv, Conn: nc, JS: js}
}

// KV returns a bucket of the topology.
func (b *Bundle) KV(t testing.TB, bucket string) jetstream.KeyValue {
	t.Helper()
	kv, err := b.JS.KeyValue(context.Background(), bucket)
	if err != nil {
		t.Fatalf("opening bucket %s: %v", bucket, err)
	}
	return kv
}
