// Command reconciler re-drives accounts stuck between steps, sweeps
// Salesforce for customers without an SAP number and moves messages that
// ran out of deliveries to the dead-letter stream.
package main

import (
	"context"

	"github.com/sfsap/sfsap/pkg/setup"
	"github.com/sfsap/sfsap/services/filter"
	"github.com/sfsap/sfsap/services/reconciler"
)

func main() {
	setup.Main("reconciler", func(ctx context.Context, d setup.Deps) (setup.Runner, error) {
		sf, err := setup.Salesforce(ctx, d.Config.Salesforce, d.Log.With("component", "sfclient"))
		if err != nil {
			return nil, err
		}
		sfAccounts := setup.FilterSalesforce{Client: sf}
		sweeper, err := filter.New(ctx, d.Config.Filter, d.JS, sfAccounts, d.Log)
		if err != nil {
			return nil, err
		}
		return reconciler.New(ctx, d.Config.Reconciler, d.JS, sweeper, sfAccounts, d.Log)
	})
}
