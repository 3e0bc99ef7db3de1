// Package natsembed runs a NATS server with JetStream inside the process,
// so that the all-in-one command and the tests need no broker install.
package natsembed

import (
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Options configure an embedded server.
type Options struct {
	// StoreDir is the folder of the JetStream file store. Required.
	StoreDir string
	// Host and Port set the client listener. Defaults to 127.0.0.1 and a
	// random free port.
	Host string
	Port int
	// ServerName names the server in logs and advisories. Defaults to "sfsap".
	ServerName string
	// SyncAlways makes the file store fsync every write, so that a crash of
	// the machine loses no acknowledged message. Defaults to false.
	SyncAlways bool
}

// Start starts a server and waits until it accepts connections.
func Start(opts Options) (*server.Server, error) {
	if opts.StoreDir == "" {
		return nil, fmt.Errorf("starting embedded NATS: store folder is empty: set a folder for the JetStream file store")
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.Port == 0 {
		opts.Port = server.RANDOM_PORT
	}
	if opts.ServerName == "" {
		opts.ServerName = "sfsap"
	}
	srv, err := server.NewServer(&server.Options{
		ServerName: opts.ServerName,
		Host:       opts.Host,
		Port:       opts.Port,
		JetStream:  true,
		StoreDir:   opts.StoreDir,
		SyncAlways: opts.SyncAlways,
		NoSigs:     true,
		NoLog:      true,
	})
	if err != nil {
		return nil, fmt.Errorf("starting embedded NATS: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("starting embedded NATS: not ready for connections after 10s (store %s)", opts.StoreDir)
	}
	return srv, nil
}
