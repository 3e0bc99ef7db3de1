package sfclient_test

import (
	"context"
	"testing"

	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/pkg/sfsim"
)

func TestAccountsWithoutOptionalFields(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{})
	id := seed(t, sim, map[string]any{"Name": "Acme", "Type": "Customer", "BillingCountry": "DE"})

	// The org has no field for the company code; the client must read
	// Accounts without it rather than fail every query.
	cfg := clientCredentialsConfig(sim)
	cfg.Fields.CompanyCode = "Company_Code_Not_Created__c"
	c := newClient(t, cfg)

	accts, err := c.GetAccounts(context.Background(), []string{id})
	if err != nil {
		t.Fatalf("GetAccounts: %v", err)
	}
	if len(accts) != 1 || accts[0].Name != "Acme" {
		t.Fatalf("GetAccounts = %+v, want the one Account", accts)
	}
	if _, err := c.GetAccount(context.Background(), id); err != nil {
		t.Fatalf("GetAccount: %v", err)
	}

	// The SAP number field is required: its absence stays an error.
	cfg.Fields.SAPID = "SAP_Number_Not_Created__c"
	strict := newClient(t, cfg)
	_, err = strict.GetAccounts(context.Background(), []string{id})
	if !sfclient.Permanent(err) {
		t.Fatalf("GetAccounts without the SAP number field: err = %v, want a permanent INVALID_FIELD error", err)
	}
}
