// Command sfsap runs every sfsap service in one process on an embedded
// NATS server. With --demo it also starts the Salesforce and SAP
// simulators, converts a set of demo accounts and prints the outcome.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"os"
	"time"

	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/setup"
	"github.com/sfsap/sfsap/pkg/tracing"
	"github.com/sfsap/sfsap/services/allinone"
)

func main() {
	ctx, stop := setup.SignalContext()
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "sfsap:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sfsap", flag.ContinueOnError)
	configPath := fs.String("config", "", "path of the YAML configuration file (optional; SFSAP_* environment variables override it)")
	demo := fs.Bool("demo", false, "start both simulators, convert the demo accounts, print each account's SAP number or failure reason, and exit")
	jsonOut := fs.Bool("json", false, "with --demo, print a machine-readable summary instead of a table")
	dataDir := fs.String("data", "", "folder of the embedded NATS server's JetStream store (default sfsap-data; the demo uses a temporary folder)")
	timeout := fs.Duration("timeout", 60*time.Second, "with --demo, how long to wait for every conversion's outcome")
	verbose := fs.Bool("v", false, "with --demo, also log every step as JSON on stderr")
	provision := fs.Bool("provision", false, "create or update the JetStream streams, consumers and key-value buckets on the server at nats.url, then exit; the NATS user needs permission to manage them")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: sfsap takes only flags, such as --demo; see -h", fs.Arg(0))
	}
	cfg, err := config.Load(*configPath, nil)
	if err != nil {
		return err
	}
	if *provision {
		cfg.NATS.SkipTopology = false
		nc, _, err := setup.NATS(ctx, cfg.NATS, cfg.Topology, "provisioner", setup.Logger("sfsap"))
		if err != nil {
			return err
		}
		nc.Close()
		fmt.Println("sfsap: JetStream streams, consumers and key-value buckets are in place")
		return nil
	}
	if *dataDir != "" {
		cfg.NATS.StoreDir = *dataDir
	}
	stopTracing, err := tracing.Setup(ctx, tracing.ConfigFromEnv("allinone", os.Getenv))
	if err != nil {
		return err
	}
	defer func() { _ = stopTracing(context.WithoutCancel(ctx)) }()
	log := setup.Logger("sfsap")
	// simpleforce prints failed requests, SOAP bodies included, through the
	// standard logger; keep them out of the output unless asked for.
	stdlog.SetOutput(io.Discard)
	if *verbose {
		stdlog.SetOutput(os.Stderr)
	}
	if *demo && !*verbose && os.Getenv("SFSAP_LOG_LEVEL") == "" {
		// The report names every failure; logs would repeat them.
		log = slog.New(slog.DiscardHandler)
	}
	return allinone.Run(ctx, cfg, allinone.Options{
		Demo: *demo, JSON: *jsonOut, DemoTimeout: *timeout, Out: os.Stdout, Logger: log,
	})
}
