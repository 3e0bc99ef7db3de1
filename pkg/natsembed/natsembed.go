// Package natsembed runs a NATS server with JetStream inside the process,
// so that the all-in-one command and the tests need no broker install.
package natsembed

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
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
	lock, err := lockStore(opts.StoreDir)
	if err != nil {
		return nil, err
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
		lock.Close()
		return nil, fmt.Errorf("starting embedded NATS: %w", err)
	}

	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		lock.Close()
		return nil, fmt.Errorf("starting embedded NATS: not ready for connections after 10s (store %s)", opts.StoreDir)
	}
	// The lock lasts as long as the server.
	go func() {
		srv.WaitForShutdown()
		lock.Close()
	}()
	return srv, nil
}

// lockStore creates the store folder, checks that it is writable, and
// takes an exclusive lock on it, so two processes never share one store.
// Closing the returned file releases the lock.
func lockStore(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("creating JetStream store folder: %w: choose a writable folder with --data or nats.store_dir", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "sfsap.lock"), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("JetStream store folder %s is not writable: %w: choose a writable folder with --data or nats.store_dir", dir, err)
	}
	// A server of this process that is shutting down releases its lock a
	// moment after WaitForShutdown returns, so wait briefly for it.
	deadline := time.Now().Add(2 * time.Second)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("JetStream store folder %s is in use by another process (%v): stop that process or choose another folder with --data", dir, err)
	}
	return f, nil
}
