package ecc_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sap/ecc"
	"github.com/sfsap/sfsap/pkg/sap/soaprfc"
	"github.com/sfsap/sfsap/pkg/sapsim"
)

// Example wires the adapter to an SAP system over SOAP-RFC, here the
// simulator, and creates a customer after checking that none exists yet.
func Example() {
	sim := sapsim.New(sapsim.Options{User: "SFSAP_RFC", Password: "secret"})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		fmt.Println(err)
		return
	}
	defer sim.Close()

	client, err := soaprfc.New(sim.URL(), soaprfc.WithClient("100"), soaprfc.WithBasicAuth("SFSAP_RFC", "secret"))
	if err != nil {
		fmt.Println(err)
		return
	}
	adapter, err := ecc.New(client, ecc.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}

	ctx := context.Background()
	customer := sap.Customer{
		Names: []string{"Acme Widgets Inc"}, City: "Springfield", PostalCode: "62701", Country: "US", Region: "IL",
		Language: "en", SalesOrg: "1000", DistributionChannel: "10", Division: "00", ReferenceCustomer: "99999",
		ExternalRef: "001Dn00000Abc12IAB",
	}
	if _, found, err := adapter.FindByExternalRef(ctx, customer.ExternalRef); err != nil || found {
		fmt.Println("lookup:", found, err)
		return
	}
	res, err := adapter.Create(ctx, customer)
	if err != nil {
		fmt.Println("create:", err)
		return
	}
	fmt.Println(res.CustomerNo)
	// Output: 0000100000
}
