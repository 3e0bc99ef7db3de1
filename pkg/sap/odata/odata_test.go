package odata_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sap/odata"
	"github.com/sfsap/sfsap/pkg/sapsim"
)

const (
	testUser     = "SFSAP_ODATA"
	testPassword = "s3cret!"
	accountID    = "001Dn00000Abc12IAB"
)

var customerNoPattern = regexp.MustCompile(`^\d{10}$`)

type bundle struct {
	sim     *sapsim.Server
	adapter *odata.Adapter
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, nil))
}

// startSim starts an SAP simulator on a loopback port.
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

// newAdapter returns an adapter for the system at baseURL with the test
// credentials and client 100, followed by opts.
func newAdapter(t *testing.T, baseURL string, cfg odata.Config, opts ...odata.Option) *odata.Adapter {
	t.Helper()
	cfg.Logger = testLogger(t)
	opts = append([]odata.Option{odata.WithClient("100"), odata.WithBasicAuth(testUser, testPassword)}, opts...)
	a, err := odata.New(baseURL, cfg, opts...)
	if err != nil {
		t.Fatalf("odata.New() error = %v", err)
	}
	return a
}

// setup starts a simulator and returns an adapter that reaches it over
// HTTP.
func setup(t *testing.T, simOpts sapsim.Options, cfg odata.Config, opts ...odata.Option) bundle {
	t.Helper()
	sim := startSim(t, simOpts)
	return bundle{sim: sim, adapter: newAdapter(t, sim.URL(), cfg, opts...)}
}

func acme() sap.Customer {
	return sap.Customer{
		Names:               []string{"Acme Widgets Inc", "Accounts Payable"},
		Street:              "Main St",
		HouseNo:             "100",
		PostalCode:          "62701",
		City:                "Springfield",
		Country:             "US",
		Region:              "IL",
		Language:            "en",
		Phone:               "217-555-0100",
		Fax:                 "217-555-0101",
		Email:               "ap@acme.example",
		Currency:            "USD",
		CompanyCode:         "1000",
		SalesOrg:            "1000",
		DistributionChannel: "10",
		Division:            "00",
		ExternalRef:         accountID,
	}
}

// sapError returns err as *sap.Error or fails the test.
func sapError(t *testing.T, err error) *sap.Error {
	t.Helper()
	var e *sap.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want *sap.Error", err)
	}
	return e
}

func TestCreate(t *testing.T) {
	t.Parallel()
	b := setup(t, sapsim.Options{}, odata.Config{})

	res, err := b.adapter.Create(context.Background(), acme())
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	if !customerNoPattern.MatchString(res.CustomerNo) {
		t.Fatalf("Create() CustomerNo = %q, want 10 digits", res.CustomerNo)
	}
	if len(res.Messages) != 0 {
		t.Errorf("Create() Messages = %v, want none", res.Messages)
	}

	got, ok := b.sim.Customer(res.CustomerNo)
	if !ok {
		t.Fatalf("simulator has no customer %s", res.CustomerNo)
	}
	want := sapsim.Customer{
		Number:       res.CustomerNo,
		ExternalRef:  strings.ToUpper(accountID),
		Name:         "Acme Widgets Inc",
		Name2:        "Accounts Payable",
		Street:       "Main St",
		HouseNo:      "100",
		PostalCode:   "62701",
		City:         "Springfield",
		Country:      "US",
		Region:       "IL",
		Language:     "E",
		Phone:        "217-555-0100",
		Fax:          "217-555-0101",
		Email:        "ap@acme.example",
		Currency:     "USD",
		AccountGroup: "0001",
		SalesArea:    sapsim.SalesArea{SalesOrg: "1000", DistributionChannel: "10", Division: "00"},
		CompanyCodes: []string{"1000"},
		Reference:    "0000099999",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("simulator customer mismatch (-want +got):\n%s", diff)
	}
	if n := b.sim.ODataSessions(); n != 1 {
		t.Errorf("ODataSessions() = %d, want 1 token fetch", n)
	}
}

func TestCreateWithoutCompanyCode(t *testing.T) {
	t.Parallel()
	b := setup(t, sapsim.Options{}, odata.Config{})
	c := acme()
	c.CompanyCode = ""

	res, err := b.adapter.Create(context.Background(), c)
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	got, _ := b.sim.Customer(res.CustomerNo)
	if len(got.CompanyCodes) != 0 {
		t.Errorf("CompanyCodes = %v, want none", got.CompanyCodes)
	}
}

func TestCreateDefaults(t *testing.T) {
	t.Parallel()
	b := setup(t, sapsim.Options{}, odata.Config{DefaultCurrency: "eur"})
	c := acme()
	c.Language = ""
	c.Currency = ""

	res, err := b.adapter.Create(context.Background(), c)
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	got, _ := b.sim.Customer(res.CustomerNo)
	if got.Language != "E" {
		t.Errorf("Language = %q, want E from the default EN", got.Language)
	}
	if got.Currency != "EUR" {
		t.Errorf("Currency = %q, want EUR from default_currency", got.Currency)
	}
}

func TestFindByExternalRef(t *testing.T) {
	t.Parallel()
	b := setup(t, sapsim.Options{}, odata.Config{})
	ctx := context.Background()

	_, found, err := b.adapter.FindByExternalRef(ctx, accountID)
	if err != nil || found {
		t.Fatalf("FindByExternalRef(%s) before create = found %v, error %v; want not found", accountID, found, err)
	}
	res, err := b.adapter.Create(ctx, acme())
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}

	// The lookup upper-cases the id as the create stored it.
	for _, ref := range []string{accountID, strings.ToLower(accountID), " " + accountID + " "} {
		no, found, err := b.adapter.FindByExternalRef(ctx, ref)
		if err != nil {
			t.Fatalf("FindByExternalRef(%q) error = %v", ref, err)
		}
		if !found || no != res.CustomerNo {
			t.Errorf("FindByExternalRef(%q) = %q, %v; want %q, true", ref, no, found, res.CustomerNo)
		}
	}
	if n := b.sim.Calls(sapsim.ODataQuery); n != 4 {
		t.Errorf("Calls(%s) = %d, want 4", sapsim.ODataQuery, n)
	}
}

func TestFindByExternalRefDuplicates(t *testing.T) {
	t.Parallel()
	b := setup(t, sapsim.Options{}, odata.Config{})
	ctx := context.Background()

	var first string
	for i := range 2 {
		res, err := b.adapter.Create(ctx, acme())
		if err != nil {
			t.Fatalf("Create() #%d error = %v", i+1, err)
		}
		if i == 0 {
			first = res.CustomerNo
		}
	}
	no, found, err := b.adapter.FindByExternalRef(ctx, accountID)
	if err != nil || !found {
		t.Fatalf("FindByExternalRef() = %q, %v, %v; want the lowest number", no, found, err)
	}
	if no != first {
		t.Errorf("FindByExternalRef() = %q, want the lowest number %q", no, first)
	}
}

func TestFindByExternalRefInvalid(t *testing.T) {
	t.Parallel()
	a := newAdapter(t, "http://127.0.0.1:1", odata.Config{})
	for _, ref := range []string{"", "   ", strings.Repeat("A", 21)} {
		_, _, err := a.FindByExternalRef(context.Background(), ref)
		if e := sapError(t, err); e.Kind != sap.Permanent || !errors.Is(err, odata.ErrInvalidCustomer) {
			t.Errorf("FindByExternalRef(%q) error = %v, want Permanent wrapping ErrInvalidCustomer", ref, err)
		}
	}
}

func TestFindByExternalRefFailureIsTransient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inject func(*sapsim.Server)
		opts   []odata.Option
	}{
		{"503", func(s *sapsim.Server) { s.InjectHTTPStatus(503, 1) }, nil},
		{"timeout", func(s *sapsim.Server) { s.SetLatency(sapsim.ODataQuery, 5*time.Second) }, []odata.Option{odata.WithTimeout(200 * time.Millisecond)}},
		{"lock message", func(s *sapsim.Server) {
			s.InjectReturn(sapsim.ODataQuery, 1, sap.Message{Type: "E", ID: "MC", Number: "601", Message: "Object requested is currently locked by user BATCH01"})
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, sapsim.Options{}, odata.Config{}, tt.opts...)
			tt.inject(b.sim)
			_, _, err := b.adapter.FindByExternalRef(context.Background(), accountID)
			if e := sapError(t, err); e.Kind != sap.Transient {
				t.Errorf("FindByExternalRef() Kind = %v, want transient; error = %v", e.Kind, err)
			}
		})
	}
}

func TestCreateValidationErrorsArePermanent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		edit     func(*sap.Customer)
		cfg      odata.Config
		wantCode string
	}{
		{"missing currency", func(c *sap.Customer) { c.Currency = "" }, odata.Config{}, "CVI_API/003"},
		{"unknown country", func(c *sap.Customer) { c.Country = "XX"; c.Region = "" }, odata.Config{}, "AR/001"},
		{"unknown region", func(c *sap.Customer) { c.Region = "ZZ" }, odata.Config{}, "AR/002"},
		{"postal code length", func(c *sap.Customer) { c.PostalCode = "627" }, odata.Config{}, "AR/003"},
		{"unknown sales area", func(c *sap.Customer) { c.SalesOrg = "9999" }, odata.Config{}, "ZSIM/029"},
		{"no sales role", func(c *sap.Customer) {}, odata.Config{Roles: []string{"FLCU00"}}, "ZSIM/027"},
		{"name too long", func(c *sap.Customer) { c.Names[0] = strings.Repeat("N", 36) }, odata.Config{}, "ZSIM/004"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, sapsim.Options{}, tt.cfg)
			c := acme()
			tt.edit(&c)

			_, err := b.adapter.Create(context.Background(), c)
			e := sapError(t, err)
			if e.Kind != sap.Permanent {
				t.Errorf("Create() Kind = %v, want permanent; error = %v", e.Kind, err)
			}
			if e.Code() != tt.wantCode {
				t.Errorf("Create() Code() = %q, want %q; messages %v", e.Code(), tt.wantCode, e.Messages)
			}
			if e.HTTPStatus != 400 {
				t.Errorf("Create() HTTPStatus = %d, want 400", e.HTTPStatus)
			}
			if len(e.Messages) != 1 {
				t.Errorf("Create() Messages = %v, want one (the errordetails copy dropped)", e.Messages)
			}
			if n := b.sim.CountByExternalRef(strings.ToUpper(accountID)); n != 0 {
				t.Errorf("CountByExternalRef() = %d, want 0", n)
			}
		})
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
			b := setup(t, sapsim.Options{}, odata.Config{})
			b.sim.InjectReturn(sapsim.ODataCreate, 1, tt.message)

			res, err := b.adapter.Create(context.Background(), acme())
			count := b.sim.CountByExternalRef(strings.ToUpper(accountID))
			if tt.wantKind == 0 {
				if err != nil {
					t.Fatalf("Create() error = %v, want success", err)
				}
				want := []sap.Message{{Type: "W", ID: "", Number: "", Message: tt.message.Message}}
				if diff := cmp.Diff(want, res.Messages); diff != "" {
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
			if e.Code() != tt.message.ID+"/"+tt.message.Number {
				t.Errorf("Create() Code() = %q, want %s/%s", e.Code(), tt.message.ID, tt.message.Number)
			}
			if count != 0 {
				t.Errorf("CountByExternalRef() = %d, want 0", count)
			}
		})
	}
}

func TestCreateLockIsTransient(t *testing.T) {
	t.Parallel()
	b := setup(t, sapsim.Options{}, odata.Config{})
	b.sim.InjectLockErrors(1)
	ctx := context.Background()

	_, err := b.adapter.Create(ctx, acme())
	if e := sapError(t, err); e.Kind != sap.Transient || e.Code() != "MC/601" {
		t.Fatalf("Create() error = %v, want transient MC/601", err)
	}
	if _, err := b.adapter.Create(ctx, acme()); err != nil {
		t.Fatalf("Create() after the lock error = %v", err)
	}
	if n := b.sim.CountByExternalRef(strings.ToUpper(accountID)); n != 1 {
		t.Errorf("CountByExternalRef() = %d, want 1", n)
	}
}

func TestCreateRejectsUnmappableCustomer(t *testing.T) {
	t.Parallel()
	b := setup(t, sapsim.Options{}, odata.Config{})
	tests := []struct {
		name string
		edit func(*sap.Customer)
	}{
		{"no external reference", func(c *sap.Customer) { c.ExternalRef = "" }},
		{"external reference too long", func(c *sap.Customer) { c.ExternalRef = strings.Repeat("A", 21) }},
		{"no name", func(c *sap.Customer) { c.Names = nil }},
		{"five name lines", func(c *sap.Customer) { c.Names = []string{"a", "b", "c", "d", "e"} }},
	}
	for _, tt := range tests {
		c := acme()
		tt.edit(&c)
		_, err := b.adapter.Create(context.Background(), c)
		e := sapError(t, err)
		if e.Kind != sap.Permanent || !errors.Is(err, odata.ErrInvalidCustomer) {
			t.Errorf("%s: Create() error = %v, want Permanent wrapping ErrInvalidCustomer", tt.name, err)
		}
	}
	if n := b.sim.Calls(sapsim.ODataCreate); n != 0 {
		t.Errorf("Calls(%s) = %d, want 0", sapsim.ODataCreate, n)
	}
}

func TestCreateLogonFailureIsPermanent(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sapsim.Options{})
	tests := []struct {
		name string
		opts []odata.Option
	}{
		{"wrong password", []odata.Option{odata.WithBasicAuth(testUser, "wrong")}},
		{"wrong client", []odata.Option{odata.WithClient("200")}},
	}
	for _, tt := range tests {
		a := newAdapter(t, sim.URL(), odata.Config{}, tt.opts...)
		_, err := a.Create(context.Background(), acme())
		e := sapError(t, err)
		if e.Kind != sap.Permanent || e.HTTPStatus != 401 || !errors.Is(err, odata.ErrUnauthorized) {
			t.Errorf("%s: Create() error = %v, want Permanent 401 wrapping ErrUnauthorized", tt.name, err)
		}
	}
}

func TestCreateUnavailableIsTransient(t *testing.T) {
	t.Parallel()
	b := setup(t, sapsim.Options{}, odata.Config{})
	ctx := context.Background()

	// The first 503 hits the token fetch.
	b.sim.InjectHTTPStatus(503, 1)
	_, err := b.adapter.Create(ctx, acme())
	if e := sapError(t, err); e.Kind != sap.Transient || e.HTTPStatus != 503 {
		t.Fatalf("Create() with 503 on the token fetch: error = %v, want transient 503", err)
	}
	if _, err := b.adapter.Create(ctx, acme()); err != nil {
		t.Fatalf("Create() error = %v", err)
	}

	// With a token in hand, the next 503 hits the POST.
	b.sim.InjectHTTPStatus(503, 1)
	_, err = b.adapter.Create(ctx, acme())
	if e := sapError(t, err); e.Kind != sap.Transient || e.HTTPStatus != 503 {
		t.Fatalf("Create() with 503 on the POST: error = %v, want transient 503", err)
	}
	if n := b.sim.CountByExternalRef(strings.ToUpper(accountID)); n != 1 {
		t.Errorf("CountByExternalRef() = %d, want 1", n)
	}
}

func TestCreateConnectionRefusedIsTransient(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen() error = %v", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()

	a := newAdapter(t, "http://"+addr, odata.Config{})
	_, err = a.Create(context.Background(), acme())
	if e := sapError(t, err); e.Kind != sap.Transient {
		t.Errorf("Create() Kind = %v, want transient; error = %v", e.Kind, err)
	}
}

// TestTimeoutAfterCommitThenFind covers a create whose response is lost
// after SAP committed: the outcome is Unknown, and the lookup finds
// exactly one customer, so no second create is needed.
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
			b := setup(t, sapsim.Options{}, odata.Config{}, odata.WithTimeout(500*time.Millisecond))
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
			if _, ok := b.sim.Customer(no); !ok {
				t.Errorf("simulator has no customer %s", no)
			}
		})
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		baseURL string
		cfg     odata.Config
		opts    []odata.Option
		want    error
	}{
		{"relative URL", "s4.example.com", odata.Config{}, nil, odata.ErrInvalidOption},
		{"ftp URL", "ftp://s4.example.com", odata.Config{}, nil, odata.ErrInvalidOption},
		{"URL with query", "https://s4.example.com?sap-client=100", odata.Config{}, nil, odata.ErrInvalidOption},
		{"client of two digits", "https://s4.example.com", odata.Config{}, []odata.Option{odata.WithClient("10")}, odata.ErrInvalidOption},
		{"language of three letters", "https://s4.example.com", odata.Config{}, []odata.Option{odata.WithLanguage("ENG")}, odata.ErrInvalidOption},
		{"user with colon", "https://s4.example.com", odata.Config{}, []odata.Option{odata.WithBasicAuth("a:b", "x")}, odata.ErrInvalidOption},
		{"zero timeout", "https://s4.example.com", odata.Config{}, []odata.Option{odata.WithTimeout(0)}, odata.ErrInvalidOption},
		{"nil HTTP client", "https://s4.example.com", odata.Config{}, []odata.Option{odata.WithHTTPClient(nil)}, odata.ErrInvalidOption},
		{"relative service path", "https://s4.example.com", odata.Config{ServicePath: "sap/opu"}, nil, odata.ErrInvalidConfig},
		{"long grouping", "https://s4.example.com", odata.Config{Grouping: "BP002"}, nil, odata.ErrInvalidConfig},
		{"empty roles", "https://s4.example.com", odata.Config{Roles: []string{}}, nil, odata.ErrInvalidConfig},
		{"long role", "https://s4.example.com", odata.Config{Roles: []string{"FLCU0001"}}, nil, odata.ErrInvalidConfig},
		{"bad language", "https://s4.example.com", odata.Config{DefaultLanguage: "ENG"}, nil, odata.ErrInvalidConfig},
		{"bad currency", "https://s4.example.com", odata.Config{DefaultCurrency: "EURO"}, nil, odata.ErrInvalidConfig},
		{"bad rule", "https://s4.example.com", odata.Config{ReturnRules: []sap.Rule{{Outcome: "maybe", Type: "E"}}}, nil, odata.ErrInvalidConfig},
	}
	for _, tt := range tests {
		_, err := odata.New(tt.baseURL, tt.cfg, tt.opts...)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: New(%q) error = %v, want %v", tt.name, tt.baseURL, err, tt.want)
		}
	}
}

func TestServiceRoot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		baseURL string
		cfg     odata.Config
		want    string
	}{
		{"https://s4.example.com:44300", odata.Config{}, "https://s4.example.com:44300/sap/opu/odata/sap/API_BUSINESS_PARTNER"},
		{"https://s4.example.com:44300/", odata.Config{}, "https://s4.example.com:44300/sap/opu/odata/sap/API_BUSINESS_PARTNER"},
		{"https://gw.example.com/s4", odata.Config{ServicePath: "/sap/opu/odata/sap/API_BUSINESS_PARTNER/"}, "https://gw.example.com/s4/sap/opu/odata/sap/API_BUSINESS_PARTNER"},
	}
	for _, tt := range tests {
		a, err := odata.New(tt.baseURL, tt.cfg)
		if err != nil {
			t.Fatalf("New(%q) error = %v", tt.baseURL, err)
		}
		if got := a.ServiceRoot(); got != tt.want {
			t.Errorf("New(%q).ServiceRoot() = %q, want %q", tt.baseURL, got, tt.want)
		}
	}
}
