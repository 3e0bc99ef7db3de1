package restgw_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sap/restgw"
	"github.com/sfsap/sfsap/pkg/sapsim"
)

const (
	testUser     = "SFSAP_REST"
	testPassword = "s3cret!"
	accountID    = "001Dn00000Abc12IAB"
	lookupURL    = "/services/FindSAPCustomer?EXTERNAL_REF={{.ExternalRef | urlquery}}"
	createFM     = "Z_SFSAP_CUSTOMER_CREATE"
)

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

type bundle struct {
	sim     *sapsim.Server
	adapter *restgw.Adapter
}

func newAdapter(t *testing.T, baseURL string, cfg restgw.Config, opts ...restgw.Option) *restgw.Adapter {
	t.Helper()
	cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	opts = append([]restgw.Option{restgw.WithBasicAuth(testUser, testPassword)}, opts...)
	a, err := restgw.New(baseURL, cfg, opts...)
	if err != nil {
		t.Fatalf("restgw.New() error = %v", err)
	}
	return a
}

// setup starts an SAP simulator and returns an adapter for its REST
// gateway with the lookup configured.
func setup(t *testing.T, opts ...restgw.Option) bundle {
	t.Helper()
	sim := sapsim.New(sapsim.Options{User: testUser, Password: testPassword})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("starting simulator: %v", err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return bundle{sim: sim, adapter: newAdapter(t, sim.URL(), restgw.Config{LookupURL: lookupURL}, opts...)}
}

func acme() sap.Customer {
	return sap.Customer{
		Names:               []string{"Acme Widgets Inc", "Accounts Payable"},
		Street:              "Main St 100",
		PostalCode:          "62701",
		City:                "Springfield",
		Country:             "us",
		Region:              "IL",
		Language:            "en",
		Phone:               "217-555-0100",
		Email:               "ap@acme.example",
		Currency:            "usd",
		SalesOrg:            "1000",
		DistributionChannel: "10",
		Division:            "00",
		ReferenceCustomer:   "99999",
		ExternalRef:         accountID,
	}
}

func sapError(t *testing.T, err error) *sap.Error {
	t.Helper()
	var e *sap.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want *sap.Error", err)
	}
	return e
}

func TestCreateAndFind(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	_, found, err := b.adapter.FindByExternalRef(ctx, accountID)
	if err != nil || found {
		t.Fatalf("FindByExternalRef() before create = found %v, error %v; want not found", found, err)
	}
	res, err := b.adapter.Create(ctx, acme())
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	if res.CustomerNo != "0000100000" {
		t.Errorf("Create() CustomerNo = %q, want 0000100000", res.CustomerNo)
	}
	if len(res.Messages) != 0 {
		t.Errorf("Create() Messages = %v, want none", res.Messages)
	}

	got, ok := b.sim.Customer(res.CustomerNo)
	if !ok {
		t.Fatalf("simulator has no customer %s", res.CustomerNo)
	}
	want := sapsim.Customer{
		Number: "0000100000", ExternalRef: strings.ToUpper(accountID),
		Name: "Acme Widgets Inc", Name2: "Accounts Payable", Street: "Main St 100", PostalCode: "62701",
		City: "Springfield", Country: "US", Region: "IL", Language: "E", Phone: "217-555-0100",
		Email: "ap@acme.example", Currency: "USD", AccountGroup: "0001",
		SalesArea:    sapsim.SalesArea{SalesOrg: "1000", DistributionChannel: "10", Division: "00"},
		CompanyCodes: []string{"1000", "2000"}, Reference: "0000099999",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("simulator customer mismatch (-want +got):\n%s", diff)
	}

	no, found, err := b.adapter.FindByExternalRef(ctx, strings.ToLower(accountID))
	if err != nil || !found || no != res.CustomerNo {
		t.Errorf("FindByExternalRef() = %q, %v, %v; want %q, true, nil", no, found, err, res.CustomerNo)
	}
	if n := b.sim.Calls(createFM); n != 1 {
		t.Errorf("Calls(%s) = %d, want 1", createFM, n)
	}
}

func TestFindByExternalRefDuplicates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	for i := range 2 {
		if _, err := b.adapter.Create(ctx, acme()); err != nil {
			t.Fatalf("Create() #%d error = %v", i+1, err)
		}
	}
	no, found, err := b.adapter.FindByExternalRef(ctx, accountID)
	if err != nil || !found || no != "0000100000" {
		t.Errorf("FindByExternalRef() = %q, %v, %v; want the lowest number 0000100000", no, found, err)
	}
}

func TestFindByExternalRefNotConfigured(t *testing.T) {
	t.Parallel()
	a := newAdapter(t, "http://127.0.0.1:1", restgw.Config{})
	_, _, err := a.FindByExternalRef(context.Background(), accountID)
	e := sapError(t, err)
	if e.Kind != sap.Permanent || !errors.Is(err, restgw.ErrLookupNotConfigured) {
		t.Errorf("FindByExternalRef() error = %v, want Permanent wrapping ErrLookupNotConfigured", err)
	}
	if !strings.Contains(err.Error(), "duplicates cannot be excluded") {
		t.Errorf("FindByExternalRef() error = %q, want it to say that duplicates cannot be excluded", err)
	}
}

func TestCreateValidationErrorIsPermanent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := acme()
	c.PostalCode = "6270"

	_, err := b.adapter.Create(context.Background(), c)
	e := sapError(t, err)
	if e.Kind != sap.Permanent || e.Code() != "AR/003" {
		t.Errorf("Create() error = %v, want permanent AR/003", err)
	}
	if n := len(b.sim.Customers()); n != 0 {
		t.Errorf("len(Customers()) = %d, want 0", n)
	}
}

// TestCreateMessageClassification follows the three RETURN tables of a
// reported failure case: a missing reference customer is permanent, a
// lock is transient, and a warning together with a number is a success.
func TestCreateMessageClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		message  sap.Message
		wantKind sap.Kind // 0 for success
	}{
		{"reference customer missing", sap.Message{Type: "E", ID: "ZZ", Number: "001", Message: "Reference customer 900001 not maintained for sales area 1000/10/00"}, sap.Permanent},
		{"locked", sap.Message{Type: "E", ID: "ZZ", Number: "002", Message: "Customer data locked by user BATCH01"}, sap.Transient},
		{"warning", sap.Message{Type: "W", Message: "Tax number not checked"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.sim.InjectReturn(createFM, 1, tt.message)

			res, err := b.adapter.Create(context.Background(), acme())
			count := b.sim.CountByExternalRef(strings.ToUpper(accountID))
			if tt.wantKind == 0 {
				if err != nil {
					t.Fatalf("Create() error = %v, want success", err)
				}
				if diff := cmp.Diff([]sap.Message{tt.message}, res.Messages); diff != "" {
					t.Errorf("Create() Messages mismatch (-want +got):\n%s", diff)
				}
				if count != 1 {
					t.Errorf("CountByExternalRef() = %d, want 1", count)
				}
				return
			}
			e := sapError(t, err)
			if e.Kind != tt.wantKind {
				t.Errorf("Create() Kind = %v, want %v; error = %v", e.Kind, tt.wantKind, err)
			}
			if diff := cmp.Diff([]sap.Message{tt.message}, e.Messages); diff != "" {
				t.Errorf("Create() error Messages mismatch (-want +got):\n%s", diff)
			}
			if count != 0 {
				t.Errorf("CountByExternalRef() = %d, want 0", count)
			}
		})
	}
}

func TestCreateLockIsTransient(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.sim.InjectLockErrors(1)
	_, err := b.adapter.Create(context.Background(), acme())
	if e := sapError(t, err); e.Kind != sap.Transient || e.Code() != "MC/601" {
		t.Errorf("Create() error = %v, want transient MC/601", err)
	}
}

// TestTimeoutAfterCommitThenFind covers a create whose response is lost
// after SAP committed: the outcome is Unknown, and the lookup finds
// exactly one customer.
func TestTimeoutAfterCommitThenFind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		hold time.Duration
	}{
		{"connection dropped", 0},
		{"response later than the timeout", 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, restgw.WithTimeout(500*time.Millisecond))
			b.sim.InjectTimeoutAfterCommit(1, tt.hold)
			ctx := context.Background()

			_, err := b.adapter.Create(ctx, acme())
			if e := sapError(t, err); e.Kind != sap.Unknown {
				t.Fatalf("Create() Kind = %v, want unknown; error = %v", e.Kind, err)
			}
			no, found, err := b.adapter.FindByExternalRef(ctx, accountID)
			if err != nil || !found {
				t.Fatalf("FindByExternalRef() = %q, %v, %v; want the committed customer", no, found, err)
			}
			if n := b.sim.CountByExternalRef(strings.ToUpper(accountID)); n != 1 {
				t.Errorf("CountByExternalRef() = %d, want exactly 1", n)
			}
		})
	}
}

func TestLogonFailureIsPermanent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := newAdapter(t, b.sim.URL(), restgw.Config{LookupURL: lookupURL}, restgw.WithBasicAuth(testUser, "wrong"))
	_, err := a.Create(context.Background(), acme())
	if e := sapError(t, err); e.Kind != sap.Permanent || !errors.Is(err, restgw.ErrUnauthorized) {
		t.Errorf("Create() error = %v, want Permanent wrapping ErrUnauthorized", err)
	}
	_, _, err = a.FindByExternalRef(context.Background(), accountID)
	if e := sapError(t, err); e.Kind != sap.Permanent || e.HTTPStatus != 401 {
		t.Errorf("FindByExternalRef() error = %v, want Permanent 401", err)
	}
}

// recorder is a gateway that records each request and responds with a
// fixed status and body.
type recorder struct {
	mu     sync.Mutex
	bodies []string
	paths  []string
	status int
	body   string
}

func (r *recorder) start(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		data, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(data))
		r.paths = append(r.paths, req.URL.RequestURI())
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(r.status)
		_, _ = io.WriteString(w, r.body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCreateStatusKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status   int
		body     string
		wantKind sap.Kind
		wantErr  error
	}{
		{http.StatusBadRequest, `{"error":"bad"}`, sap.Permanent, nil},
		{http.StatusUnauthorized, ``, sap.Permanent, restgw.ErrUnauthorized},
		{http.StatusForbidden, ``, sap.Permanent, restgw.ErrForbidden},
		{http.StatusNotFound, `not found`, sap.Permanent, nil},
		{http.StatusTooManyRequests, ``, sap.Transient, nil},
		{http.StatusInternalServerError, `{"error":"dump"}`, sap.Unknown, nil},
		{http.StatusBadGateway, ``, sap.Unknown, nil},
		{http.StatusServiceUnavailable, ``, sap.Transient, nil},
		{http.StatusOK, `{"RETURN":{"TYPE":"S"}}`, sap.Unknown, restgw.ErrInvalidResponse},
		{http.StatusOK, `<html>ok</html>`, sap.Unknown, restgw.ErrInvalidResponse},
	}
	for _, tt := range tests {
		rec := &recorder{status: tt.status, body: tt.body}
		srv := rec.start(t)
		a := newAdapter(t, srv.URL, restgw.Config{})
		_, err := a.Create(context.Background(), acme())
		e := sapError(t, err)
		if e.Kind != tt.wantKind {
			t.Errorf("Create() with HTTP %d %q: Kind = %v, want %v; error = %v", tt.status, tt.body, e.Kind, tt.wantKind, err)
		}
		if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
			t.Errorf("Create() with HTTP %d %q: error = %v, want it to wrap %v", tt.status, tt.body, err, tt.wantErr)
		}
	}
}

func TestCustomTemplateAndPaths(t *testing.T) {
	t.Parallel()
	rec := &recorder{status: http.StatusOK, body: `{"result":{"customers":[{"number":4711}]},
		"messages":[{"type":"w","id":"ZZ","number":"3","message":"Tax number not checked"},{"type":"","message":""}]}`}
	srv := rec.start(t)
	a := newAdapter(t, srv.URL, restgw.Config{
		CreatePath:      "/gw/customers?mode=sync",
		RequestTemplate: `{"name": {{json (line .Names 0)}}, "name4": {{json (line .Names 3)}}, "ref": {{json .ExternalRef}}, "ref_no": {{json (customerNo .ReferenceCustomer)}}}`,
		CustomerNoPath:  "result.customers.0.number",
		ReturnPath:      "messages",
	})

	res, err := a.Create(context.Background(), acme())
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	want := sap.CreateResult{CustomerNo: "0000004711", Messages: []sap.Message{{Type: "W", ID: "ZZ", Number: "3", Message: "Tax number not checked"}}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Create() mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/gw/customers?mode=sync"}, rec.paths); diff != "" {
		t.Errorf("request paths mismatch (-want +got):\n%s", diff)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(rec.bodies[0]), &body); err != nil {
		t.Fatalf("request body is not JSON: %v\n%s", err, rec.bodies[0])
	}
	wantBody := map[string]any{"name": "Acme Widgets Inc", "name4": "", "ref": "001DN00000ABC12IAB", "ref_no": "0000099999"}
	if diff := cmp.Diff(wantBody, body); diff != "" {
		t.Errorf("request body mismatch (-want +got):\n%s", diff)
	}
}

func TestLookupPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		body      string
		path      string
		wantNo    string
		wantFound bool
		wantKind  sap.Kind
	}{
		{"single value", `{"CUSTOMERNO":"100234"}`, "CUSTOMERNO", "0000100234", true, 0},
		{"rows, lowest wins", `{"RESULT_TAB":[{"CUSTOMER":"0000100300"},{"CUSTOMER":"0000100200"}]}`, "RESULT_TAB.*.CUSTOMER", "0000100200", true, 0},
		{"no rows", `{"RESULT_TAB":[],"RETURN":{"TYPE":"","MESSAGE":""}}`, "RESULT_TAB.*.CUSTOMER", "", false, 0},
		{"F2 718", `{"RETURN":{"TYPE":"E","ID":"F2","NUMBER":"718","MESSAGE":"No customers were found for the selection criteria"}}`, "RESULT_TAB.*.CUSTOMER", "", false, 0},
		{"error message", `{"RETURN":[{"TYPE":"E","ID":"F2","NUMBER":"543","MESSAGE":"No authorization"}]}`, "RESULT_TAB.*.CUSTOMER", "", false, sap.Permanent},
		{"lock message", `{"RETURN":[{"TYPE":"E","ID":"MC","NUMBER":"601","MESSAGE":"locked by BATCH01"}]}`, "RESULT_TAB.*.CUSTOMER", "", false, sap.Transient},
		{"not JSON", `<html/>`, "RESULT_TAB.*.CUSTOMER", "", false, sap.Transient},
	}
	for _, tt := range tests {
		rec := &recorder{status: http.StatusOK, body: tt.body}
		srv := rec.start(t)
		a := newAdapter(t, srv.URL, restgw.Config{
			LookupURL:            "/find/{{.ExternalRef}}?x={{.ExternalRef | urlquery}}",
			LookupCustomerNoPath: tt.path,
		})
		no, found, err := a.FindByExternalRef(context.Background(), " "+accountID)
		if tt.wantKind != 0 {
			if e := sapError(t, err); e.Kind != tt.wantKind {
				t.Errorf("%s: FindByExternalRef() error = %v, want %v", tt.name, err, tt.wantKind)
			}
			continue
		}
		if err != nil || no != tt.wantNo || found != tt.wantFound {
			t.Errorf("%s: FindByExternalRef() = %q, %v, %v; want %q, %v, nil", tt.name, no, found, err, tt.wantNo, tt.wantFound)
		}
		if rec.paths[0] != "/find/001DN00000ABC12IAB?x=001DN00000ABC12IAB" {
			t.Errorf("%s: lookup request URI = %q, want the upper-cased id in path and query", tt.name, rec.paths[0])
		}
	}
}

func TestLookupTimeoutIsTransient(t *testing.T) {
	t.Parallel()
	b := setup(t, restgw.WithTimeout(200*time.Millisecond))
	b.sim.SetLatency("BAPI_CUSTOMER_FIND", 5*time.Second)
	_, _, err := b.adapter.FindByExternalRef(context.Background(), accountID)
	if e := sapError(t, err); e.Kind != sap.Transient {
		t.Errorf("FindByExternalRef() Kind = %v, want transient; error = %v", e.Kind, err)
	}
}

func TestRenderDefaultTemplate(t *testing.T) {
	t.Parallel()
	a := newAdapter(t, "https://gateway.example.com:8175", restgw.Config{})
	if got := a.CreateURL(); got != "https://gateway.example.com:8175/services/CreateSAPCustomer" {
		t.Errorf("CreateURL() = %q", got)
	}
	c := acme()
	c.Names = []string{`Smith "Tools" & Sons`}
	c.Language = ""

	body, err := a.Render(c)
	if err != nil {
		t.Fatalf("Render() error = %v", err)
	}
	if !strings.Contains(string(body), `"NAME": "Smith \"Tools\" & Sons"`) {
		t.Errorf("Render() = %s, want the name with only the quotes escaped", body)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("Render() returned invalid JSON: %v\n%s", err, body)
	}
	want := map[string]any{
		"PI_COMPANYDATA": map[string]any{
			"NAME": `Smith "Tools" & Sons`, "NAME_2": "", "NAME_3": "", "NAME_4": "",
			"STREET": "Main St 100", "HOUSE_NO": "", "POSTL_COD1": "62701", "CITY": "Springfield",
			"COUNTRY": "US", "COUNTRYISO": "US", "REGION": "IL", "LANGU_ISO": "EN",
			"TEL1_NUMBR": "217-555-0100", "FAX_NUMBER": "", "E_MAIL": "ap@acme.example", "CURRENCY": "USD",
		},
		"PI_COPYREFERENCE": map[string]any{"SALESORG": "1000", "DISTR_CHAN": "10", "DIVISION": "00", "REF_CUSTMR": "0000099999"},
		"EXTERNAL_REF":     "001DN00000ABC12IAB",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Render() mismatch (-want +got):\n%s", diff)
	}

	c.ExternalRef = " "
	if _, err := a.Render(c); !errors.Is(err, restgw.ErrInvalidCustomer) {
		t.Errorf("Render() without external reference error = %v, want ErrInvalidCustomer", err)
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		baseURL string
		cfg     restgw.Config
		opts    []restgw.Option
		want    error
	}{
		{"relative base URL", "gateway:8175", restgw.Config{}, nil, restgw.ErrInvalidOption},
		{"zero timeout", "https://gw.example.com", restgw.Config{}, []restgw.Option{restgw.WithTimeout(0)}, restgw.ErrInvalidOption},
		{"user with colon", "https://gw.example.com", restgw.Config{}, []restgw.Option{restgw.WithBasicAuth("a:b", "")}, restgw.ErrInvalidOption},
		{"nil HTTP client", "https://gw.example.com", restgw.Config{}, []restgw.Option{restgw.WithHTTPClient(nil)}, restgw.ErrInvalidOption},
		{"template syntax", "https://gw.example.com", restgw.Config{RequestTemplate: `{"a": {{json .Nope}`}, nil, restgw.ErrInvalidConfig},
		{"template unknown field", "https://gw.example.com", restgw.Config{RequestTemplate: `{"a": {{json .Nope}}}`}, nil, restgw.ErrInvalidConfig},
		{"template not JSON", "https://gw.example.com", restgw.Config{RequestTemplate: `NAME={{.City}}`}, nil, restgw.ErrInvalidConfig},
		{"unquoted string", "https://gw.example.com", restgw.Config{RequestTemplate: `{"city": {{.City}}}`}, nil, restgw.ErrInvalidConfig},
		{"empty path segment", "https://gw.example.com", restgw.Config{CustomerNoPath: "a..b"}, nil, restgw.ErrInvalidConfig},
		{"lookup template syntax", "https://gw.example.com", restgw.Config{LookupURL: "/find?id={{.ExternalRef"}, nil, restgw.ErrInvalidConfig},
		{"lookup URL relative", "https://gw.example.com", restgw.Config{LookupURL: "find?id={{.ExternalRef}}"}, nil, restgw.ErrInvalidConfig},
		{"create path relative", "https://gw.example.com", restgw.Config{CreatePath: "services/Create"}, nil, restgw.ErrInvalidConfig},
		{"create URL ftp", "https://gw.example.com", restgw.Config{CreatePath: "ftp://gw.example.com/x"}, nil, restgw.ErrInvalidConfig},
		{"bad rule", "https://gw.example.com", restgw.Config{ReturnRules: []sap.Rule{{Type: "E", Outcome: "later"}}}, nil, restgw.ErrInvalidConfig},
	}
	for _, tt := range tests {
		_, err := restgw.New(tt.baseURL, tt.cfg, tt.opts...)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: New() error = %v, want %v", tt.name, err, tt.want)
		}
	}
}
