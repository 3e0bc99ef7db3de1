package sfsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsap/sfsap/test/fixtures"
)

func seed(t *testing.T, s *Server, fields map[string]any) string {
	t.Helper()
	id, err := s.Store().Create(fields, WriteOptions{})
	if err != nil {
		t.Fatalf("Store.Create: %v", err)
	}
	return id
}

func TestAccountLifecycle(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	tok := login(t, s)

	r := call(t, s, http.MethodPost, "sobjects/Account/", tok, map[string]any{"Name": "Acme", "Type": "Prospect"})
	if r.status != http.StatusCreated {
		t.Fatalf("POST sobjects/Account/ = %d (%s), want 201", r.status, r.body)
	}
	var created struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
		Errors  []any  `json:"errors"`
	}
	if err := json.Unmarshal(r.body, &created); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	if !created.Success || len(created.ID) != 18 || created.Errors == nil || len(created.Errors) != 0 {
		t.Fatalf("create response = %s, want an 18-character id, success and an empty errors array", r.body)
	}

	r = call(t, s, http.MethodPatch, "sobjects/Account/"+created.ID, tok, map[string]any{"SAP_ID__c": "0000104711"},
		"Sforce-Call-Options", "client=sfsap")
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("PATCH = %d %q, want 204 and no body", r.status, r.body)
	}
	events := s.Store().EventsAfter(0, 0)
	last := events[len(events)-1].Header
	if last.ChangeOrigin != "com/salesforce/api/rest/60.0;client=sfsap" {
		t.Fatalf("changeOrigin = %q, want com/salesforce/api/rest/60.0;client=sfsap", last.ChangeOrigin)
	}
	if last.CommitUser != DefaultIntegrationUserID {
		t.Fatalf("commitUser = %q, want %q", last.CommitUser, DefaultIntegrationUserID)
	}
	if diff := cmp.Diff([]string{"LastModifiedDate", "SAP_ID__c"}, last.ChangedFields); diff != "" {
		t.Fatalf("changedFields mismatch (-want +got):\n%s", diff)
	}

	r = call(t, s, http.MethodGet, "sobjects/Account/"+created.ID+"?fields=Name,SAP_ID__c,SystemModstamp", tok, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET = %d (%s), want 200", r.status, r.body)
	}
	var rec map[string]any
	if err := json.Unmarshal(r.body, &rec); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	if rec["Name"] != "Acme" || rec["SAP_ID__c"] != "0000104711" {
		t.Fatalf("record = %s, want Name Acme and SAP_ID__c 0000104711", r.body)
	}
	if len(rec) != 4 {
		t.Fatalf("record = %s, want attributes and the three requested fields only", r.body)
	}
	wantAttrs := map[string]any{"type": "Account", "url": "/services/data/v60.0/sobjects/Account/" + created.ID}
	if diff := cmp.Diff(wantAttrs, rec["attributes"]); diff != "" {
		t.Fatalf("attributes mismatch (-want +got):\n%s", diff)
	}
	restTime := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$`)
	if ts, _ := rec["SystemModstamp"].(string); !restTime.MatchString(ts) {
		t.Fatalf("SystemModstamp = %q, want the REST form 2013-05-20T20:49:32.000+0000", ts)
	}
	if !strings.HasPrefix(string(r.body), `{"attributes":`) {
		t.Fatalf("record = %s, want attributes as the first key", r.body)
	}

	if r := call(t, s, http.MethodDelete, "sobjects/Account/"+created.ID, tok, nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE = %d (%s), want 204", r.status, r.body)
	}
	if got := s.Store().EventsAfter(0, 0); got[len(got)-1].Header.ChangeType != "DELETE" {
		t.Fatalf("last event = %s, want DELETE", got[len(got)-1].Header.ChangeType)
	}
}

func TestChangeOriginWithoutCallOptions(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	tok := login(t, s)
	id := seed(t, s, map[string]any{"Name": "Acme"})
	call(t, s, http.MethodPatch, "sobjects/Account/"+id, tok, map[string]any{"Phone": "1"})
	events := s.Store().EventsAfter(0, 0)
	if got := events[len(events)-1].Header.ChangeOrigin; got != "com/salesforce/api/rest/60.0" {
		t.Fatalf("changeOrigin = %q, want com/salesforce/api/rest/60.0", got)
	}
}

func TestFullRecordRead(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	tok := login(t, s)
	id := seed(t, s, map[string]any{"Name": "Acme", "BillingCity": "Berlin", "BillingCountry": "DE", "Custom_Seeded__c": "x"})
	r := call(t, s, http.MethodGet, "sobjects/Account/"+id, tok, nil)
	var rec map[string]any
	if err := json.Unmarshal(r.body, &rec); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	for _, field := range []string{"Id", "Name", "Type", "SAP_ID__c", "SAP_Sales_Org__c", "Custom_Seeded__c", "BillingAddress"} {
		if _, ok := rec[field]; !ok {
			t.Fatalf("full record %s lacks %s", r.body, field)
		}
	}
	if rec["Type"] != nil {
		t.Fatalf("Type = %v, want null for an unset field", rec["Type"])
	}
	addr, _ := rec["BillingAddress"].(map[string]any)
	if addr["city"] != "Berlin" || addr["country"] != "DE" {
		t.Fatalf("BillingAddress = %v, want city Berlin and country DE", rec["BillingAddress"])
	}
}

func TestRecordErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	tok := login(t, s)
	id := seed(t, s, map[string]any{"Name": "Acme"})
	deleted := seed(t, s, map[string]any{"Name": "Gone"})
	if err := s.Store().Delete(deleted, WriteOptions{}); err != nil {
		t.Fatalf("Store.Delete: %v", err)
	}
	missing := "001Hx00000ZZZZZIAA"

	tests := []struct {
		name       string
		method     string
		path       string
		body       any
		status     int
		code       string
		wantFields []string
	}{
		{"malformed id", http.MethodPatch, "sobjects/Account/bad", map[string]any{"Name": "x"}, 400, "MALFORMED_ID", []string{"Id"}},
		{"contact id", http.MethodGet, "sobjects/Account/003Hx00000ABcDeIAL", nil, 400, "MALFORMED_ID", []string{"Id"}},
		{"missing get", http.MethodGet, "sobjects/Account/" + missing, nil, 404, "NOT_FOUND", nil},
		{"missing patch", http.MethodPatch, "sobjects/Account/" + missing, map[string]any{"Name": "x"}, 404, "NOT_FOUND", nil},
		{"deleted get", http.MethodGet, "sobjects/Account/" + deleted, nil, 404, "ENTITY_IS_DELETED", []string{}},
		{"deleted patch", http.MethodPatch, "sobjects/Account/" + deleted, map[string]any{"Name": "x"}, 404, "ENTITY_IS_DELETED", []string{}},
		{"deleted delete", http.MethodDelete, "sobjects/Account/" + deleted, nil, 404, "ENTITY_IS_DELETED", []string{}},
		{"read-only field", http.MethodPatch, "sobjects/Account/" + id, map[string]any{"SystemModstamp": "x", "CreatedDate": "y"}, 400, "INVALID_FIELD_FOR_INSERT_UPDATE", []string{"CreatedDate", "SystemModstamp"}},
		{"unknown field", http.MethodPatch, "sobjects/Account/" + id, map[string]any{"Nope__c": "x"}, 400, "INVALID_FIELD", []string{}},
		{"unknown field in get", http.MethodGet, "sobjects/Account/" + id + "?fields=Nope__c", nil, 400, "INVALID_FIELD", nil},
		{"name cleared", http.MethodPatch, "sobjects/Account/" + id, map[string]any{"Name": nil}, 400, "REQUIRED_FIELD_MISSING", []string{"Name"}},
		{"create without name", http.MethodPost, "sobjects/Account/", map[string]any{"Type": "Prospect"}, 400, "REQUIRED_FIELD_MISSING", []string{"Name"}},
		{"invalid json", http.MethodPatch, "sobjects/Account/" + id, "{", 400, "JSON_PARSER_ERROR", nil},
		{"object value", http.MethodPatch, "sobjects/Account/" + id, map[string]any{"Name": map[string]any{}}, 400, "JSON_PARSER_ERROR", []string{"Name"}},
		{"other sobject", http.MethodGet, "sobjects/Contact/003Hx00000ABcDeIAL", nil, 404, "NOT_FOUND", nil},
		{"unknown resource", http.MethodGet, "nothing/here", nil, 404, "NOT_FOUND", nil},
		{"method not allowed", http.MethodPut, "sobjects/Account/" + id, map[string]any{"Name": "x"}, 405, "METHOD_NOT_ALLOWED", nil},
		{"unknown version", http.MethodGet, "/services/data/v6/limits", nil, 404, "NOT_FOUND", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := wantError(t, call(t, s, tt.method, tt.path, tok, tt.body), tt.status, tt.code)
			if tt.wantFields == nil {
				return
			}
			var got []string
			if raw, ok := e["fields"].([]any); ok {
				got = []string{}
				for _, f := range raw {
					got = append(got, f.(string))
				}
			}
			if diff := cmp.Diff(tt.wantFields, got); diff != "" {
				t.Fatalf("fields mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeletedErrorMatchesFixture(t *testing.T) {
	t.Parallel()
	var want []map[string]any
	if err := json.Unmarshal(fixtures.Read(t, "fixtures/salesforce/rest-error-entity-is-deleted.json"), &want); err != nil {
		t.Fatalf("decoding fixture: %v", err)
	}
	s := startServer(t, Options{})
	tok := login(t, s)
	id := seed(t, s, map[string]any{"Name": "Gone"})
	call(t, s, http.MethodDelete, "sobjects/Account/"+id, tok, nil)
	r := call(t, s, http.MethodPatch, "sobjects/Account/"+id, tok, map[string]any{"Name": "x"})
	if diff := cmp.Diff(want, errorArray(t, r.body)); diff != "" {
		t.Fatalf("ENTITY_IS_DELETED body mismatch (-want +got):\n%s", diff)
	}
}

func TestCustomFieldsOption(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{CustomFields: []string{"SAP_Customer_Number__c"}})
	tok := login(t, s)
	id := seed(t, s, map[string]any{"Name": "Acme"})
	r := call(t, s, http.MethodPatch, "sobjects/Account/"+id, tok, map[string]any{"sap_customer_number__c": "42"})
	if r.status != http.StatusNoContent {
		t.Fatalf("PATCH of a configured custom field = %d (%s), want 204", r.status, r.body)
	}
	rec, _ := s.Store().Get(id)
	if rec["SAP_Customer_Number__c"] != "42" {
		t.Fatalf("stored record = %v, want SAP_Customer_Number__c 42 under its API name", rec)
	}
}

func query(t *testing.T, s *Server, tok, soql string) response {
	t.Helper()
	return call(t, s, http.MethodGet, "query?q="+url.QueryEscape(soql), tok, nil)
}

type queryPage struct {
	TotalSize      int              `json:"totalSize"`
	Done           bool             `json:"done"`
	NextRecordsURL string           `json:"nextRecordsUrl"`
	Records        []map[string]any `json:"records"`
}

func decodePage(t *testing.T, r response) queryPage {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("query = %d (%s), want 200", r.status, r.body)
	}
	var p queryPage
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	return p
}

func TestQueryPaging(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{QueryBatchSize: 2})
	tok := login(t, s)
	var want []string
	for i := range 5 {
		want = append(want, fmt.Sprintf("Account %d", i))
		seed(t, s, map[string]any{"Name": want[i]})
	}

	page := decodePage(t, query(t, s, tok, "SELECT Name FROM Account ORDER BY Name"))
	var got []string
	var sizes []int
	locator := regexp.MustCompile(`^/services/data/v60\.0/query/01g\w{15}-\d+$`)
	for {
		if page.TotalSize != 5 {
			t.Fatalf("totalSize = %d, want 5", page.TotalSize)
		}
		sizes = append(sizes, len(page.Records))
		for _, rec := range page.Records {
			got = append(got, rec["Name"].(string))
		}
		if page.Done {
			if page.NextRecordsURL != "" {
				t.Fatalf("last page has nextRecordsUrl %q, want none", page.NextRecordsURL)
			}
			break
		}
		if !locator.MatchString(page.NextRecordsURL) {
			t.Fatalf("nextRecordsUrl = %q, want /services/data/v60.0/query/01g...-N", page.NextRecordsURL)
		}
		page = decodePage(t, call(t, s, http.MethodGet, page.NextRecordsURL, tok, nil))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("records mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{2, 2, 1}, sizes); diff != "" {
		t.Fatalf("page sizes mismatch (-want +got):\n%s", diff)
	}
	if calls := s.Calls(); calls[CallQuery] != 1 || calls[CallQueryMore] != 2 {
		t.Fatalf("Calls() = %v, want 1 query and 2 next pages", calls)
	}

	r := call(t, s, http.MethodGet, "query/01gHx0000000999AAA-2", tok, nil)
	wantError(t, r, http.StatusBadRequest, "INVALID_QUERY_LOCATOR")
}

func TestQueryRecordShape(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	tok := login(t, s)
	id := seed(t, s, map[string]any{"Name": "Acme", "Type": "Customer - Direct"})
	r := query(t, s, tok, "select type, NAME, id from account")
	page := decodePage(t, r)
	if page.TotalSize != 1 || !page.Done || len(page.Records) != 1 {
		t.Fatalf("page = %s, want one record and done", r.body)
	}
	want := fmt.Sprintf(`{"attributes":{"type":"Account","url":"/services/data/v60.0/sobjects/Account/%s"},"Type":"Customer - Direct","Name":"Acme","Id":"%s"}`, id, id)
	var raw struct {
		Records []json.RawMessage `json:"records"`
	}
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	if got := string(raw.Records[0]); got != want {
		t.Fatalf("record = %s, want %s", got, want)
	}

	r = query(t, s, tok, "SELECT COUNT() FROM Account WHERE Name = 'acme'")
	if page := decodePage(t, r); page.TotalSize != 1 || len(page.Records) != 0 {
		t.Fatalf("COUNT() page = %s, want totalSize 1 and no records", r.body)
	}
}

func TestQueryErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	tok := login(t, s)
	tests := []struct {
		soql    string
		code    string
		message string
	}{
		{"SELECT Id, FullName FROM Account", "INVALID_FIELD", "No such column 'FullName' on entity 'Account'"},
		{"SELECT Id FROM Account WHERE Nope__c = 'x'", "INVALID_FIELD", "No such column 'Nope__c' on entity 'Account'"},
		{"SELECT Id FROM Account ORDER BY Owner.Name", "INVALID_FIELD", "No such column 'Owner.Name'"},
		{"SELECT Id FROM Contact", "INVALID_TYPE", "sObject type 'Contact' is not supported"},
		{"SELECT Id FROM Account WHERE", "MALFORMED_QUERY", "unexpected token: '<EOF>'"},
		{"SELECT Id FROM Account WHERE Name = 'a' AND Type = 'b' OR Id = null", "MALFORMED_QUERY", "unexpected token: 'OR'"},
		{"SELECT Id Account", "MALFORMED_QUERY", "unexpected token: 'Account'"},
		{"SELECT Id, Id FROM Account", "MALFORMED_QUERY", "duplicate field selected: Id"},
		{"SELECT Id FROM Account WHERE Name = 'open", "MALFORMED_QUERY", "unterminated string"},
		{"SELECT Id FROM Account LIMIT x", "MALFORMED_QUERY", "unexpected token: 'x'"},
		{"SELECT Id FROM Account WHERE Name > null", "MALFORMED_QUERY", "null can only be compared"},
		{" ", "MALFORMED_QUERY", "A query string has to be specified"},
	}
	for _, tt := range tests {
		t.Run(tt.soql, func(t *testing.T) {
			t.Parallel()
			e := wantError(t, query(t, s, tok, tt.soql), http.StatusBadRequest, tt.code)
			if msg, _ := e["message"].(string); !strings.Contains(msg, tt.message) {
				t.Fatalf("message = %q, want it to contain %q", msg, tt.message)
			}
		})
	}
}

func TestInvalidFieldMatchesFixture(t *testing.T) {
	t.Parallel()
	var want []map[string]any
	if err := json.Unmarshal(fixtures.Read(t, "fixtures/salesforce/rest-error-invalid-field-soql.json"), &want); err != nil {
		t.Fatalf("decoding fixture: %v", err)
	}
	s := startServer(t, Options{})
	tok := login(t, s)
	got := errorArray(t, query(t, s, tok, "SELECT Id, FullName FROM Account").body)
	if got[0]["errorCode"] != want[0]["errorCode"] {
		t.Fatalf("errorCode = %v, want %v", got[0]["errorCode"], want[0]["errorCode"])
	}
	// The fixture's message starts with the query and a caret line.
	wantStart := strings.SplitN(want[0]["message"].(string), "\n", 2)[0]
	if msg := got[0]["message"].(string); !strings.HasPrefix(msg, wantStart+"\n") {
		t.Fatalf("message = %q, want it to start with the query line %q", msg, wantStart)
	}
	if _, ok := got[0]["fields"]; ok {
		t.Fatalf("error %v has fields, want none as in the fixture", got[0])
	}
}

func TestLimitInfoHeader(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{DailyAPILimit: 3})
	tok := login(t, s)
	for i := 1; i <= 3; i++ {
		r := call(t, s, http.MethodGet, "limits", tok, nil)
		if want := fmt.Sprintf("api-usage=%d/3", i); r.header.Get("Sforce-Limit-Info") != want {
			t.Fatalf("call %d: Sforce-Limit-Info = %q, want %q", i, r.header.Get("Sforce-Limit-Info"), want)
		}
	}
	r := call(t, s, http.MethodGet, "limits", tok, nil)
	e := wantError(t, r, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED")
	if e["message"] != "TotalRequests Limit exceeded." {
		t.Fatalf("message = %v, want TotalRequests Limit exceeded.", e["message"])
	}
	if r.header.Get("Sforce-Limit-Info") != "api-usage=3/3" {
		t.Fatalf("Sforce-Limit-Info after the limit = %q, want api-usage=3/3", r.header.Get("Sforce-Limit-Info"))
	}
	s.SetAPIUsage(0)
	if r := call(t, s, http.MethodGet, "limits", tok, nil); r.status != http.StatusOK {
		t.Fatalf("GET limits after SetAPIUsage(0) = %d, want 200", r.status)
	}
}

type compositeResponse []struct {
	ID      string `json:"id"`
	Success bool   `json:"success"`
	Errors  []struct {
		StatusCode string   `json:"statusCode"`
		Message    string   `json:"message"`
		Fields     []string `json:"fields"`
	} `json:"errors"`
}

func compositeBody(allOrNone bool, records ...map[string]any) map[string]any {
	for _, r := range records {
		if _, ok := r["attributes"]; !ok {
			r["attributes"] = map[string]any{"type": "Account"}
		}
	}
	return map[string]any{"allOrNone": allOrNone, "records": records}
}

func TestCompositeUpdate(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	tok := login(t, s)
	a := seed(t, s, map[string]any{"Name": "A"})
	b := seed(t, s, map[string]any{"Name": "B"})
	locked := seed(t, s, map[string]any{"Name": "Locked"})
	s.Faults().Add(Fault{PathPrefix: "composite/sobjects", AccountID: locked, Times: 1, ErrorCode: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access to this record"})

	r := call(t, s, http.MethodPatch, "composite/sobjects", tok, compositeBody(false,
		map[string]any{"id": a, "SAP_ID__c": "1"},
		map[string]any{"id": "bad", "SAP_ID__c": "2"},
		map[string]any{"id": locked, "SAP_ID__c": "3"},
		map[string]any{"Id": b, "SAP_ID__c": "4"},
		map[string]any{"id": b, "attributes": map[string]any{"type": "Contact"}},
	), "Sforce-Call-Options", "client=sfsap")
	if r.status != http.StatusOK {
		t.Fatalf("composite = %d (%s), want 200", r.status, r.body)
	}
	var got compositeResponse
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	type result struct {
		ID      string
		Success bool
		Code    string
	}
	var summary []result
	for _, g := range got {
		res := result{ID: g.ID, Success: g.Success}
		if len(g.Errors) > 0 {
			res.Code = g.Errors[0].StatusCode
		}
		summary = append(summary, res)
	}
	want := []result{{a, true, ""}, {"", false, "MALFORMED_ID"}, {"", false, "UNABLE_TO_LOCK_ROW"}, {b, true, ""}, {"", false, "INVALID_TYPE"}}
	if diff := cmp.Diff(want, summary); diff != "" {
		t.Fatalf("composite results mismatch (-want +got):\n%s", diff)
	}
	for _, id := range []string{a, b} {
		if rec, _ := s.Store().Get(id); rec["SAP_ID__c"] == nil {
			t.Fatalf("record %s was not written: %v", id, rec)
		}
	}
	if rec, _ := s.Store().Get(locked); rec["SAP_ID__c"] != nil {
		t.Fatalf("locked record was written: %v", rec)
	}
}

func TestCompositeAllOrNone(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	tok := login(t, s)
	a := seed(t, s, map[string]any{"Name": "A"})
	b := seed(t, s, map[string]any{"Name": "B"})
	s.Faults().Add(Fault{PathPrefix: "composite/sobjects", AccountID: a, Times: 1, ErrorCode: "DUPLICATES_DETECTED", Message: "Use one of these records?"})
	before := s.Store().LatestReplayID()

	r := call(t, s, http.MethodPatch, "composite/sobjects", tok, compositeBody(true,
		map[string]any{"id": a, "SAP_ID__c": "1"},
		map[string]any{"id": b, "SAP_ID__c": "2"},
	))
	var got, want compositeResponse
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	if err := json.Unmarshal(fixtures.Read(t, "fixtures/salesforce/composite-sobjects-allornone-failure.json"), &want); err != nil {
		t.Fatalf("decoding fixture: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("allOrNone response mismatch (-want +got):\n%s", diff)
	}
	if after := s.Store().LatestReplayID(); after != before {
		t.Fatalf("allOrNone failure wrote change events (replay id %d -> %d), want none", before, after)
	}
}

func TestCompositeRequestErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	tok := login(t, s)
	var many []map[string]any
	for range 201 {
		many = append(many, map[string]any{"id": "001Hx00000ABcDeIAL"})
	}
	tests := []struct {
		name string
		body any
		code string
	}{
		{"too many records", compositeBody(false, many...), "EXCEEDED_ID_LIMIT"},
		{"no records", compositeBody(false), "MISSING_ARGUMENT"},
		{"invalid json", "[", "JSON_PARSER_ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantError(t, call(t, s, http.MethodPatch, "composite/sobjects", tok, tt.body), http.StatusBadRequest, tt.code)
		})
	}
}

func TestConcurrentWritesAndQueries(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{QueryBatchSize: 3})
	tok := login(t, s)
	var ids []string
	for i := range 10 {
		ids = append(ids, seed(t, s, map[string]any{"Name": fmt.Sprintf("Account %d", i)}))
	}

	var wg sync.WaitGroup
	statuses := make([]int, 2*len(ids))
	for i, id := range ids {
		wg.Go(func() {
			// A new field name makes every write change the field list.
			field := fmt.Sprintf("Seeded_%d__c", i)
			if _, err := s.Store().Create(map[string]any{"Name": "extra", field: "x"}, WriteOptions{}); err != nil {
				t.Errorf("Store.Create: %v", err)
			}
			r, err := send(s, http.MethodPatch, "sobjects/Account/"+id, tok, map[string]any{"SAP_ID__c": id})
			if err != nil {
				t.Errorf("PATCH: %v", err)
			}
			statuses[2*i] = r.status
		})
		wg.Go(func() {
			soql := url.QueryEscape("SELECT Id, SAP_ID__c FROM Account ORDER BY Name")
			r, err := send(s, http.MethodGet, "query?q="+soql, tok, nil)
			if err != nil {
				t.Errorf("query: %v", err)
			}
			statuses[2*i+1] = r.status
		})
	}
	wg.Wait()
	for i, status := range statuses {
		want := http.StatusOK
		if i%2 == 0 {
			want = http.StatusNoContent
		}
		if status != want {
			t.Fatalf("request %d status = %d, want %d", i, status, want)
		}
	}
	for _, id := range ids {
		if rec, _ := s.Store().Get(id); rec["SAP_ID__c"] != id {
			t.Fatalf("SAP_ID__c of %s = %v, want %s", id, rec["SAP_ID__c"], id)
		}
	}
}
