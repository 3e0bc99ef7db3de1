// Command sapsim serves a simulated SAP system for the SOAP-RFC calls
// sfsap makes (customer create, lookup and commit), with SAP's
// validations. It backs the compose demo and keeps customers in memory
// only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sfsap/sfsap/pkg/sapsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sapsim:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, logOut io.Writer) error {
	fs := flag.NewFlagSet("sapsim", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8082", "address to listen on; use :8082 inside a container")
	user := fs.String("user", "SFSAP_RFC", "the only user that Basic authentication accepts (empty turns authentication off)")
	password := fs.String("password", "sapsim-password", "password of that user")
	client := fs.String("client", "100", "the only SAP client (sap-client) that logons may name")
	systemID := fs.String("system-id", "SIM", "three-character SAP system id")
	autoCommit := fs.Bool("auto-commit", false, "commit each customer create without BAPI_TRANSACTION_COMMIT")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(logOut, nil)).With("service", "sapsim")

	sim := sapsim.New(sapsim.Options{
		User:       *user,
		Password:   *password,
		Client:     *client,
		SystemID:   *systemID,
		AutoCommit: *autoCommit,
		Logger:     log,
	})
	defer sim.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.Handle("/", sim.Handler())

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("sapsim: serving", "url", "http://"+ln.Addr().String(), "client", *client)

	select {
	case err := <-served:
		return fmt.Errorf("serving on %s: %w", *addr, err)
	case <-ctx.Done():
	}
	log.Info("sapsim: stopping")
	// Close ends held responses first, so Shutdown need not wait for them.
	_ = sim.Close()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("stopping the server: %w", err)
	}
	return nil
}
