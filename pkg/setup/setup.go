// Package setup builds sfsap's parts from a config.Config: the NATS
// connection and topology, the Salesforce and SAP clients and the mapping
// pack. The service binaries and the all-in-one command share it, so each
// part is wired the same way everywhere.
package setup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/cometd"
	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/mapping"
	"github.com/sfsap/sfsap/pkg/metrics"
	"github.com/sfsap/sfsap/pkg/sap/adapters"
	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/services/listener"
)

// Logger returns a JSON logger on stderr at the level named by
// SFSAP_LOG_LEVEL (debug, info, warn or error; defaults to info).
func Logger(service string) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(os.Getenv("SFSAP_LOG_LEVEL"))); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("service", service)
}

// SignalContext returns a context that ends on SIGINT or SIGTERM. A second
// signal exits the process at once.
func SignalContext() (context.Context, context.CancelFunc) {
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		second := make(chan os.Signal, 1)
		signal.Notify(second, syscall.SIGINT, syscall.SIGTERM)
		<-second
		os.Exit(2)
	}()
	return ctx, cancel
}

// NATS connects to the configured server, opens JetStream and creates the
// topology, unless c.SkipTopology is set. The connection retries until the
// server is up, so services can start before it.
func NATS(ctx context.Context, c config.NATS, topo bus.Topology, name string, log *slog.Logger) (*nats.Conn, jetstream.JetStream, error) {
	if c.URL == "" {
		return nil, nil, errors.New("nats.url is empty: set it (or SFSAP_NATS_URL) to the server, such as nats://127.0.0.1:4222")
	}
	opts := []nats.Option{
		nats.Name("sfsap-" + name),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn(name+": disconnected from NATS", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info(name+": reconnected to NATS", "url", nc.ConnectedUrlRedacted()) }),
	}
	if c.User != "" {
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	}
	if c.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	}
	if c.CAFile != "" {
		opts = append(opts, nats.RootCAs(c.CAFile))
	}
	if c.CertFile != "" {
		opts = append(opts, nats.ClientCert(c.CertFile, c.KeyFile))
	}
	if c.InboxPrefix != "" {
		opts = append(opts, nats.CustomInboxPrefix(c.InboxPrefix))
	}
	nc, err := nats.Connect(c.URL, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to NATS at %s: %w", c.URL, err)
	}
	js, err := JetStream(nc, c.Domain)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	if c.SkipTopology {
		return nc, js, nil
	}
	// The server may still be starting; retry the topology for a while.
	deadline := time.Now().Add(30 * time.Second)
	for {
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = bus.Ensure(tctx, js, topo)
		cancel()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		log.Warn(name+": creating JetStream topology failed; retrying", "error", err)
		time.Sleep(time.Second)
	}
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// JetStream opens JetStream on nc, in the given domain when it is not
// empty.
func JetStream(nc *nats.Conn, domain string) (jetstream.JetStream, error) {
	var js jetstream.JetStream
	var err error
	if domain == "" {
		js, err = jetstream.New(nc)
	} else {
		js, err = jetstream.NewWithDomain(nc, domain)
	}
	if err != nil {
		return nil, fmt.Errorf("opening JetStream (domain %q): %w", domain, err)
	}
	return js, nil
}

// Salesforce logs in to Salesforce. The client's API usage is exported
// as the sfsap_salesforce_api_requests_used and _limit gauges.
func Salesforce(ctx context.Context, c config.Salesforce, log *slog.Logger) (*sfclient.Client, error) {
	cfg := c.Config
	cfg.Logger = log
	client, err := sfclient.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	metrics.WatchAPIUsage(client.APIUsage)
	return client, nil
}

// SAP returns the SAP adapter that c.Adapter selects: ecc, s4 or rest.
func SAP(c config.SAP, log *slog.Logger) (adapters.Adapter, error) {
	return adapters.New(c, log)
}

// Mapping loads the mapping pack: the defaults with the configured files
// merged over them.
func Mapping(files []string) (*mapping.Pack, error) {
	return mapping.Load(files...)
}

// CometDSource returns the listener's Streaming API source.
func CometDSource(sf *sfclient.Client, c config.Salesforce, log *slog.Logger) (*listener.CometDSource, error) {
	client, err := cometd.New(cometd.Config{
		BaseURL:       sf.InstanceURL(),
		APIVersion:    c.APIVersion,
		TokenSource:   sf.AccessToken,
		TokenRejected: sf.TokenRejected,
		Logger:        log,
		StallChanged:  metrics.SubscriptionStalled,
	})
	if err != nil {
		return nil, err
	}
	preset := int64(-1)
	if strings.EqualFold(c.ReplayPreset, "earliest") {
		preset = -2
	}
	return &listener.CometDSource{Client: client, Preset: preset}, nil
}
