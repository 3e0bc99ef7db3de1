package dryrun_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/mapping"
	"github.com/sfsap/sfsap/pkg/sap/adapters"
	"github.com/sfsap/sfsap/pkg/sapsim"
	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/pkg/sfid"
	"github.com/sfsap/sfsap/pkg/sfsim"
	"github.com/sfsap/sfsap/services/dryrun"
)

type bundle struct {
	sf  *sfclient.Client
	sap *sapsim.Server
	ids map[string]string // Account ids by name
}

// setup starts the Salesforce simulator with four Accounts and an SAP
// simulator that no request should reach.
func setup(t *testing.T) bundle {
	t.Helper()
	sfSim := sfsim.New(sfsim.Options{})
	if err := sfSim.Start(""); err != nil {
		t.Fatalf("starting Salesforce simulator: %v", err)
	}
	t.Cleanup(sfSim.Close)

	accounts := []map[string]any{
		{"Name": "Larchfield Tools GmbH", "Type": "Customer - Direct", "BillingStreet": "Hauptstr. 1",
			"BillingCity": "München", "BillingState": "Bavaria", "BillingPostalCode": "80331", "BillingCountry": "Germany"},
		{"Name": "Atlantis Trading", "Type": "Customer", "BillingCity": "Poseidonia", "BillingCountry": "Atlantis"},
		{"Name": "Already Synced Ltd", "Type": "Customer", "SAP_ID__c": "0000104711", "BillingCity": "Leeds", "BillingPostalCode": "LS1 4DY", "BillingCountry": "GB"},
		{"Name": "Prospect Inc", "Type": "Prospect", "BillingCity": "Austin", "BillingState": "TX", "BillingCountry": "US"},
	}
	ids := map[string]string{}
	for _, fields := range accounts {
		id, err := sfSim.Store().Create(fields, sfsim.WriteOptions{})
		if err != nil {
			t.Fatalf("Store.Create(%v): %v", fields["Name"], err)
		}
		ids[fields["Name"].(string)] = id
	}

	sf, err := sfclient.New(context.Background(), sfclient.Config{
		LoginURL:     sfSim.URL(),
		ClientID:     "sfsim-client",
		ClientSecret: "sfsim-secret",
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("sfclient.New() error = %v", err)
	}

	sapSim := sapsim.New(sapsim.Options{})
	if err := sapSim.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("starting SAP simulator: %v", err)
	}
	t.Cleanup(func() { _ = sapSim.Close() })
	return bundle{sf: sf, sap: sapSim, ids: ids}
}

func renderer(t *testing.T, name string, sim *sapsim.Server) adapters.Adapter {
	t.Helper()
	c := config.Config{SAP: config.SAP{Adapter: name, URL: sim.URL(), Client: "100"}}.WithDefaults().SAP
	a, err := adapters.New(c, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("adapters.New(%s) error = %v", name, err)
	}
	return a
}

func TestRunUnsyncedCustomers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		adapter     string
		wantPayload string
	}{
		{config.AdapterECC, `<EXTERNAL_REF>`},
		{config.AdapterS4, `"BusinessPartnerIDByExtSystem": "`},
		{config.AdapterREST, `"EXTERNAL_REF": "`},
	}
	for _, tt := range tests {
		t.Run(tt.adapter, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var out bytes.Buffer

			results, err := dryrun.Run(context.Background(), b.sf, dryrun.Options{
				AdapterName: tt.adapter,
				Renderer:    renderer(t, tt.adapter, b.sap),
				Mapper:      mapping.Default(),
				Out:         &out,
			})
			if err != nil {
				t.Fatalf("Run() error = %v", err)
			}

			var got []string
			for _, r := range results {
				got = append(got, r.Name)
			}
			if diff := cmp.Diff([]string{"Larchfield Tools GmbH", "Atlantis Trading"}, got); diff != "" {
				t.Fatalf("Run() accounts mismatch (-want +got):\n%s\noutput:\n%s", diff, out.String())
			}
			ready, broken := results[0], results[1]
			if !ready.Ready() || len(ready.Problems) != 0 {
				t.Errorf("Larchfield result = %+v, want ready without problems", ready)
			}
			if ready.Customer == nil || ready.Customer.Region != "09" || ready.Customer.Country != "DE" {
				t.Errorf("Larchfield customer = %+v, want country DE and region 09", ready.Customer)
			}
			if broken.Ready() || len(broken.Problems) == 0 || broken.Problems[0].Field != mapping.FieldBillingCountry {
				t.Errorf("Atlantis result = %+v, want a BillingCountry problem", broken)
			}

			text := out.String()
			wantParts := []string{
				"Account " + b.ids["Larchfield Tools GmbH"] + ` "Larchfield Tools GmbH": ready. The ` + tt.adapter + " adapter would send:",
				tt.wantPayload + strings.ToUpper(b.ids["Larchfield Tools GmbH"]),
				"Account " + b.ids["Atlantis Trading"] + ` "Atlantis Trading": cannot become an SAP customer. Problems:`,
				"  - " + broken.Problems[0].Message,
				"2 Accounts: 1 ready, 1 with problems, 0 already in SAP, 0 not found. Nothing was sent to SAP.",
			}
			for _, part := range wantParts {
				if !strings.Contains(text, part) {
					t.Errorf("output lacks %q; output:\n%s", part, text)
				}
			}
			if n := len(b.sap.Customers()); n != 0 {
				t.Errorf("SAP simulator has %d customers, want 0", n)
			}
			for _, op := range []string{sapsim.ODataCreate, sapsim.ODataQuery, "Z_SFSAP_CUSTOMER_CREATE", "BAPI_CUSTOMER_FIND"} {
				if n := b.sap.Calls(op); n != 0 {
					t.Errorf("SAP simulator Calls(%s) = %d, want 0", op, n)
				}
			}
			if n := b.sap.ODataSessions(); n != 0 {
				t.Errorf("SAP simulator ODataSessions() = %d, want 0", n)
			}
		})
	}
}

func TestRunNamedAccountsJSON(t *testing.T) {
	t.Parallel()
	b := setup(t)
	missing, err := sfid.To18("001Hx00000ZZZZZ")
	if err != nil {
		t.Fatalf("sfid.To18() error = %v", err)
	}
	synced := b.ids["Already Synced Ltd"]
	var out bytes.Buffer

	// The 15-character form and a repeat of the same Account give one
	// result.
	results, err := dryrun.Run(context.Background(), b.sf, dryrun.Options{
		AccountIDs:  []string{synced[:15], synced, missing},
		AdapterName: config.AdapterS4,
		Renderer:    renderer(t, config.AdapterS4, b.sap),
		Mapper:      mapping.Default(),
		Out:         &out,
		JSON:        true,
	})
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	if len(results) != 2 {
		t.Fatalf("Run() returned %d results, want 2: %+v", len(results), results)
	}

	var doc struct {
		Adapter  string
		Accounts []struct {
			AccountID string `json:"account_id"`
			SAPID     string `json:"sap_id"`
			NotFound  bool   `json:"not_found"`
			Payload   map[string]any
		}
		Summary dryrun.Summary
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if doc.Adapter != "s4" {
		t.Errorf("adapter = %q, want s4", doc.Adapter)
	}
	wantSummary := dryrun.Summary{Accounts: 2, AlreadyInSAP: 1, NotFound: 1}
	if diff := cmp.Diff(wantSummary, doc.Summary); diff != "" {
		t.Errorf("summary mismatch (-want +got):\n%s", diff)
	}
	first, second := doc.Accounts[0], doc.Accounts[1]
	if first.AccountID != synced || first.SAPID != "0000104711" {
		t.Errorf("first account = %+v, want %s with SAP number 0000104711", first, synced)
	}
	if first.Payload["BusinessPartnerIDByExtSystem"] != strings.ToUpper(synced) {
		t.Errorf("first payload = %v, want the deep insert as a JSON object; output:\n%s", first.Payload, out.String())
	}
	if second.AccountID != missing || !second.NotFound {
		t.Errorf("second account = %+v, want %s not found", second, missing)
	}
}

func TestRunRawPayload(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := renderer(t, config.AdapterS4, b.sap)
	var out bytes.Buffer
	id := b.ids["Larchfield Tools GmbH"]

	results, err := dryrun.Run(context.Background(), b.sf, dryrun.Options{
		AccountIDs: []string{id}, AdapterName: "s4", Renderer: a, Mapper: mapping.Default(), Out: &out, Raw: true,
	})
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	want, err := a.Render(*results[0].Customer)
	if err != nil {
		t.Fatalf("Render() error = %v", err)
	}
	if !strings.Contains(out.String(), "\n"+string(want)+"\n") {
		t.Errorf("output lacks the payload byte for byte %s; output:\n%s", want, out.String())
	}
}

func TestRunNothingToShow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var out bytes.Buffer
	results, err := dryrun.Run(context.Background(), b.sf, dryrun.Options{
		CustomerTypes: []string{"Partner"},
		AdapterName:   "ecc",
		Renderer:      renderer(t, config.AdapterECC, b.sap),
		Mapper:        mapping.Default(),
		Out:           &out,
	})
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	if len(results) != 0 {
		t.Errorf("Run() = %+v, want no results", results)
	}
	if got := out.String(); got != "0 Accounts: 0 ready, 0 with problems, 0 already in SAP, 0 not found. Nothing was sent to SAP.\n" {
		t.Errorf("output = %q, want only the summary", got)
	}
}
