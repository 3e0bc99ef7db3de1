package setup

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/services/listener"
)

// Source returns the listener's event source for salesforce.transport:
// the Streaming API (cometd) or SOQL polling (poll).
func Source(ctx context.Context, sf *sfclient.Client, c config.Config, log *slog.Logger) (listener.Source, error) {
	switch c.Salesforce.Transport {
	case config.TransportPoll:
		return PollSource(ctx, sf, c, log)
	case config.TransportCometD, "":
		return CometDSource(sf, c.Salesforce, log)
	}
	return nil, fmt.Errorf("salesforce.transport %q is not supported: use %s or %s", c.Salesforce.Transport, config.TransportCometD, config.TransportPoll)
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
