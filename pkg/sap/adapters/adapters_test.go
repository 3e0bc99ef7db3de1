package adapters_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sap/adapters"
	"github.com/sfsap/sfsap/pkg/sapsim"
)

const (
	testUser     = "SFSAP"
	testPassword = "s3cret!"
	createFM     = "Z_SFSAP_CUSTOMER_CREATE"
)

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// kind describes one adapter of the cross-adapter tests.
type kind struct {
	name string
	// createOp is the simulator's name for the adapter's create call,
	// under which InjectReturn and Calls work.
	createOp string
	// contentType is the content type of a rendered request.
	contentType string
	// path is the simulator path a rendered request goes to.
	path string
}

var kinds = []kind{
	{config.AdapterECC, createFM, "text/xml; charset=utf-8", sapsim.HandlerPath + "?sap-client=100"},
	{config.AdapterS4, sapsim.ODataCreate, "application/json", sapsim.ODataServicePath + "/A_BusinessPartner?sap-client=100"},
	{config.AdapterREST, createFM, "application/json", sapsim.RESTServicesPath + sapsim.RESTCreateService},
}

// sapConfig returns the configuration of adapter name for sim, with
// defaults applied as config.Load applies them.
func sapConfig(name string, sim *sapsim.Server) config.SAP {
	c := config.Config{SAP: config.SAP{
		Adapter:  name,
		URL:      sim.URL(),
		Client:   "100",
		User:     testUser,
		Password: testPassword,
		Timeout:  5 * time.Second,
	}}
	c.SAP.REST.LookupURL = "/services/FindSAPCustomer?EXTERNAL_REF={{.ExternalRef | urlquery}}"
	return c.WithDefaults().SAP
}

func setup(t *testing.T, name string) (*sapsim.Server, adapters.Adapter) {
	t.Helper()
	sim := sapsim.New(sapsim.Options{User: testUser, Password: testPassword})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("starting simulator: %v", err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	a, err := adapters.New(sapConfig(name, sim), slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	if err != nil {
		t.Fatalf("adapters.New(%s) error = %v", name, err)
	}
	return sim, a
}

func customer(id string) sap.Customer {
	return sap.Customer{
		Names:               []string{"Larchfield Tools Ltd"},
		Street:              "Hauptstr. 1",
		PostalCode:          "80331",
		City:                "Munich",
		Country:             "DE",
		Region:              "09",
		Language:            "DE",
		Currency:            "EUR",
		CompanyCode:         "1000",
		SalesOrg:            "1000",
		DistributionChannel: "10",
		Division:            "00",
		ReferenceCustomer:   "0000099999",
		ExternalRef:         id,
	}
}

// TestCreateThenFindPerAdapter runs one scenario through the sap.Adapter
// interface of every adapter: a lookup finds nothing, a create makes
// exactly one customer, and the lookup then finds that customer.
func TestCreateThenFindPerAdapter(t *testing.T) {
	t.Parallel()
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			sim, a := setup(t, k.name)
			var adapter sap.Adapter = a
			ctx := context.Background()
			ids := []string{"001Hx00000ABcDeIAL", "001Hx00000QrStUIAV"}

			for _, id := range ids {
				if _, found, err := adapter.FindByExternalRef(ctx, id); err != nil || found {
					t.Fatalf("FindByExternalRef(%s) before create = found %v, error %v; want not found", id, found, err)
				}
			}
			numbers := map[string]string{}
			for _, id := range ids {
				res, err := adapter.Create(ctx, customer(id))
				if err != nil {
					t.Fatalf("Create(%s) error = %v", id, err)
				}
				if len(res.CustomerNo) != 10 {
					t.Errorf("Create(%s) CustomerNo = %q, want 10 digits", id, res.CustomerNo)
				}
				numbers[id] = res.CustomerNo
			}
			if numbers[ids[0]] == numbers[ids[1]] {
				t.Errorf("both creates returned %s", numbers[ids[0]])
			}
			for _, id := range ids {
				no, found, err := adapter.FindByExternalRef(ctx, id)
				if err != nil || !found || no != numbers[id] {
					t.Errorf("FindByExternalRef(%s) = %q, %v, %v; want %q, true, nil", id, no, found, err, numbers[id])
				}
				if n := sim.CountByExternalRef(strings.ToUpper(id)); n != 1 {
					t.Errorf("CountByExternalRef(%s) = %d, want 1", id, n)
				}
				cust, _ := sim.Customer(numbers[id])
				if cust.Name != "Larchfield Tools Ltd" || cust.City != "Munich" || cust.Region != "09" || cust.Language != "D" {
					t.Errorf("Customer(%s) = %+v, want the mapped name, city, region 09 and language D", numbers[id], cust)
				}
			}
		})
	}
}

// TestClassificationPerAdapter follows the three RETURN tables of a
// reported failure case for every adapter: a missing reference customer
// is permanent, a lock is transient, and a warning together with a
// number is a success.
func TestClassificationPerAdapter(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		message  sap.Message
		wantKind sap.Kind // 0 for success
	}{
		{"reference customer missing", sap.Message{Type: "E", ID: "ZZ", Number: "001", Message: "Reference customer 900001 not maintained for sales area 1000/10/00"}, sap.Permanent},
		{"locked", sap.Message{Type: "E", ID: "ZZ", Number: "002", Message: "Customer data locked by user BATCH01"}, sap.Transient},
		{"warning", sap.Message{Type: "W", Message: "Tax number not checked"}, 0},
	}
	for _, k := range kinds {
		for _, tc := range cases {
			t.Run(k.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				sim, a := setup(t, k.name)
				sim.InjectReturn(k.createOp, 1, tc.message)
				id := "001Hx00000ABcDeIAL"

				res, err := a.Create(context.Background(), customer(id))
				count := sim.CountByExternalRef(strings.ToUpper(id))
				if tc.wantKind == 0 {
					if err != nil {
						t.Fatalf("Create() error = %v, want success", err)
					}
					if len(res.Messages) != 1 || res.Messages[0].Type != "W" || res.Messages[0].Message != tc.message.Message {
						t.Errorf("Create() Messages = %v, want the warning", res.Messages)
					}
					if count != 1 {
						t.Errorf("CountByExternalRef() = %d, want 1", count)
					}
					return
				}
				var e *sap.Error
				if !errors.As(err, &e) {
					t.Fatalf("Create() error = %v, want *sap.Error", err)
				}
				if e.Kind != tc.wantKind {
					t.Errorf("Create() Kind = %v, want %v; error = %v", e.Kind, tc.wantKind, err)
				}
				if e.Code() != "ZZ/"+tc.message.Number {
					t.Errorf("Create() Code() = %q, want ZZ/%s", e.Code(), tc.message.Number)
				}
				if count != 0 {
					t.Errorf("CountByExternalRef() = %d, want 0", count)
				}
			})
		}
	}
}

// TestRenderIsWhatSAPAccepts sends each adapter's rendered request to the
// simulator by hand and checks that it creates the customer, so the dry
// run shows what SAP would receive.
func TestRenderIsWhatSAPAccepts(t *testing.T) {
	t.Parallel()
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			sim, a := setup(t, k.name)
			id := "001Hx00000ABcDeIAL"
			body, err := a.Render(customer(id))
			if err != nil {
				t.Fatalf("Render() error = %v", err)
			}
			if strings.HasPrefix(k.contentType, "application/json") && !json.Valid(body) {
				t.Fatalf("Render() is not JSON:\n%s", body)
			}

			jar, _ := cookiejar.New(nil)
			client := &http.Client{Jar: jar}
			token := ""
			if k.name == config.AdapterS4 {
				token = fetchToken(t, client, sim)
			}
			req, err := http.NewRequest(http.MethodPost, sim.URL()+k.path, bytes.NewReader(body))
			if err != nil {
				t.Fatalf("http.NewRequest() error = %v", err)
			}
			req.SetBasicAuth(testUser, testPassword)
			req.Header.Set("Content-Type", k.contentType)
			if token != "" {
				req.Header.Set("x-csrf-token", token)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("POST of the rendered request: %v", err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
				t.Fatalf("POST of the rendered request: status %d; body %s", resp.StatusCode, data)
			}
			if n := sim.CountByExternalRef(strings.ToUpper(id)); n != 1 {
				t.Errorf("CountByExternalRef() = %d after posting the rendered request, want 1; response %s", n, data)
			}
		})
	}
}

func fetchToken(t *testing.T, client *http.Client, sim *sapsim.Server) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, sim.URL()+sapsim.ODataServicePath+"/?sap-client=100", nil)
	req.SetBasicAuth(testUser, testPassword)
	req.Header.Set("x-csrf-token", "Fetch")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("token fetch: %v", err)
	}
	resp.Body.Close()
	return resp.Header.Get("x-csrf-token")
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	valid := config.Config{SAP: config.SAP{URL: "https://sap.example.com"}}.WithDefaults().SAP
	tests := []struct {
		name string
		edit func(*config.SAP)
		want string
	}{
		{"no URL", func(c *config.SAP) { c.URL = "" }, "sap.url is empty"},
		{"unknown adapter", func(c *config.SAP) { c.Adapter = "bapi" }, `sap.adapter "bapi" is not supported`},
		{"bad ECC setting", func(c *config.SAP) { c.ECC.LanguageField = "LANGUAGE" }, "sap.ecc:"},
		{"bad S4 setting", func(c *config.SAP) { c.Adapter = config.AdapterS4; c.S4.Grouping = "TOO_LONG" }, "sap.s4:"},
		{"bad REST template", func(c *config.SAP) { c.Adapter = config.AdapterREST; c.REST.RequestTemplate = "{{" }, "sap.rest:"},
		{"bad client", func(c *config.SAP) { c.Adapter = config.AdapterS4; c.Client = "1" }, "sap.s4:"},
	}
	for _, tt := range tests {
		c := valid
		tt.edit(&c)
		_, err := adapters.New(c, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New() error = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestConfigAcceptsAdapterNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{config.AdapterECC, config.AdapterS4, config.AdapterREST} {
		cfg, err := config.Load("", []string{"SFSAP_SAP_ADAPTER=" + name, "SFSAP_SAP_S4_GROUPING=BP02", "SFSAP_SAP_REST_LOOKUP_URL=/find?id={{.ExternalRef}}"})
		if err != nil {
			t.Fatalf("config.Load(adapter %s) error = %v", name, err)
		}
		got := []string{cfg.SAP.Adapter, cfg.SAP.S4.Grouping, cfg.SAP.REST.LookupURL, cfg.SAP.S4.ServicePath, cfg.SAP.REST.CreatePath}
		want := []string{name, "BP02", "/find?id={{.ExternalRef}}", "/sap/opu/odata/sap/API_BUSINESS_PARTNER", "/services/CreateSAPCustomer"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("config.Load(adapter %s) mismatch (-want +got):\n%s", name, diff)
		}
	}
	_, err := config.Load("", []string{"SFSAP_SAP_ADAPTER=bapi"})
	if err == nil || !strings.Contains(err.Error(), "use ecc, s4 or rest") {
		t.Errorf("config.Load(adapter bapi) error = %v, want one that lists ecc, s4 and rest", err)
	}
	_, err = config.Load("", []string{"SFSAP_SAP_REST_CUSTOMER_NO_PATH=a..b"})
	if err == nil || !strings.Contains(err.Error(), "customer_no_path") {
		t.Errorf("config.Load(bad customer_no_path) error = %v, want one that names the key", err)
	}
}
