package sfclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/pkg/sfid"
	"github.com/sfsap/sfsap/pkg/sfsim"
)

func TestGetAccountMapsFields(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{})
	id := seed(t, sim, map[string]any{
		"Name": "Acme GmbH", "Type": "Customer - Direct", "SAP_ID__c": "0000104711",
		"BillingStreet": "Hauptstr. 1", "BillingCity": "München", "BillingState": "Bavaria",
		"BillingStateCode": "BY", "BillingPostalCode": "80331", "BillingCountry": "Germany",
		"BillingCountryCode": "DE", "Phone": "+49 89 1234", "Fax": "+49 89 1235",
		"Website": "acme.example", "CurrencyIsoCode": "EUR", "SAP_Company_Code__c": "1000",
		"SAP_Sales_Org__c": "1010", "SAP_Distribution_Channel__c": "10", "SAP_Division__c": "00",
		"NumberOfEmployees": 12.0,
	})
	rec, _ := sim.Store().Get(id)
	c := newClient(t, clientCredentialsConfig(sim))

	got, err := c.GetAccount(context.Background(), id[:15])
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	want := account.Account{
		ID: id, Name: "Acme GmbH", Type: "Customer - Direct", SAPID: "0000104711",
		BillingStreet: "Hauptstr. 1", BillingCity: "München", BillingState: "Bavaria",
		BillingStateCode: "BY", BillingPostalCode: "80331", BillingCountry: "Germany",
		BillingCountryCode: "DE", Phone: "+49 89 1234", Fax: "+49 89 1235", Website: "acme.example",
		Currency: "EUR", CompanyCode: "1000", SalesOrg: "1010", DistributionChannel: "10",
		Division: "00", LastModifiedBy: sfsim.DefaultUserID,
		SystemModstamp: rec["SystemModstamp"].(time.Time).Truncate(time.Millisecond),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("GetAccount mismatch (-want +got):\n%s", diff)
	}
}

func TestGetAccountNotFound(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{})
	deleted := seed(t, sim, map[string]any{"Name": "Gone"})
	if err := sim.Store().Delete(deleted, sfsim.WriteOptions{}); err != nil {
		t.Fatalf("Store.Delete: %v", err)
	}
	c := newClient(t, clientCredentialsConfig(sim))
	tests := []struct {
		id   string
		code string
	}{
		{"001Hx00000NoSucIAA", "NOT_FOUND"},
		{deleted, "ENTITY_IS_DELETED"},
	}
	for _, tt := range tests {
		_, err := c.GetAccount(context.Background(), tt.id)
		var apiErr *sfclient.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode != tt.code || apiErr.Status != http.StatusNotFound {
			t.Fatalf("GetAccount(%s) = %v, want 404 %s", tt.id, err, tt.code)
		}
		if !sfclient.IsNotFound(err) || !sfclient.Permanent(err) {
			t.Fatalf("IsNotFound, Permanent (%v) = %v, %v, want true, true", err, sfclient.IsNotFound(err), sfclient.Permanent(err))
		}
	}
	if _, err := c.GetAccount(context.Background(), "not-an-id"); err == nil {
		t.Fatalf("GetAccount(not-an-id) = nil error, want an invalid id error")
	}
}

func TestGetAccountsPaging(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{QueryBatchSize: 2})
	var ids []string
	for i := range 5 {
		ids = append(ids, seed(t, sim, map[string]any{"Name": fmt.Sprintf("Account %d", i)}))
	}
	c := newClient(t, clientCredentialsConfig(sim))
	sim.ResetCalls()

	// Reversed, with a duplicate and a 15-character form.
	request := []string{ids[4], ids[3], ids[2][:15], ids[1], ids[0], ids[4]}
	got, err := c.GetAccounts(context.Background(), request)
	if err != nil {
		t.Fatalf("GetAccounts: %v", err)
	}
	var names []string
	for _, a := range got {
		names = append(names, a.Name)
	}
	want := []string{"Account 4", "Account 3", "Account 2", "Account 1", "Account 0"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("GetAccounts names mismatch (-want +got):\n%s", diff)
	}
	calls := sim.Calls()
	if calls[sfsim.CallQuery] != 1 || calls[sfsim.CallQueryMore] != 2 {
		t.Fatalf("calls = %v, want 1 query and 2 next pages", calls)
	}
}

func TestGetAccountsManyIDs(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{})
	var ids, existing []string
	for i := range 450 {
		if i%3 == 0 {
			id := seed(t, sim, map[string]any{"Name": fmt.Sprintf("Account %d", i)})
			ids = append(ids, id)
			existing = append(existing, id)
			continue
		}
		missing, err := sfid.To18(fmt.Sprintf("001Hx%010d", 900000+i))
		if err != nil {
			t.Fatalf("building id: %v", err)
		}
		ids = append(ids, missing)
	}
	c := newClient(t, clientCredentialsConfig(sim))
	sim.ResetCalls()

	got, err := c.GetAccounts(context.Background(), ids)
	if err != nil {
		t.Fatalf("GetAccounts: %v", err)
	}
	var gotIDs []string
	for _, a := range got {
		gotIDs = append(gotIDs, a.ID)
	}
	if diff := cmp.Diff(existing, gotIDs); diff != "" {
		t.Fatalf("GetAccounts ids mismatch (-want +got):\n%s", diff)
	}
	if n := sim.Calls()[sfsim.CallQuery]; n != 3 {
		t.Fatalf("queries = %d, want 3 for 450 ids at 200 per query", n)
	}

	if _, err := c.GetAccounts(context.Background(), []string{ids[0], "bad id"}); err == nil {
		t.Fatalf("GetAccounts with an invalid id = nil error, want an error")
	}
}

func TestCustomFieldNames(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{CustomFields: []string{"SAP_Customer_Number__c", "Language__c"}})
	id := seed(t, sim, map[string]any{"Name": "Acme", "SAP_Customer_Number__c": "42", "Language__c": "de"})
	cfg := clientCredentialsConfig(sim)
	cfg.Fields = account.Fields{SAPID: "sap_customer_number__c", Language: "Language__c"}
	c := newClient(t, cfg)

	got, err := c.GetAccounts(context.Background(), []string{id})
	if err != nil {
		t.Fatalf("GetAccounts: %v", err)
	}
	if len(got) != 1 || got[0].SAPID != "42" || got[0].Language != "de" {
		t.Fatalf("GetAccounts = %+v, want SAPID 42 and Language de from the configured fields", got)
	}
}

func TestQueryAccountsPaging(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{QueryBatchSize: 2})
	for i := range 5 {
		seed(t, sim, map[string]any{"Name": fmt.Sprintf("Account %d", i), "Type": "Customer", "NumberOfEmployees": float64(i)})
	}
	seed(t, sim, map[string]any{"Name": "Prospect", "Type": "Prospect"})
	c := newClient(t, clientCredentialsConfig(sim))

	got, err := c.QueryAccounts(context.Background(), "SELECT Name, NumberOfEmployees FROM Account WHERE Type = 'Customer' AND SAP_ID__c = null ORDER BY Name DESC")
	if err != nil {
		t.Fatalf("QueryAccounts: %v", err)
	}
	var want []map[string]any
	for i := 4; i >= 0; i-- {
		want = append(want, map[string]any{"Name": fmt.Sprintf("Account %d", i), "NumberOfEmployees": float64(i)})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("QueryAccounts mismatch (-want +got):\n%s", diff)
	}

	_, err = c.QueryAccounts(context.Background(), "SELECT Id, FullName FROM Account")
	var apiErr *sfclient.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != "INVALID_FIELD" || !sfclient.Permanent(err) {
		t.Fatalf("QueryAccounts with an unknown field = %v, want a permanent INVALID_FIELD", err)
	}
}

func TestUpdateAccountInjectedErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fault     sfsim.Fault
		want      sfclient.APIError
		lock      bool
		permanent bool
	}{
		{"lock", sfsim.Fault{ErrorCode: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access to this record or 1 records: 001Hx00000ABcDeIAL"},
			sfclient.APIError{Status: 400, ErrorCode: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access to this record or 1 records: 001Hx00000ABcDeIAL", Fields: []string{}}, true, false},
		{"lock as 500", sfsim.Fault{Status: 500, ErrorCode: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access"},
			sfclient.APIError{Status: 500, ErrorCode: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access", Fields: []string{}}, true, false},
		{"validation rule", sfsim.Fault{ErrorCode: "FIELD_CUSTOM_VALIDATION_EXCEPTION", Message: "VAT number is required for customers"},
			sfclient.APIError{Status: 400, ErrorCode: "FIELD_CUSTOM_VALIDATION_EXCEPTION", Message: "VAT number is required for customers", Fields: []string{}}, false, true},
		{"deleted", sfsim.Fault{Status: 404, ErrorCode: "ENTITY_IS_DELETED", Message: "entity is deleted"},
			sfclient.APIError{Status: 404, ErrorCode: "ENTITY_IS_DELETED", Message: "entity is deleted", Fields: []string{}}, false, true},
		{"malformed id", sfsim.Fault{ErrorCode: "MALFORMED_ID", Message: "malformed id x", Fields: []string{"Id"}},
			sfclient.APIError{Status: 400, ErrorCode: "MALFORMED_ID", Message: "malformed id x", Fields: []string{"Id"}}, false, true},
		{"read-only field", sfsim.Fault{ErrorCode: "INVALID_FIELD_FOR_INSERT_UPDATE", Message: "Unable to create/update fields: SAP_ID__c.", Fields: []string{"SAP_ID__c"}},
			sfclient.APIError{Status: 400, ErrorCode: "INVALID_FIELD_FOR_INSERT_UPDATE", Message: "Unable to create/update fields: SAP_ID__c.", Fields: []string{"SAP_ID__c"}}, false, true},
		{"server error", sfsim.Fault{Status: 503, ErrorCode: "SERVER_UNAVAILABLE", Message: "Server unavailable"},
			sfclient.APIError{Status: 503, ErrorCode: "SERVER_UNAVAILABLE", Message: "Server unavailable", Fields: []string{}}, false, false},
		{"unknown 5xx code", sfsim.Fault{Status: 502, ErrorCode: "SOMETHING_NEW", Message: "bad gateway"},
			sfclient.APIError{Status: 502, ErrorCode: "SOMETHING_NEW", Message: "bad gateway", Fields: []string{}}, false, false},
		{"unknown 4xx code", sfsim.Fault{ErrorCode: "SOMETHING_NEW", Message: "bad request"},
			sfclient.APIError{Status: 400, ErrorCode: "SOMETHING_NEW", Message: "bad request", Fields: []string{}}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := startSim(t, sfsim.Options{})
			id := seed(t, sim, map[string]any{"Name": "Acme"})
			c := newClient(t, clientCredentialsConfig(sim))
			fault := tt.fault
			fault.Method, fault.AccountID, fault.Times = http.MethodPatch, id, 1
			sim.Faults().Add(fault)

			err := c.UpdateAccount(context.Background(), id, map[string]any{"SAP_ID__c": "0000104711"})
			var apiErr *sfclient.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("UpdateAccount = %v, want an APIError", err)
			}
			if diff := cmp.Diff(&tt.want, apiErr); diff != "" {
				t.Fatalf("APIError mismatch (-want +got):\n%s", diff)
			}
			if got := sfclient.IsLockError(err); got != tt.lock {
				t.Fatalf("IsLockError(%v) = %v, want %v", err, got, tt.lock)
			}
			if got := sfclient.Permanent(err); got != tt.permanent {
				t.Fatalf("Permanent(%v) = %v, want %v", err, got, tt.permanent)
			}
			if err := c.UpdateAccount(context.Background(), id, map[string]any{"SAP_ID__c": "0000104711"}); err != nil {
				t.Fatalf("UpdateAccount after the fault: %v", err)
			}
		})
	}
}

func TestUpdateAccountLockedTwice(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{})
	id := seed(t, sim, map[string]any{"Name": "Acme"})
	c := newClient(t, clientCredentialsConfig(sim))
	sim.Faults().Add(sfsim.Fault{Method: http.MethodPatch, AccountID: id, Times: 2, ErrorCode: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access to this record or 1 records: " + id})

	var errs []error
	for range 3 {
		err := c.UpdateAccount(context.Background(), id, map[string]any{"SAP_ID__c": "0000104711"})
		errs = append(errs, err)
		if err == nil {
			break
		}
	}
	if len(errs) != 3 || !sfclient.IsLockError(errs[0]) || !sfclient.IsLockError(errs[1]) || errs[2] != nil {
		t.Fatalf("three UpdateAccount calls = %v, want two lock errors and a success", errs)
	}
	if rec, _ := sim.Store().Get(id); rec["SAP_ID__c"] != "0000104711" {
		t.Fatalf("SAP_ID__c = %v, want 0000104711", rec["SAP_ID__c"])
	}
}

func TestUpdateAccountsPartialFailure(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{})
	ok1 := seed(t, sim, map[string]any{"Name": "A"})
	locked := seed(t, sim, map[string]any{"Name": "Locked"})
	deleted := seed(t, sim, map[string]any{"Name": "Deleted"})
	if err := sim.Store().Delete(deleted, sfsim.WriteOptions{}); err != nil {
		t.Fatalf("Store.Delete: %v", err)
	}
	ok2 := seed(t, sim, map[string]any{"Name": "B"})
	sim.Faults().Add(sfsim.Fault{PathPrefix: "composite/sobjects", AccountID: locked, Times: 1, ErrorCode: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access"})
	c := newClient(t, clientCredentialsConfig(sim))

	updates := []sfclient.Update{
		{ID: ok1, Fields: map[string]any{"SAP_ID__c": "1"}},
		{ID: locked, Fields: map[string]any{"SAP_ID__c": "2"}},
		{ID: deleted, Fields: map[string]any{"SAP_ID__c": "3"}},
		{ID: "bad", Fields: map[string]any{"SAP_ID__c": "4"}},
		{ID: ok2, Fields: map[string]any{"SAP_ID__c": "5"}},
	}
	errs, err := c.UpdateAccounts(context.Background(), updates)
	if err != nil {
		t.Fatalf("UpdateAccounts: %v", err)
	}
	wantCodes := []string{"", "UNABLE_TO_LOCK_ROW", "ENTITY_IS_DELETED", "MALFORMED_ID", ""}
	var gotCodes []string
	for _, e := range errs {
		var apiErr *sfclient.APIError
		switch {
		case e == nil:
			gotCodes = append(gotCodes, "")
		case errors.As(e, &apiErr):
			gotCodes = append(gotCodes, apiErr.ErrorCode)
		default:
			t.Fatalf("record error %v is not an APIError", e)
		}
	}
	if diff := cmp.Diff(wantCodes, gotCodes); diff != "" {
		t.Fatalf("per-record codes mismatch (-want +got):\n%s", diff)
	}
	if !sfclient.IsLockError(errs[1]) || sfclient.Permanent(errs[1]) {
		t.Fatalf("locked record error %v: want a transient lock error", errs[1])
	}
	if !sfclient.Permanent(errs[2]) || !sfclient.Permanent(errs[3]) {
		t.Fatalf("deleted and malformed record errors %v, %v: want permanent", errs[2], errs[3])
	}
	for id, want := range map[string]any{ok1: "1", ok2: "5", locked: nil} {
		if rec, _ := sim.Store().Get(id); rec["SAP_ID__c"] != want {
			t.Fatalf("SAP_ID__c of %s = %v, want %v", id, rec["SAP_ID__c"], want)
		}
	}
}

func TestUpdateAccountsChunks(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{})
	var updates []sfclient.Update
	for i := range 250 {
		id := seed(t, sim, map[string]any{"Name": fmt.Sprintf("Account %d", i)})
		updates = append(updates, sfclient.Update{ID: id, Fields: map[string]any{"SAP_ID__c": fmt.Sprintf("%010d", i)}})
	}
	c := newClient(t, clientCredentialsConfig(sim))
	errs, err := c.UpdateAccounts(context.Background(), updates)
	if err != nil {
		t.Fatalf("UpdateAccounts: %v", err)
	}
	if diff := cmp.Diff(make([]error, 250), errs, cmpopts.EquateErrors()); diff != "" {
		t.Fatalf("UpdateAccounts errors mismatch (-want +got):\n%s", diff)
	}
	if n := sim.Calls()[sfsim.CallCompositeUpdate]; n != 2 {
		t.Fatalf("composite requests = %d, want 2 for 250 records", n)
	}
	if rec, _ := sim.Store().Get(updates[249].ID); rec["SAP_ID__c"] != "0000000249" {
		t.Fatalf("last record SAP_ID__c = %v, want 0000000249", rec["SAP_ID__c"])
	}
}

func TestUpdateAccountsRequestFailure(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{})
	id := seed(t, sim, map[string]any{"Name": "A"})
	sim.Faults().Add(sfsim.Fault{PathPrefix: "composite/sobjects", Times: 1, Status: 503, ErrorCode: "SERVER_UNAVAILABLE", Message: "down"})
	c := newClient(t, clientCredentialsConfig(sim))
	errs, err := c.UpdateAccounts(context.Background(), []sfclient.Update{{ID: id, Fields: map[string]any{"Phone": "1"}}})
	var apiErr *sfclient.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 503 {
		t.Fatalf("UpdateAccounts with a failing request = %v, want a 503 APIError", err)
	}
	if len(errs) != 1 || errs[0] != nil {
		t.Fatalf("per-record errors = %v, want one nil entry", errs)
	}
}

func TestCreateAccount(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{})
	c := newClient(t, clientCredentialsConfig(sim))
	id, err := c.CreateAccount(context.Background(), map[string]any{"Name": "Seeded", "Type": "Prospect"})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if !sfid.Valid(id) {
		t.Fatalf("CreateAccount id = %q, want a valid 18-character id", id)
	}
	if rec, ok := sim.Store().Get(id); !ok || rec["Name"] != "Seeded" {
		t.Fatalf("stored record = %v, want Name Seeded", rec)
	}

	_, err = c.CreateAccount(context.Background(), map[string]any{"Type": "Prospect"})
	var apiErr *sfclient.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != "REQUIRED_FIELD_MISSING" {
		t.Fatalf("CreateAccount without Name = %v, want REQUIRED_FIELD_MISSING", err)
	}
}
