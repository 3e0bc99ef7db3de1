package sapsim_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sfsap/sfsap/pkg/sap/rfc"
	"github.com/sfsap/sfsap/pkg/sap/soaprfc"
	"github.com/sfsap/sfsap/pkg/sapsim"
	"github.com/sfsap/sfsap/test/fixtures"
)

const (
	testUser     = "SFSAP_RFC"
	testPassword = "s3cret!"
)

func startSim(t *testing.T, opts sapsim.Options) *sapsim.Server {
	t.Helper()
	opts.User, opts.Password = testUser, testPassword
	sim := sapsim.New(opts)
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("starting simulator: %v", err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return sim
}

func newClient(t *testing.T, sim *sapsim.Server) *soaprfc.Client {
	t.Helper()
	c, err := soaprfc.New(sim.URL(), soaprfc.WithClient("100"), soaprfc.WithBasicAuth(testUser, testPassword))
	if err != nil {
		t.Fatalf("soaprfc.New() error = %v", err)
	}
	return c
}

// post sends body to the handler with the test credentials.
func post(t *testing.T, url, body string, user, password string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatalf("http.NewRequest() error = %v", err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s error = %v", url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	return resp, string(data)
}

func TestCreateFixtureOnTheWire(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{AutoCommit: true})
	request := fixtures.Read(t, "fixtures/sap/constructed/soap-rfc-BAPI_CUSTOMER_CREATEFROMDATA1-request.xml")

	resp, body := post(t, sim.URL()+sapsim.HandlerPath+"?sap-client=100", string(request), testUser, testPassword)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200; body:\n%s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
		t.Errorf("Content-Type = %q, want text/xml", ct)
	}
	wantParts := []string{
		`<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">`,
		`<rfc:BAPI_CUSTOMER_CREATEFROMDATA1.Response xmlns:rfc="urn:sap-com:document:sap:rfc:functions">`,
		`<CUSTOMERNO>0000100000</CUSTOMERNO>`,
		`<TYPE/>`,
		`<NUMBER>000</NUMBER>`,
		`<LOG_MSG_NO>000000</LOG_MSG_NO>`,
	}
	for _, part := range wantParts {
		if !strings.Contains(body, part) {
			t.Errorf("response lacks %s; body:\n%s", part, body)
		}
	}

	c, ok := sim.Customer("100000")
	if !ok {
		t.Fatalf("Customer(100000) not found after the create")
	}
	if c.Name != "Acme Widgets Inc" || c.Region != "IL" || c.Language != "E" || c.AccountGroup != "0001" {
		t.Errorf("Customer(100000) = %+v, want the fixture's data in account group 0001", c)
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{SystemID: "Q01"})
	body := `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>` +
		`<rfc:RFC_SYSTEM_INFO xmlns:rfc="urn:sap-com:document:sap:rfc:functions"/></SOAP-ENV:Body></SOAP-ENV:Envelope>`
	tests := []struct {
		name       string
		query      string
		user       string
		password   string
		wantStatus int
	}{
		{"valid", "?sap-client=100", testUser, testPassword, http.StatusOK},
		{"default client", "", testUser, testPassword, http.StatusOK},
		{"no credentials", "?sap-client=100", "", "", http.StatusUnauthorized},
		{"wrong password", "?sap-client=100", testUser, "nope", http.StatusUnauthorized},
		{"wrong user", "?sap-client=100", "OTHER", testPassword, http.StatusUnauthorized},
		{"other client", "?sap-client=200", testUser, testPassword, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		resp, got := post(t, sim.URL()+sapsim.HandlerPath+tt.query, body, tt.user, tt.password)
		if resp.StatusCode != tt.wantStatus {
			t.Errorf("%s: status = %d, want %d; body: %s", tt.name, resp.StatusCode, tt.wantStatus, got)
			continue
		}
		if tt.wantStatus != http.StatusUnauthorized {
			continue
		}
		want := `Basic realm="SAP NetWeaver Application Server [Q01/100]"`
		if h := resp.Header.Get("WWW-Authenticate"); h != want {
			t.Errorf("%s: WWW-Authenticate = %q, want %q", tt.name, h, want)
		}
	}
}

func TestHTTPErrors(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{})
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantBody   string
	}{
		{"GET", http.MethodGet, sapsim.HandlerPath, "", http.StatusMethodNotAllowed, "POST"},
		{"other path", http.MethodPost, "/sap/opu/odata", "", http.StatusNotFound, ""},
		{"not XML", http.MethodPost, sapsim.HandlerPath, "hello", http.StatusInternalServerError, "faultcode>SOAP-ENV:Client"},
		{"no envelope", http.MethodPost, sapsim.HandlerPath, "<a/>", http.StatusInternalServerError, "faultcode>SOAP-ENV:Client"},
		{"wrong namespace", http.MethodPost, sapsim.HandlerPath,
			`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><RFC_SYSTEM_INFO/></e:Body></e:Envelope>`,
			http.StatusInternalServerError, "urn:sap-com:document:sap:rfc:functions"},
		{"unknown function", http.MethodPost, sapsim.HandlerPath,
			`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><r:Z_NOPE xmlns:r="urn:sap-com:document:sap:rfc:functions"/></e:Body></e:Envelope>`,
			http.StatusInternalServerError, "<Name>FU_NOT_FOUND</Name>"},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, sim.URL()+tt.path, strings.NewReader(tt.body))
		if err != nil {
			t.Fatalf("http.NewRequest() error = %v", err)
		}
		req.SetBasicAuth(testUser, testPassword)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: request error = %v", tt.name, err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus {
			t.Errorf("%s: status = %d, want %d; body: %s", tt.name, resp.StatusCode, tt.wantStatus, data)
		}
		if !bytes.Contains(data, []byte(tt.wantBody)) {
			t.Errorf("%s: body = %s, want it to contain %s", tt.name, data, tt.wantBody)
		}
	}
}

func TestLatin1Request(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{AutoCommit: true})
	body := "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>" +
		`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>` +
		`<r:BAPI_CUSTOMER_CREATEFROMDATA1 xmlns:r="urn:sap-com:document:sap:rfc:functions">` +
		"<PI_COMPANYDATA><NAME>M\xfcller</NAME><CITY>K\xf6ln</CITY><COUNTRY>DE</COUNTRY><LANGU>D</LANGU></PI_COMPANYDATA>" +
		`<PI_COPYREFERENCE><SALESORG>1000</SALESORG><DISTR_CHAN>10</DISTR_CHAN><DIVISION>00</DIVISION><REF_CUSTMR>99999</REF_CUSTMR></PI_COPYREFERENCE>` +
		`</r:BAPI_CUSTOMER_CREATEFROMDATA1></e:Body></e:Envelope>`
	resp, got := post(t, sim.URL()+sapsim.HandlerPath, body, testUser, testPassword)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200; body: %s", resp.StatusCode, got)
	}
	customers := sim.Customers()
	if len(customers) != 1 {
		t.Fatalf("len(Customers()) = %d, want 1; body: %s", len(customers), got)
	}
	if customers[0].Name != "Müller" || customers[0].City != "Köln" {
		t.Errorf("customer name and city = %q, %q, want Müller, Köln", customers[0].Name, customers[0].City)
	}
}

func TestSystemInfo(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{})
	res, err := newClient(t, sim).Call(context.Background(), "RFC_SYSTEM_INFO", nil)
	if err != nil {
		t.Fatalf("Call(RFC_SYSTEM_INFO) error = %v", err)
	}
	rfcsi := rfc.Struct(res, "RFCSI")
	if got := rfc.String(rfcsi, "RFCSYSID"); got != "SIM" {
		t.Errorf("RFCSYSID = %q, want the default SIM", got)
	}
	if got := rfc.String(rfcsi, "RFCTZONE"); got != "     0" {
		t.Errorf("RFCTZONE = %q, want leading blanks", got)
	}
}
