package odata_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sap/odata"
	"github.com/sfsap/sfsap/test/fixtures"
)

func TestParseErrorFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []sap.Message
	}{
		{
			"fixtures/sap/odata-error-gateway-no-authorization.json",
			[]sap.Message{{Type: "E", ID: "/IWFND/CM_CONSUMER", Number: "101", Message: "No authorization to access Service 'ZT_ODATA_SRV_0001'"}},
		},
		{
			"fixtures/sap/odata-error-ui5-mockserver-shape.json",
			[]sap.Message{
				{Type: "E", ID: "XX", Number: "999", Message: "Mock-Server created a 400 response"},
				{Type: "E", ID: "/XXXX/", Message: "Mock-Server created a 400 response"},
			},
		},
	}
	for _, tt := range tests {
		got, err := odata.ParseError(fixtures.Read(t, tt.file))
		if err != nil {
			t.Fatalf("ParseError(%s) error = %v", tt.file, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseError(%s) mismatch (-want +got):\n%s", tt.file, diff)
		}
	}
}

func TestParseError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want []sap.Message
	}{
		{
			"details with severities, copy of the first dropped",
			`{"error":{"code":"CVI_API/003","message":{"lang":"en","value":"Currency (KNVV-WAERS) is a required entry field"},
			  "innererror":{"transactionId":"AB12","ErrorDetails":[
			    {"code":"CVI_API/003","message":"Currency (KNVV-WAERS) is a required entry field","severity":"error"},
			    {"code":"FSBP_ECC/030","message":"Standard address doesn't have a language, needed for customer","severity":"error"},
			    {"code":"R1/12","message":"Check the search term","severity":"warning"},
			    {"code":"ZZ/1","message":"No severity"}]}}}`,
			[]sap.Message{
				{Type: "E", ID: "CVI_API", Number: "003", Message: "Currency (KNVV-WAERS) is a required entry field"},
				{Type: "E", ID: "FSBP_ECC", Number: "030", Message: "Standard address doesn't have a language, needed for customer"},
				{Type: "W", ID: "R1", Number: "12", Message: "Check the search term"},
				{Type: "E", ID: "ZZ", Number: "1", Message: "No severity"},
			},
		},
		{
			"code without number",
			`{"error":{"code":"SY/ABCD","message":{"lang":"en","value":"text"}}}`,
			[]sap.Message{{Type: "E", ID: "SY/ABCD", Message: "text"}},
		},
		{
			"message only",
			`{"error":{"code":"","message":{"lang":"en","value":"Internal error"}}}`,
			[]sap.Message{{Type: "E", Message: "Internal error"}},
		},
	}
	for _, tt := range tests {
		got, err := odata.ParseError([]byte(tt.body))
		if err != nil {
			t.Fatalf("%s: ParseError() error = %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: ParseError() mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestParseErrorRejectsOtherBodies(t *testing.T) {
	t.Parallel()
	for _, body := range []string{"", "CSRF token validation failed", `{"d":{}}`, `{"error":{}}`, `<html>503</html>`} {
		if _, err := odata.ParseError([]byte(body)); !errors.Is(err, odata.ErrInvalidResponse) {
			t.Errorf("ParseError(%q) error = %v, want ErrInvalidResponse", body, err)
		}
	}
}

// fixtureServer serves a CSRF token on GET and responds to every POST
// with status and body, like an SAP Gateway returning a captured
// response.
func fixtureServer(t *testing.T, status int, body []byte, header http.Header) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			w.Header().Set("x-csrf-token", "token-1")
			return
		}
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCreateErrorFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		file     string
		status   int
		wantKind sap.Kind
		wantErr  error
		wantCode string
	}{
		{"no authorization", "fixtures/sap/odata-error-gateway-no-authorization.json", http.StatusForbidden, sap.Permanent, odata.ErrForbidden, "/IWFND/CM_CONSUMER/101"},
		{"business error", "fixtures/sap/odata-error-ui5-mockserver-shape.json", http.StatusBadRequest, sap.Permanent, nil, "XX/999"},
		{"server error with OData body", "fixtures/sap/odata-error-ui5-mockserver-shape.json", http.StatusInternalServerError, sap.Permanent, nil, "XX/999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := fixtureServer(t, tt.status, fixtures.Read(t, tt.file), nil)
			a := newAdapter(t, srv.URL, odata.Config{})

			_, err := a.Create(context.Background(), acme())
			e := sapError(t, err)
			if e.Kind != tt.wantKind || e.HTTPStatus != tt.status {
				t.Errorf("Create() error = %v, want %v with HTTP %d", err, tt.wantKind, tt.status)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Create() error = %v, want it to wrap %v", err, tt.wantErr)
			}
			if e.Code() != tt.wantCode {
				t.Errorf("Create() Code() = %q, want %q", e.Code(), tt.wantCode)
			}
		})
	}
}

func TestCreateStatusWithoutODataBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status   int
		wantKind sap.Kind
	}{
		{http.StatusBadRequest, sap.Permanent},
		{http.StatusNotFound, sap.Permanent},
		{http.StatusTooManyRequests, sap.Transient},
		{http.StatusInternalServerError, sap.Unknown},
		{http.StatusBadGateway, sap.Unknown},
		{http.StatusServiceUnavailable, sap.Transient},
		{http.StatusGatewayTimeout, sap.Unknown},
	}
	for _, tt := range tests {
		srv := fixtureServer(t, tt.status, []byte("<html>proxy error</html>"), nil)
		a := newAdapter(t, srv.URL, odata.Config{})
		_, err := a.Create(context.Background(), acme())
		if e := sapError(t, err); e.Kind != tt.wantKind {
			t.Errorf("Create() with HTTP %d: Kind = %v, want %v; error = %v", tt.status, e.Kind, tt.wantKind, err)
		}
	}
}

func TestCreateResponseFixture(t *testing.T) {
	t.Parallel()
	header := http.Header{"Sap-Message": {`{"code":"ZZ/003","message":"Tax number not checked","severity":"warning","target":"","details":[{"code":"ZZ/004","message":"Address not validated","severity":"info"}]}`}}
	srv := fixtureServer(t, http.StatusCreated, fixtures.Read(t, "fixtures/sap/constructed/odata-bp-create-response-201.json"), header)
	a := newAdapter(t, srv.URL, odata.Config{})

	res, err := a.Create(context.Background(), acme())
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	want := sap.CreateResult{
		CustomerNo: "0001000081",
		Messages: []sap.Message{
			{Type: "W", ID: "ZZ", Number: "003", Message: "Tax number not checked"},
			{Type: "I", ID: "ZZ", Number: "004", Message: "Address not validated"},
		},
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Create() mismatch (-want +got):\n%s", diff)
	}
}

func TestCreateResponseCustomerNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		want     string
		wantKind sap.Kind
	}{
		{"to_Customer wins", `{"d":{"BusinessPartner":"17","Customer":"18","to_Customer":{"Customer":"19"}}}`, "0000000019", 0},
		{"Customer property", `{"d":{"BusinessPartner":"17","Customer":"18","to_Customer":{"__deferred":{"uri":"x"}}}}`, "0000000018", 0},
		{"business partner number", `{"d":{"BusinessPartner":"17"}}`, "0000000017", 0},
		{"no number", `{"d":{"BusinessPartnerCategory":"2"}}`, "", sap.Unknown},
		{"no d", `{"value":[]}`, "", sap.Unknown},
		{"not JSON", `created`, "", sap.Unknown},
	}
	for _, tt := range tests {
		srv := fixtureServer(t, http.StatusCreated, []byte(tt.body), nil)
		a := newAdapter(t, srv.URL, odata.Config{})
		res, err := a.Create(context.Background(), acme())
		if tt.wantKind != 0 {
			if e := sapError(t, err); e.Kind != tt.wantKind {
				t.Errorf("%s: Create() error = %v, want %v", tt.name, err, tt.wantKind)
			}
			continue
		}
		if err != nil || res.CustomerNo != tt.want {
			t.Errorf("%s: Create() = %q, %v; want %q", tt.name, res.CustomerNo, err, tt.want)
		}
	}
}

// jsonPaths returns the key paths of a decoded JSON value, with array
// elements written as [].
func jsonPaths(prefix string, v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, item := range v {
			p := prefix + "/" + k
			out = append(out, p)
			out = append(out, jsonPaths(p, item)...)
		}
	case []any:
		for _, item := range v {
			out = append(out, jsonPaths(prefix+"[]", item)...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestRenderMatchesPublishedShape compares the key paths of the rendered
// deep insert with a deep-insert body that was verified against S/4HANA
// Cloud. Every path of that body must be present.
func TestRenderMatchesPublishedShape(t *testing.T) {
	t.Parallel()
	var published any
	if err := json.Unmarshal(fixtures.Read(t, "fixtures/sap/odata-bp-customer-deep-insert-request.json"), &published); err != nil {
		t.Fatalf("decoding the published body: %v", err)
	}
	a := newAdapter(t, "https://s4.example.com", odata.Config{
		Grouping: "BP02", ReconciliationAccount: "12100000", PaymentTerms: "0004", CustomerGroup: "01",
	})
	body, err := a.Render(acme())
	if err != nil {
		t.Fatalf("Render() error = %v", err)
	}
	var rendered any
	if err := json.Unmarshal(body, &rendered); err != nil {
		t.Fatalf("Render() returned invalid JSON: %v\n%s", err, body)
	}

	have := jsonPaths("", rendered)
	for _, p := range jsonPaths("", published) {
		if !slices.Contains(have, p) {
			t.Errorf("rendered body lacks %s; it has:\n%s", p, strings.Join(have, "\n"))
		}
	}
}

func TestRenderKeepsSpecialCharacters(t *testing.T) {
	t.Parallel()
	a := newAdapter(t, "https://s4.example.com", odata.Config{})
	c := acme()
	c.Names = []string{`Smith "Tools" & Sons <UK>`}
	body, err := a.Render(c)
	if err != nil {
		t.Fatalf("Render() error = %v", err)
	}
	if want := `"OrganizationBPName1":"Smith \"Tools\" & Sons <UK>"`; !strings.Contains(string(body), want) {
		t.Errorf("Render() = %s, want it to contain %s", body, want)
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	a := newAdapter(t, "https://s4.example.com", odata.Config{ReconciliationAccount: "12100000"})
	body, err := a.Render(acme())
	if err != nil {
		t.Fatalf("Render() error = %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("Render() returned invalid JSON: %v", err)
	}
	want := map[string]any{
		"BusinessPartnerCategory":      "2",
		"OrganizationBPName1":          "Acme Widgets Inc",
		"OrganizationBPName2":          "Accounts Payable",
		"BusinessPartnerIDByExtSystem": "001DN00000ABC12IAB",
		"to_BusinessPartnerRole": map[string]any{"results": []any{
			map[string]any{"BusinessPartnerRole": "FLCU00"},
			map[string]any{"BusinessPartnerRole": "FLCU01"},
		}},
		"to_BusinessPartnerAddress": map[string]any{"results": []any{map[string]any{
			"Country": "US", "Region": "IL", "CityName": "Springfield", "PostalCode": "62701",
			"StreetName": "Main St", "HouseNumber": "100", "Language": "EN",
			"to_PhoneNumber":  map[string]any{"results": []any{map[string]any{"PhoneNumber": "217-555-0100"}}},
			"to_FaxNumber":    map[string]any{"results": []any{map[string]any{"FaxNumber": "217-555-0101"}}},
			"to_EmailAddress": map[string]any{"results": []any{map[string]any{"EmailAddress": "ap@acme.example"}}},
		}}},
		"to_Customer": map[string]any{
			"to_CustomerCompany": map[string]any{"results": []any{map[string]any{
				"CompanyCode": "1000", "ReconciliationAccount": "12100000",
			}}},
			"to_CustomerSalesArea": map[string]any{"results": []any{map[string]any{
				"SalesOrganization": "1000", "DistributionChannel": "10", "Division": "00", "Currency": "USD",
			}}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Render() mismatch (-want +got):\n%s", diff)
	}
}
