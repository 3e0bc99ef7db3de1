// Command writeback writes SAP customer numbers and failure reasons back
// to the Salesforce Account.
package main

import (
	"context"

	"github.com/sfsap/sfsap/pkg/setup"
	"github.com/sfsap/sfsap/services/writeback"
)

func main() {
	setup.Main("writeback", func(ctx context.Context, d setup.Deps) (setup.Runner, error) {
		sf, err := setup.Salesforce(ctx, d.Config.Salesforce, d.Log)
		if err != nil {
			return nil, err
		}
		return writeback.New(ctx, d.Config.Writeback, d.JS, sf, setup.SalesforceErrors{}, d.Log)
	})
}
