package setup

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/pubsub"
	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/services/listener"
)

// Source returns the listener's event source for salesforce.transport:
// the Pub/Sub API (pubsub), the Streaming API (cometd) or SOQL polling
// (poll).
func Source(ctx context.Context, sf *sfclient.Client, c config.Config, log *slog.Logger) (listener.Source, error) {
	switch c.Salesforce.Transport {
	case config.TransportPoll:
		return PollSource(ctx, sf, c, log)
	case config.TransportCometD:
		return CometDSource(sf, c.Salesforce, log)
	case config.TransportPubSub, "":
		return PubSubSource(ctx, sf, c.Salesforce, log)
	}
	return nil, fmt.Errorf("salesforce.transport %q is not supported: use %s, %s or %s", c.Salesforce.Transport, config.TransportPubSub, config.TransportCometD, config.TransportPoll)
}

// PubSubSource returns the listener's Pub/Sub API source. Without a
// configured tenant id it reads the org id from Salesforce.
func PubSubSource(ctx context.Context, sf *sfclient.Client, c config.Salesforce, log *slog.Logger) (*listener.PubSubSource, error) {
	if err := c.CheckPubSubAddr(); err != nil {
		return nil, err
	}
	tenant := c.TenantID
	if tenant == "" {
		var err error
		if tenant, err = sf.OrgID(ctx); err != nil {
			return nil, err
		}
	}
	var ca []byte
	if c.PubSubCAFile != "" {
		var err error
		if ca, err = os.ReadFile(c.PubSubCAFile); err != nil {
			return nil, fmt.Errorf("reading salesforce.pubsub_ca_file: %w", err)
		}
	}
	client, err := pubsub.New(pubsub.Config{
		Addr:          c.PubSubAddr,
		CAPEM:         ca,
		TokenSource:   sf.AccessToken,
		TokenRejected: sf.TokenRejected,
		InstanceURL:   sf.InstanceURL(),
		TenantID:      tenant,
		Logger:        log,
	})
	if err != nil {
		return nil, fmt.Errorf("salesforce.pubsub_addr %s: %w", c.PubSubAddr, err)
	}
	preset := pubsub.ReplayLatest
	if c.ReplayPreset == "earliest" {
		preset = pubsub.ReplayEarliest
	}
	return &listener.PubSubSource{Client: client, Preset: preset}, nil
}

// PollSource returns the listener's SOQL polling source. It reads the
// integration user's id from Salesforce, so the source can skip sfsap's
// own failure write-backs.
func PollSource(ctx context.Context, sf *sfclient.Client, c config.Config, log *slog.Logger) (*listener.PollSource, error) {
	user, err := sf.UserID(ctx)
	if err != nil {
		return nil, err
	}
	return &listener.PollSource{
		SF:              sf,
		Config:          c.Listener.Poll,
		Fields:          c.Salesforce.Fields,
		CustomerTypes:   c.Filter.CustomerTypes,
		IntegrationUser: user,
		Earliest:        c.Salesforce.ReplayPreset == "earliest",
		Logger:          log,
	}, nil
}
