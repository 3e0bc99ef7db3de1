package sapsim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/sapsim"
)

// restCall sends a request to a REST gateway service and returns the
// status and the body.
func restCall(t *testing.T, sim *sapsim.Server, method, target, body, password string) (int, string) {
	t.Helper()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, sim.URL()+target, reader)
	if err != nil {
		t.Fatalf("http.NewRequest() error = %v", err)
	}
	req.SetBasicAuth(testUser, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s error = %v", method, target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	return resp.StatusCode, string(data)
}

// restCreateBody has lower-case keys, a number and a boolean, as
// generated services may send them.
const restCreateBody = `{
  "pi_companydata": {"name": "Larchfield Tools Ltd", "city": "Munich", "postl_cod1": 80331,
                     "country": "DE", "region": "09", "langu_iso": "DE", "currency": "EUR"},
  "PI_COPYREFERENCE": {"SALESORG": "1000", "DISTR_CHAN": "10", "DIVISION": "00", "REF_CUSTMR": "99999"},
  "EXTERNAL_REF": "001HX00000ABCDEIAL",
  "UNUSED_FLAG": true
}`

func TestRESTCreateAndFind(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sapsim.Options{})

	status, body := restCall(t, sim, http.MethodPost, "/services/CreateSAPCustomer", restCreateBody, testPassword)
	if status != http.StatusOK {
		t.Fatalf("create status = %d, want 200; body %s", status, body)
	}
	var created struct {
		CUSTOMERNO string
		RETURN     map[string]string
	}
	if err := json.Unmarshal([]byte(body), &created); err != nil {
		t.Fatalf("create body is not JSON: %v\n%s", err, body)
	}
	if created.CUSTOMERNO != "0000100000" || created.RETURN["TYPE"] != "" {
		t.Errorf("create = %+v, want CUSTOMERNO 0000100000 and an empty RETURN", created)
	}
	if !strings.HasPrefix(body, `{"CUSTOMERNO":`) {
		t.Errorf("create body = %s, want CUSTOMERNO first as in the interface", body)
	}
	cust, ok := sim.Customer("100000")
	if !ok || cust.PostalCode != "80331" || cust.ExternalRef != "001HX00000ABCDEIAL" {
		t.Errorf("Customer(100000) = %+v, %v; want postal code 80331 and the external reference", cust, ok)
	}

	finds := []struct{ method, target, body string }{
		{http.MethodGet, "/services/FindSAPCustomer?EXTERNAL_REF=001HX00000ABCDEIAL", ""},
		{http.MethodPost, "/services/FindSAPCustomer", `{"external_ref": "001HX00000ABCDEIAL"}`},
	}
	for _, f := range finds {
		status, body := restCall(t, sim, f.method, f.target, f.body, testPassword)
		if status != http.StatusOK {
			t.Fatalf("%s find status = %d; body %s", f.method, status, body)
		}
		var found struct{ RESULT_TAB []map[string]string }
		if err := json.Unmarshal([]byte(body), &found); err != nil {
			t.Fatalf("find body is not JSON: %v\n%s", err, body)
		}
		var numbers []string
		for _, row := range found.RESULT_TAB {
			numbers = append(numbers, row["CUSTOMER"])
		}
		if diff := cmp.Diff([]string{"0000100000"}, numbers); diff != "" {
			t.Errorf("%s find customers mismatch (-want +got):\n%s", f.method, diff)
		}
	}
	if n := sim.Calls("Z_SFSAP_CUSTOMER_CREATE"); n != 1 {
		t.Errorf("Calls(Z_SFSAP_CUSTOMER_CREATE) = %d, want 1", n)
	}
	if n := sim.Calls("BAPI_CUSTOMER_FIND"); n != 2 {
		t.Errorf("Calls(BAPI_CUSTOMER_FIND) = %d, want 2", n)
	}
}

func TestRESTCreateReturnsError(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sapsim.Options{})
	body := strings.Replace(restCreateBody, `"REF_CUSTMR": "99999"`, `"REF_CUSTMR": "12345"`, 1)

	status, data := restCall(t, sim, http.MethodPost, "/services/CreateSAPCustomer", body, testPassword)
	if status != http.StatusOK {
		t.Fatalf("status = %d, want 200 with the error in RETURN; body %s", status, data)
	}
	if !strings.Contains(data, `"TYPE":"E","ID":"F2","NUMBER":"502"`) || !strings.Contains(data, `"CUSTOMERNO":""`) {
		t.Errorf("body = %s, want RETURN E F2 502 and no customer number", data)
	}
	if n := len(sim.Customers()); n != 0 {
		t.Errorf("len(Customers()) = %d, want 0", n)
	}
}

func TestRESTRequestErrors(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sapsim.Options{})
	tests := []struct {
		name       string
		method     string
		target     string
		body       string
		password   string
		wantStatus int
	}{
		{"wrong password", http.MethodPost, "/services/CreateSAPCustomer", restCreateBody, "wrong", http.StatusUnauthorized},
		{"body not JSON", http.MethodPost, "/services/CreateSAPCustomer", `NAME=x`, testPassword, http.StatusBadRequest},
		{"GET on create", http.MethodGet, "/services/CreateSAPCustomer", ``, testPassword, http.StatusMethodNotAllowed},
		{"find without reference", http.MethodGet, "/services/FindSAPCustomer", ``, testPassword, http.StatusBadRequest},
		{"unknown service", http.MethodPost, "/services/DeleteSAPCustomer", `{}`, testPassword, http.StatusNotFound},
	}
	for _, tt := range tests {
		status, body := restCall(t, sim, tt.method, tt.target, tt.body, tt.password)
		if status != tt.wantStatus {
			t.Errorf("%s: status = %d, want %d; body %s", tt.name, status, tt.wantStatus, body)
		}
	}
	if n := len(sim.Customers()); n != 0 {
		t.Errorf("len(Customers()) = %d, want 0", n)
	}
}
