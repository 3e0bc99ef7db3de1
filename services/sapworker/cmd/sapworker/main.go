// Command sapworker creates SAP customers from create jobs, exactly once
// per Account. It needs only outbound connections, to NATS and to SAP.
package main

import (
	"context"

	"github.com/sfsap/sfsap/pkg/setup"
	"github.com/sfsap/sfsap/services/sapworker"
)

func main() {
	setup.Main("sapworker", func(ctx context.Context, d setup.Deps) (setup.Runner, error) {
		adapter, err := setup.SAP(d.Config.SAP, d.Log)
		if err != nil {
			return nil, err
		}
		pack, err := setup.Mapping(d.Config.MappingFiles)
		if err != nil {
			return nil, err
		}
		return sapworker.New(ctx, d.Config.SAPWorker, d.JS, adapter, pack, d.Log)
	})
}
