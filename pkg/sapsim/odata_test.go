package sapsim_test

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/sapsim"
	"github.com/sfsap/sfsap/test/fixtures"
)

// odataClient sends requests to the OData service with the test
// credentials, keeping cookies in a jar.
type odataClient struct {
	t    *testing.T
	base string
	http *http.Client
}

func newODataClient(t *testing.T, sim *sapsim.Server) *odataClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookiejar.New() error = %v", err)
	}
	return &odataClient{t: t, base: sim.URL() + sapsim.ODataServicePath, http: &http.Client{Jar: jar}}
}

// do sends a request to path below the service root and returns the
// response with its body.
func (c *odataClient) do(method, path, body string, header map[string]string) (*http.Response, string) {
	c.t.Helper()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, reader)
	if err != nil {
		c.t.Fatalf("http.NewRequest() error = %v", err)
	}
	req.SetBasicAuth(testUser, testPassword)
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s error = %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("reading response: %v", err)
	}
	return resp, string(data)
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("url.Parse(%q) error = %v", raw, err)
	}
	return u
}

// fetchToken fetches a CSRF token and returns it.
func (c *odataClient) fetchToken() string {
	c.t.Helper()
	resp, body := c.do(http.MethodGet, "/", "", map[string]string{"x-csrf-token": "Fetch"})
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("token fetch status = %d, want 200; body %s", resp.StatusCode, body)
	}
	token := resp.Header.Get("x-csrf-token")
	if token == "" {
		c.t.Fatalf("token fetch returned no x-csrf-token header")
	}
	return token
}

const deepInsert = `{
  "BusinessPartnerCategory": "2",
  "OrganizationBPName1": "Larchfield Tools Ltd",
  "BusinessPartnerIDByExtSystem": "001HX00000ABCDEIAL",
  "to_BusinessPartnerRole": {"results": [{"BusinessPartnerRole": "FLCU00"}, {"BusinessPartnerRole": "FLCU01"}]},
  "to_BusinessPartnerAddress": {"results": [{"Country": "DE", "Region": "09", "CityName": "Munich", "PostalCode": "80331", "StreetName": "Hauptstr. 1", "Language": "DE"}]},
  "to_Customer": {
    "to_CustomerCompany": {"results": [{"CompanyCode": "1000"}]},
    "to_CustomerSalesArea": {"results": [{"SalesOrganization": "1000", "DistributionChannel": "10", "Division": "00", "Currency": "EUR"}]}
  }
}`

func TestODataCSRF(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sapsim.Options{})
	c := newODataClient(t, sim)

	// Without a token.
	resp, body := c.do(http.MethodPost, "/A_BusinessPartner", deepInsert, nil)
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("x-csrf-token") != "Required" {
		t.Fatalf("POST without token: status %d, x-csrf-token %q; want 403 Required", resp.StatusCode, resp.Header.Get("x-csrf-token"))
	}
	if body != "CSRF token validation failed" {
		t.Errorf("POST without token: body %q, want the CSRF failure text", body)
	}

	token := c.fetchToken()
	cookies := c.http.Jar.Cookies(mustURL(t, sim.URL()))
	var names []string
	for _, ck := range cookies {
		names = append(names, ck.Name)
	}
	if diff := cmp.Diff([]string{"SAP_SESSIONID_SIM_100", "sap-usercontext"}, names); diff != "" {
		t.Errorf("cookies after the fetch mismatch (-want +got):\n%s", diff)
	}
	if again := c.fetchToken(); again != token {
		t.Errorf("second fetch in the same session = %q, want the same token %q", again, token)
	}

	// A token without its cookies, and a wrong token with them.
	noCookies := &odataClient{t: t, base: c.base, http: &http.Client{}}
	for name, client := range map[string]*odataClient{"token without cookies": noCookies, "wrong token": c} {
		tok := token
		if name == "wrong token" {
			tok = "not-the-token"
		}
		resp, _ := client.do(http.MethodPost, "/A_BusinessPartner", deepInsert, map[string]string{"x-csrf-token": tok})
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("x-csrf-token") != "Required" {
			t.Errorf("%s: status %d, x-csrf-token %q; want 403 Required", name, resp.StatusCode, resp.Header.Get("x-csrf-token"))
		}
	}
	if n := len(sim.Customers()); n != 0 {
		t.Fatalf("rejected POSTs created %d customers, want 0", n)
	}

	// The token with its cookies, twice: a token lasts for its session.
	for i := range 2 {
		resp, body = c.do(http.MethodPost, "/A_BusinessPartner", deepInsert, map[string]string{"x-csrf-token": token})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST #%d with token and cookies: status %d, want 201; body %s", i+1, resp.StatusCode, body)
		}
	}
	if n := sim.CountByExternalRef("001HX00000ABCDEIAL"); n != 2 {
		t.Errorf("CountByExternalRef() = %d, want 2", n)
	}
	if n := sim.Calls(sapsim.ODataCreate); n != 5 {
		t.Errorf("Calls(%s) = %d, want 5 including the rejected ones", sapsim.ODataCreate, n)
	}
}

func TestODataSingleUseToken(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sapsim.Options{OData: sapsim.ODataOptions{SingleUseTokens: true}})
	c := newODataClient(t, sim)
	token := c.fetchToken()

	resp, _ := c.do(http.MethodPost, "/A_BusinessPartner", deepInsert, map[string]string{"x-csrf-token": token})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("first POST status = %d, want 201", resp.StatusCode)
	}
	resp, _ = c.do(http.MethodPost, "/A_BusinessPartner", deepInsert, map[string]string{"x-csrf-token": token})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("second POST with the used token: status = %d, want 403", resp.StatusCode)
	}
	next := c.fetchToken()
	if next == token {
		t.Fatalf("fetch after use returned the used token")
	}
	resp, _ = c.do(http.MethodPost, "/A_BusinessPartner", deepInsert, map[string]string{"x-csrf-token": next})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST with the new token: status = %d, want 201", resp.StatusCode)
	}
	if n := len(sim.Customers()); n != 2 {
		t.Errorf("len(Customers()) = %d, want 2", n)
	}
}

func TestODataCreateResponse(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sapsim.Options{})
	c := newODataClient(t, sim)
	token := c.fetchToken()

	resp, body := c.do(http.MethodPost, "/A_BusinessPartner", deepInsert, map[string]string{"x-csrf-token": token})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST status = %d, want 201; body %s", resp.StatusCode, body)
	}
	var got struct {
		D map[string]any `json:"d"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("decoding the 201 body: %v\n%s", err, body)
	}
	checks := map[string]any{
		"BusinessPartner":              "100000",
		"Customer":                     "100000",
		"BusinessPartnerCategory":      "2",
		"OrganizationBPName1":          "Larchfield Tools Ltd",
		"BusinessPartnerIDByExtSystem": "001HX00000ABCDEIAL",
		"SearchTerm1":                  "LARCHFIELD",
	}
	for k, want := range checks {
		if got.D[k] != want {
			t.Errorf("d.%s = %v, want %v", k, got.D[k], want)
		}
	}
	toCustomer, _ := got.D["to_Customer"].(map[string]any)
	if toCustomer["Customer"] != "100000" {
		t.Errorf("d.to_Customer = %v, want Customer 100000", got.D["to_Customer"])
	}
	if loc := resp.Header.Get("Location"); !strings.HasSuffix(loc, "/A_BusinessPartner('100000')") {
		t.Errorf("Location = %q, want the URI of A_BusinessPartner('100000')", loc)
	}
	cust, ok := sim.Customer("100000")
	if !ok {
		t.Fatalf("simulator has no customer 0000100000")
	}
	if cust.Language != "D" || cust.Region != "09" || cust.Currency != "EUR" {
		t.Errorf("customer = %+v, want language D, region 09, currency EUR", cust)
	}
}

func TestODataCreateValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		wantCode string
	}{
		{"not JSON", `{"BusinessPartnerCategory":`, "ZSIM/020"},
		{"address without language", strings.Replace(deepInsert, `, "Language": "DE"`, "", 1), "FSBP_ECC/030"},
		{"sales area without currency", strings.Replace(deepInsert, `, "Currency": "EUR"`, "", 1), "CVI_API/003"},
		{"no customer", strings.Replace(deepInsert, `"to_Customer"`, `"to_Other"`, 1), "ZSIM/024"},
		{"no FLCU00 for company code", strings.Replace(deepInsert, `{"BusinessPartnerRole": "FLCU00"}, `, "", 1), "ZSIM/027"},
		{"unknown sales area", strings.Replace(deepInsert, `"SalesOrganization": "1000"`, `"SalesOrganization": "3000"`, 1), "ZSIM/029"},
		{"company code not in sales area", strings.Replace(deepInsert, `"CompanyCode": "1000"`, `"CompanyCode": "9000"`, 1), "ZSIM/030"},
		{"bad postal code", strings.Replace(deepInsert, `"80331"`, `"8033"`, 1), "AR/003"},
		{"unknown region", strings.Replace(deepInsert, `"Region": "09"`, `"Region": "BY"`, 1), "AR/002"},
		{"no name", strings.Replace(deepInsert, `"Larchfield Tools Ltd"`, `""`, 1), "ZSIM/003"},
		{"category 3", strings.Replace(deepInsert, `"BusinessPartnerCategory": "2"`, `"BusinessPartnerCategory": "3"`, 1), "ZSIM/028"},
		{"external id too long", strings.Replace(deepInsert, `"001HX00000ABCDEIAL"`, `"001HX00000ABCDEIAL123"`, 1), "ZSIM/004"},
		{"published body with placeholders", "", "AR/003"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The published body uses sales area 1010/10/00 and company
			// code 1010.
			refs := append(sapsim.DefaultReferenceCustomers(), sapsim.ReferenceCustomer{
				Number: "0000099998", AccountGroup: "0001", CompanyCodes: []string{"1010"},
				SalesAreas: []sapsim.SalesArea{{SalesOrg: "1010", DistributionChannel: "10", Division: "00"}},
			})
			sim := startSim(t, sapsim.Options{ReferenceCustomers: refs})
			c := newODataClient(t, sim)
			token := c.fetchToken()
			body := tt.body
			if body == "" {
				body = string(fixtures.Read(t, "fixtures/sap/odata-bp-customer-deep-insert-request.json"))
			}

			resp, data := c.do(http.MethodPost, "/A_BusinessPartner", body, map[string]string{"x-csrf-token": token})
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", resp.StatusCode, data)
			}
			var got struct {
				Error struct {
					Code       string
					InnerError struct {
						ErrorDetails []struct{ Code, Severity string }
					}
				}
			}
			if err := json.Unmarshal([]byte(data), &got); err != nil {
				t.Fatalf("decoding the error body: %v\n%s", err, data)
			}
			if got.Error.Code != tt.wantCode {
				t.Errorf("error.code = %q, want %q; body %s", got.Error.Code, tt.wantCode, data)
			}
			if d := got.Error.InnerError.ErrorDetails; len(d) != 1 || d[0].Code != tt.wantCode || d[0].Severity != "error" {
				t.Errorf("errordetails = %+v, want one error with code %s", d, tt.wantCode)
			}
			if n := len(sim.Customers()); n != 0 {
				t.Errorf("len(Customers()) = %d, want 0", n)
			}
		})
	}
}

func TestODataQuery(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sapsim.Options{})
	c := newODataClient(t, sim)
	token := c.fetchToken()
	for _, ref := range []string{"001HX00000ABCDEIAL", "001HX00000ABCDEIAL", "001HX00000QRSTUIAV"} {
		body := strings.Replace(deepInsert, "001HX00000ABCDEIAL", ref, 1)
		if resp, data := c.do(http.MethodPost, "/A_BusinessPartner", body, map[string]string{"x-csrf-token": token}); resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST status = %d; body %s", resp.StatusCode, data)
		}
	}

	tests := []struct {
		query     string
		wantCount string
		wantKeys  []string
	}{
		{"$filter=BusinessPartnerIDByExtSystem%20eq%20'001HX00000ABCDEIAL'&$select=BusinessPartner,Customer&$inlinecount=allpages", "2", []string{"100000", "100001"}},
		{"$filter=BusinessPartnerIDByExtSystem eq '001HX00000QRSTUIAV'&$inlinecount=allpages", "1", []string{"100002"}},
		{"$filter=BusinessPartnerIDByExtSystem eq 'NONE'&$inlinecount=allpages", "0", []string{}},
		{"$filter=Customer eq '0000100001' and SearchTerm1 eq 'LARCHFIELD'&$inlinecount=allpages", "1", []string{"100001"}},
		{"$inlinecount=allpages&$top=1&$skip=1", "3", []string{"100001"}},
	}
	for _, tt := range tests {
		resp, body := c.do(http.MethodGet, "/A_BusinessPartner?"+strings.ReplaceAll(tt.query, " ", "%20"), "", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET ?%s status = %d; body %s", tt.query, resp.StatusCode, body)
		}
		var got struct {
			D struct {
				Count   string `json:"__count"`
				Results []map[string]any
			} `json:"d"`
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("decoding: %v\n%s", err, body)
		}
		keys := []string{}
		for _, r := range got.D.Results {
			keys = append(keys, r["BusinessPartner"].(string))
		}
		if got.D.Count != tt.wantCount {
			t.Errorf("GET ?%s __count = %q, want %q", tt.query, got.D.Count, tt.wantCount)
		}
		if diff := cmp.Diff(tt.wantKeys, keys); diff != "" {
			t.Errorf("GET ?%s keys mismatch (-want +got):\n%s", tt.query, diff)
		}
	}

	// $select keeps only the named properties and __metadata.
	_, body := c.do(http.MethodGet, "/A_BusinessPartner?$select=Customer&$top=1", "", nil)
	if strings.Contains(body, "OrganizationBPName1") || !strings.Contains(body, `"Customer":"100000"`) || !strings.Contains(body, "__metadata") {
		t.Errorf("GET with $select=Customer body = %s, want only Customer and __metadata", body)
	}

	resp, body := c.do(http.MethodGet, "/A_BusinessPartner('100002')", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"BusinessPartnerIDByExtSystem":"001HX00000QRSTUIAV"`) {
		t.Errorf("GET A_BusinessPartner('100002'): status %d body %s", resp.StatusCode, body)
	}
	if resp, _ := c.do(http.MethodGet, "/A_BusinessPartner('999')", "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET of a missing partner: status %d, want 404", resp.StatusCode)
	}

	for _, bad := range []string{"$filter=Name eq 'x'", "$filter=Customer eq 100000", "$filter=Customer eq 'x' or Customer eq 'y'", "$top=-1", "$format=xml"} {
		resp, body := c.do(http.MethodGet, "/A_BusinessPartner?"+strings.ReplaceAll(bad, " ", "%20"), "", nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"code":"ZSIM/`) {
			t.Errorf("GET ?%s: status %d body %s, want 400 with an OData error", bad, resp.StatusCode, body)
		}
	}
}

func TestODataFilterLiteralQuotes(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sapsim.Options{})
	c := newODataClient(t, sim)
	token := c.fetchToken()
	body := strings.Replace(deepInsert, "001HX00000ABCDEIAL", "O'HARA", 1)
	if resp, data := c.do(http.MethodPost, "/A_BusinessPartner", body, map[string]string{"x-csrf-token": token}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST status = %d; body %s", resp.StatusCode, data)
	}
	_, data := c.do(http.MethodGet, "/A_BusinessPartner?$filter=BusinessPartnerIDByExtSystem%20eq%20'O''HARA'", "", nil)
	if !strings.Contains(data, `"BusinessPartnerIDByExtSystem":"O'HARA"`) {
		t.Errorf("filter with a doubled quote: body %s, want the partner O'HARA", data)
	}
}

func TestODataMetadata(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts func(t *testing.T) sapsim.Options
		want []string
	}{
		{"built-in", func(*testing.T) sapsim.Options { return sapsim.Options{} }, nil},
		{"file", func(t *testing.T) sapsim.Options {
			return sapsim.Options{OData: sapsim.ODataOptions{MetadataFile: fixtures.Path(t, "fixtures/sap/API_BUSINESS_PARTNER.edmx")}}
		}, []string{"A_Supplier", "A_BuPaIdentification"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := startSim(t, tt.opts(t))
			c := newODataClient(t, sim)
			resp, body := c.do(http.MethodGet, "/$metadata", "", nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET $metadata status = %d", resp.StatusCode)
			}
			sets := entitySets(t, body)
			for _, want := range append([]string{"A_BusinessPartner", "A_BusinessPartnerAddress", "A_BusinessPartnerRole", "A_Customer", "A_CustomerCompany", "A_CustomerSalesArea"}, tt.want...) {
				if !sets[want] {
					t.Errorf("$metadata lacks entity set %s", want)
				}
			}
		})
	}
}

// entitySets returns the names of the entity sets declared in an EDMX
// document, failing the test when it is not well-formed XML.
func entitySets(t *testing.T, edmx string) map[string]bool {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(edmx))
	sets := map[string]bool{}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return sets
		}
		if err != nil {
			t.Fatalf("parsing EDMX: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "EntitySet" {
			for _, a := range se.Attr {
				if a.Name.Local == "Name" {
					sets[a.Value] = true
				}
			}
		}
	}
}

func TestODataAuthAndRouting(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sapsim.Options{})
	c := newODataClient(t, sim)

	req, _ := http.NewRequest(http.MethodGet, c.base+"/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET without credentials: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("GET without credentials: status %d, WWW-Authenticate %q; want 401 Basic", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	resp, body := c.do(http.MethodGet, "", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"EntitySets":["A_BusinessPartner"]`) {
		t.Errorf("service document: status %d body %s", resp.StatusCode, body)
	}
	if resp, _ := c.do(http.MethodGet, "/A_Supplier", "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET of an unserved entity set: status %d, want 404", resp.StatusCode)
	}
	token := c.fetchToken()
	if resp, _ := c.do(http.MethodDelete, "/A_BusinessPartner('1')", "", map[string]string{"x-csrf-token": token}); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE with a token: status %d, want 405", resp.StatusCode)
	}
}
