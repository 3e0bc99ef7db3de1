// Command filter turns Account change events that convert a prospect into
// a customer into SAP create jobs.
package main

import (
	"context"

	"github.com/sfsap/sfsap/pkg/setup"
	"github.com/sfsap/sfsap/services/filter"
)

func main() {
	setup.Main("filter", func(ctx context.Context, d setup.Deps) (setup.Runner, error) {
		sf, err := setup.Salesforce(ctx, d.Config.Salesforce, d.Log)
		if err != nil {
			return nil, err
		}
		return filter.New(ctx, d.Config.Filter, d.JS, setup.FilterSalesforce{Client: sf}, d.Log)
	})
}
