// Command sfsap-bench measures sfsap's latency, throughput, Salesforce API
// cost and memory against a polling baseline and the simulated call time,
// with the four services and nats-server as separate processes on
// loopback. Run it from the sfsap module, which it builds the binaries
// from, or pass -bin.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sfsap/sfsap/services/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "sfsap-bench: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sfsap-bench", flag.ContinueOnError)
	var s bench.Settings
	fs.IntVar(&s.N, "n", 200, "conversions in each measured phase")
	fs.DurationVar(&s.SAPLatency, "sap-latency", 20*time.Millisecond, "time added to every SAP function module call")
	fs.DurationVar(&s.SFLatency, "sf-latency", 20*time.Millisecond, "time added to every Salesforce data API request")
	fs.StringVar(&s.Transport, "transport", "pubsub", "change event transport of the listener: pubsub (Pub/Sub API) or cometd (Streaming API)")
	concurrency := fs.String("concurrency", "1,4,16", "comma-separated SAP worker concurrencies to measure throughput at")
	fs.IntVar(&s.Runs, "runs", 3, "runs of every phase; the report gives their medians")
	fs.DurationVar(&s.PollInterval, "poll-interval", 10*time.Second, "interval of the polling baseline, scaled down from the real one; the latency phases spread their conversions over one interval")
	fs.DurationVar(&s.RealPollInterval, "real-poll-interval", 5*time.Minute, "interval of the replaced workflow product, for which the baseline latency is computed")
	fs.IntVar(&s.Warmup, "warmup", 10, "conversions made after the services start, before measuring")
	noBaseline := fs.Bool("no-baseline", false, "skip the polling baseline")
	fs.StringVar(&s.BinDir, "bin", "", "folder with prebuilt listener, filter, sapworker, writeback and nats-server binaries (default: build them with go build)")
	fs.StringVar(&s.WorkDir, "work", "", "folder for binaries, configs, JetStream stores and service logs (default: a temporary folder, removed after a successful bench)")
	fs.BoolVar(&s.KeepWork, "keep", false, "keep the temporary work folder")
	jsonOut := fs.Bool("json", false, "print the report as JSON instead of tables")
	out := fs.String("out", "bench-out", "folder for report.json, report.txt and latency.svg; empty writes no files")
	verbose := fs.Bool("v", false, "log progress to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: every setting is a flag, see -help", fs.Args())
	}
	list, err := parseList(*concurrency)
	if err != nil {
		return err
	}
	s.Concurrency = list
	s.SkipBaseline = *noBaseline
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	s.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	rep, err := bench.Run(ctx, s)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := rep.WriteFiles(*out); err != nil {
			return err
		}
	}
	if *jsonOut {
		return rep.WriteJSON(os.Stdout)
	}
	return rep.WriteText(os.Stdout)
}

// parseList parses a comma-separated list of positive integers.
func parseList(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-concurrency %q: %q is not a positive integer: use a list such as 1,4,16", s, part)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-concurrency %q lists no value: use a list such as 1,4,16", s)
	}
	return out, nil
}
