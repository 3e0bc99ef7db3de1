// Command sfsapctl is sfsap's operator tool: it shows an account's
// journey, lists and retries dead letters, replays change events and
// lists the audit trail. Run it without arguments for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/setup"
	"github.com/sfsap/sfsap/services/operator"
)

func main() {
	ctx, stop := setup.SignalContext()
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sfsapctl:", err)
		if errors.Is(err, operator.ErrUsage) || errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sfsapctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, operator.Usage+"\nflags:\n"); fs.PrintDefaults() }
	configPath := fs.String("config", os.Getenv("SFSAP_CONFIG"), "path of the YAML configuration file (default $SFSAP_CONFIG; SFSAP_* environment variables override it)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	timeout := fs.Duration("timeout", 2*time.Minute, "how long the command may take, including the connection to NATS")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("%w: no command given", operator.ErrUsage)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	cfg, err := config.Load(*configPath, nil)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The operator reads and republishes; it never changes streams or
	// consumers, whose settings belong to the services' configuration.
	cfg.NATS.SkipTopology = true
	nc, js, err := setup.NATS(ctx, cfg.NATS, cfg.Topology, "sfsapctl", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	op, err := operator.New(ctx, js)
	if err != nil {
		return err
	}
	if operator.NeedsSalesforce(fs.Args()) {
		sf, err := setup.Salesforce(ctx, cfg.Salesforce, log)
		if err != nil {
			return fmt.Errorf("logging in to Salesforce for --refresh: %w", err)
		}
		op.Accounts = setup.FilterSalesforce{Client: sf}
	}
	return operator.Command(ctx, op, fs.Args(), *asJSON, stdout)
}
