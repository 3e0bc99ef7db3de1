// Command listener receives Salesforce Change Data Capture events for
// Account and publishes one account-change message per record to NATS.
package main

import (
	"context"

	"github.com/sfsap/sfsap/pkg/setup"
	"github.com/sfsap/sfsap/services/filter"
	"github.com/sfsap/sfsap/services/listener"
)

func main() {
	setup.Main("listener", func(ctx context.Context, d setup.Deps) (setup.Runner, error) {
		sf, err := setup.Salesforce(ctx, d.Config.Salesforce, d.Log)
		if err != nil {
			return nil, err
		}
		src, err := setup.Source(ctx, sf, d.Config, d.Log)
		if err != nil {
			return nil, err
		}
		// The sweeper recovers conversions when Salesforce rejects the
		// stored replay position.
		sweeper, err := filter.New(ctx, d.Config.Filter, d.JS, setup.FilterSalesforce{Client: sf}, d.Log)
		if err != nil {
			return nil, err
		}
		return listener.New(ctx, d.Config.Listener, d.JS, src, sweeper, d.Log)
	})
}
