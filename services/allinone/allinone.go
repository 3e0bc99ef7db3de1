// Package allinone runs every sfsap service in one process on an embedded
// NATS server with JetStream, and with the demo switch also starts both
// simulators, loads demo accounts and converts them.
package allinone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/natsembed"
	"github.com/sfsap/sfsap/pkg/setup"
	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/services/filter"
	"github.com/sfsap/sfsap/services/listener"
	"github.com/sfsap/sfsap/services/notifier"
	"github.com/sfsap/sfsap/services/reconciler"
	"github.com/sfsap/sfsap/services/sapworker"
	"github.com/sfsap/sfsap/services/writeback"
)

// Options configure a run.
type Options struct {
	// Demo starts both simulators, loads the demo accounts, converts them,
	// prints the outcome and returns.
	Demo bool
	// JSON prints the demo summary as JSON instead of a table.
	JSON bool
	// DemoTimeout bounds the wait for every converted account's outcome.
	// Defaults to 60s.
	DemoTimeout time.Duration
	// Out receives the demo report. Defaults to io.Discard.
	Out    io.Writer
	Logger *slog.Logger
}

// Pipeline is the services wired together on one NATS connection.
type Pipeline struct {
	NATS       *server.Server // nil when an external server is used
	Conn       *nats.Conn
	JS         jetstream.JetStream
	Salesforce *sfclient.Client
	Listener   *listener.Service
	Filter     *filter.Service
	SAPWorker  *sapworker.Service
	Writeback  *writeback.Service
	Reconciler *reconciler.Service
	// Notifier is nil unless the configuration names a notifier sink.
	Notifier *notifier.Service
}

// Start builds the pipeline from cfg. It starts an embedded NATS server
// when cfg.NATS.URL is empty.
func Start(ctx context.Context, cfg config.Config, log *slog.Logger) (*Pipeline, error) {
	p := &Pipeline{}
	if cfg.NATS.URL == "" {
		srv, err := natsembed.Start(natsembed.Options{StoreDir: cfg.NATS.StoreDir})
		if err != nil {
			return nil, err
		}
		p.NATS = srv
		cfg.NATS.URL = srv.ClientURL()
		log.Info("allinone: embedded NATS started", "url", cfg.NATS.URL, "store_dir", cfg.NATS.StoreDir)
	}
	var err error
	p.Conn, p.JS, err = setup.NATS(ctx, cfg.NATS, cfg.Topology, "allinone", log)
	if err != nil {
		p.Close()
		return nil, err
	}
	if err := p.build(ctx, cfg, log); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *Pipeline) build(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	sf, err := setup.Salesforce(ctx, cfg.Salesforce, log.With("component", "sfclient"))
	if err != nil {
		return fmt.Errorf("logging in to Salesforce: %w", err)
	}
	p.Salesforce = sf
	adapter, err := setup.SAP(cfg.SAP, log.With("component", "sap"))
	if err != nil {
		return err
	}
	pack, err := setup.Mapping(cfg.MappingFiles)
	if err != nil {
		return err
	}
	src, err := setup.Source(ctx, sf, cfg, log.With("component", "listener-source"))
	if err != nil {
		return err
	}
	if p.Filter, err = filter.New(ctx, cfg.Filter, p.JS, setup.FilterSalesforce{Client: sf}, log); err != nil {
		return err
	}
	if p.Listener, err = listener.New(ctx, cfg.Listener, p.JS, src, p.Filter, log); err != nil {
		return err
	}
	if p.SAPWorker, err = sapworker.New(ctx, cfg.SAPWorker, p.JS, adapter, pack, log); err != nil {
		return err
	}
	if p.Writeback, err = writeback.New(ctx, cfg.Writeback, p.JS, sf, setup.SalesforceErrors{}, log); err != nil {
		return err
	}
	if p.Reconciler, err = reconciler.New(ctx, cfg.Reconciler, p.JS, p.Filter, setup.FilterSalesforce{Client: sf}, log); err != nil {
		return err
	}
	if cfg.Notifier.Enabled() {
		if p.Notifier, err = notifier.New(ctx, cfg.Notifier, p.JS, log); err != nil {
			return err
		}
	}
	return nil
}

// Run runs the services, the reconciler and a configured notifier
// included, until ctx ends and returns when all have stopped, joining
// their errors.
func (p *Pipeline) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	services := []interface{ Run(context.Context) error }{p.Listener, p.Filter, p.SAPWorker, p.Writeback, p.Reconciler}
	if p.Notifier != nil {
		services = append(services, p.Notifier)
	}
	for _, svc := range services {
		wg.Go(func() {
			if err := svc.Run(ctx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Close closes the connection and stops the embedded server.
func (p *Pipeline) Close() {
	if p.Conn != nil {
		p.Conn.Close()
	}
	if p.NATS != nil {
		p.NATS.Shutdown()
		p.NATS.WaitForShutdown()
	}
}

// Run runs the all-in-one command.
func Run(ctx context.Context, cfg config.Config, opts Options) error {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Demo {
		return runDemo(ctx, cfg, opts)
	}
	p, err := Start(ctx, cfg, opts.Logger)
	if err != nil {
		return err
	}
	defer p.Close()
	return p.Run(ctx)
}
