package setup

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/ops"
	"github.com/sfsap/sfsap/pkg/tracing"
)

// Deps are the parts every service binary needs to build its service.
type Deps struct {
	Config config.Config
	Log    *slog.Logger
	Conn   *nats.Conn
	JS     jetstream.JetStream
}

// Runner is a service.
type Runner interface {
	Run(ctx context.Context) error
}

// Main is the body of every service binary: it parses the common flags,
// loads the configuration, connects to NATS, serves health and metrics,
// builds the service and runs it until SIGINT or SIGTERM. It exits the
// process with status 1 on error.
func Main(name string, build func(ctx context.Context, d Deps) (Runner, error)) {
	ctx, stop := SignalContext()
	defer stop()
	if err := runMain(ctx, name, os.Args[1:], build); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

func runMain(ctx context.Context, name string, args []string, build func(context.Context, Deps) (Runner, error)) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	configPath := fs.String("config", os.Getenv("SFSAP_CONFIG"), "path of the YAML configuration file (default $SFSAP_CONFIG; SFSAP_* environment variables override it)")
	httpAddr := fs.String("http", envOr("SFSAP_HTTP_ADDR", ":8080"), "address of the /healthz, /readyz and /metrics endpoints (default $SFSAP_HTTP_ADDR or :8080; empty turns them off)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: %s takes only flags; see -h", fs.Arg(0), name)
	}
	cfg, err := config.Load(*configPath, nil)
	if err != nil {
		return err
	}
	var ln net.Listener
	if *httpAddr != "" {
		if ln, err = ops.Listen(*httpAddr); err != nil {
			return err
		}
		defer ln.Close()
	}
	log := Logger(name)
	// simpleforce prints failed requests through the standard logger; the
	// client's own errors carry the same facts, so keep them for debugging.
	if os.Getenv("SFSAP_LOG_LEVEL") != "debug" {
		stdlog.SetOutput(io.Discard)
	}
	stopTracing, err := tracing.Setup(ctx, tracing.ConfigFromEnv(name, os.Getenv))
	if err != nil {
		return err
	}
	defer func() { _ = stopTracing(context.WithoutCancel(ctx)) }()
	nc, js, err := NATS(ctx, cfg.NATS, cfg.Topology, name, log)
	if err != nil {
		return err
	}
	defer nc.Close()

	svc, err := build(ctx, Deps{Config: cfg, Log: log, Conn: nc, JS: js})
	if err != nil {
		return err
	}
	ready := func(context.Context) error {
		if !nc.IsConnected() {
			return errors.New("not connected to NATS")
		}
		return nil
	}
	opsErr := make(chan error, 1)
	go func() {
		if ln == nil {
			opsErr <- nil
			return
		}
		opsErr <- ops.Serve(ctx, ln, ready, log)
	}()
	runErr := svc.Run(ctx)
	if err := <-opsErr; err != nil && runErr == nil {
		runErr = fmt.Errorf("serving health endpoints on %s: %w", *httpAddr, err)
	}
	return runErr
}

func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}
