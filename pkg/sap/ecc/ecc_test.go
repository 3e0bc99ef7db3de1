package ecc_test

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sap/ecc"
	"github.com/sfsap/sfsap/pkg/sap/rfc"
	"github.com/sfsap/sfsap/pkg/sap/soaprfc"
	"github.com/sfsap/sfsap/pkg/sapsim"
)

const (
	testUser     = "SFSAP_RFC"
	testPassword = "s3cret!"
	accountID    = "001Dn00000Abc12IAB"
)

var customerNoPattern = regexp.MustCompile(`^\d{10}$`)

type bundle struct {
	sim     *sapsim.Server
	client  *soaprfc.Client
	adapter *ecc.Adapter
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// setup starts a simulator and returns an adapter that reaches it over
// HTTP through the SOAP-RFC client.
func setup(t *testing.T, simOpts sapsim.Options, cfg ecc.Config, clientOpts ...soaprfc.Option) bundle {
	t.Helper()
	simOpts.User, simOpts.Password = testUser, testPassword
	sim := sapsim.New(simOpts)
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("starting simulator: %v", err)
	}
	t.Cleanup(func() { _ = sim.Close() })

	clientOpts = append([]soaprfc.Option{soaprfc.WithClient("100"), soaprfc.WithBasicAuth(testUser, testPassword)}, clientOpts...)
	client, err := soaprfc.New(sim.URL(), clientOpts...)
	if err != nil {
		t.Fatalf("soaprfc.New() error = %v", err)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	adapter, err := ecc.New(client, cfg)
	if err != nil {
		t.Fatalf("ecc.New() error = %v", err)
	}
	return bundle{sim: sim, client: client, adapter: adapter}
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
		Email:               "ap@acme.example",
		Currency:            "USD",
		SalesOrg:            "1000",
		DistributionChannel: "10",
		Division:            "00",
		ReferenceCustomer:   "99999",
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

	for _, mode := range []ecc.CommitMode{ecc.CommitWrapper, ecc.CommitSession} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			b := setup(t, sapsim.Options{Stateful: true}, ecc.Config{CommitMode: mode})

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
				Number: res.CustomerNo, ExternalRef: strings.ToUpper(accountID),
				Name: "Acme Widgets Inc", Name2: "Accounts Payable", Street: "Main St", HouseNo: "100",
				PostalCode: "62701", City: "Springfield", Country: "US", Region: "IL", Language: "E",
				Phone: "217-555-0100", Email: "ap@acme.example", Currency: "USD", AccountGroup: "0001",
				SalesArea:    sapsim.SalesArea{SalesOrg: "1000", DistributionChannel: "10", Division: "00"},
				CompanyCodes: []string{"1000", "2000"}, Reference: "0000099999",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("stored customer mismatch (-want +got):\n%s", diff)
			}
			if n := b.sim.Calls("BAPI_CUSTOMER_GETDETAIL2"); n != 1 {
				t.Errorf("Calls(BAPI_CUSTOMER_GETDETAIL2) = %d, want 1 read-back", n)
			}
		})
	}
}

func TestCreateSessionModeCalls(t *testing.T) {
	t.Parallel()

	b := setup(t, sapsim.Options{Stateful: true}, ecc.Config{CommitMode: ecc.CommitSession})
	if _, err := b.adapter.Create(context.Background(), acme()); err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	calls := map[string]int{
		"BAPI_CUSTOMER_CREATEFROMDATA1": 1,
		"Z_SFSAP_SET_EXTERNAL_REF":      1,
		"BAPI_TRANSACTION_COMMIT":       1,
		"BAPI_TRANSACTION_ROLLBACK":     0,
		"Z_SFSAP_CUSTOMER_CREATE":       0,
	}
	for fm, want := range calls {
		if got := b.sim.Calls(fm); got != want {
			t.Errorf("Calls(%s) = %d, want %d", fm, got, want)
		}
	}
}

func TestCreateSAPLanguageKey(t *testing.T) {
	t.Parallel()

	b := setup(t, sapsim.Options{}, ecc.Config{LanguageField: "LANGU"})
	c := acme()
	c.Language = "de"
	res, err := b.adapter.Create(context.Background(), c)
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	if got, _ := b.sim.Customer(res.CustomerNo); got.Language != "D" {
		t.Errorf("stored language = %q, want D", got.Language)
	}

	c.Language = "xx"
	_, err = b.adapter.Create(context.Background(), c)
	if !errors.Is(err, ecc.ErrInvalidCustomer) || sap.KindOf(err) != sap.Permanent {
		t.Errorf("Create() with language xx error = %v, want a permanent %v", err, ecc.ErrInvalidCustomer)
	}
}

func TestCreateDefaultLanguage(t *testing.T) {
	t.Parallel()

	b := setup(t, sapsim.Options{}, ecc.Config{DefaultLanguage: "fr"})
	c := acme()
	c.Language = ""
	res, err := b.adapter.Create(context.Background(), c)
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	if got, _ := b.sim.Customer(res.CustomerNo); got.Language != "F" {
		t.Errorf("stored language = %q, want F from the default", got.Language)
	}
}

func TestCreateValidationErrorsArePermanent(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		change   func(*sap.Customer)
		wantCode string
		wantText string
	}{
		{"missing name", func(c *sap.Customer) { c.Names = nil }, "ZSIM/003", "NAME"},
		{"missing city", func(c *sap.Customer) { c.City = "" }, "ZSIM/003", "CITY"},
		{"missing country", func(c *sap.Customer) { c.Country = "" }, "ZSIM/003", "COUNTRY"},
		{"long name", func(c *sap.Customer) { c.Names = []string{strings.Repeat("A", 36)} }, "ZSIM/004", "35"},
		{"long street", func(c *sap.Customer) { c.Street = strings.Repeat("S", 61) }, "ZSIM/004", "STREET"},
		{"long city", func(c *sap.Customer) { c.City = strings.Repeat("C", 41) }, "ZSIM/004", "CITY"},
		{"long postal code", func(c *sap.Customer) { c.PostalCode = "12345-67890" }, "ZSIM/004", "POSTL_COD1"},
		{"long region", func(c *sap.Customer) { c.Region = "ILLI" }, "ZSIM/004", "REGION"},
		{"unknown country", func(c *sap.Customer) { c.Country = "XK"; c.Region = "" }, "AR/001", "Country key XK"},
		{"unknown language", func(c *sap.Customer) { c.Language = "xx" }, "ZSIM/005", "Language XX"},
		{"unknown currency", func(c *sap.Customer) { c.Currency = "ABC" }, "ZSIM/006", "Currency ABC"},
		{"state name as region", func(c *sap.Customer) { c.Country = "DE"; c.Region = "BAY"; c.PostalCode = "80331" }, "AR/002", "Region BAY is not defined for country DE"},
		{"US postal code length", func(c *sap.Customer) { c.PostalCode = "627" }, "AR/003", "length 5"},
		{"US postal code letters", func(c *sap.Customer) { c.PostalCode = "6270X" }, "AR/004", "numbers"},
		{"DE postal code blanks", func(c *sap.Customer) { c.Country = "DE"; c.Region = "09"; c.PostalCode = "80 31" }, "AR/005", "blanks"},
		{"incomplete sales area", func(c *sap.Customer) { c.Division = "" }, "F2/267", "sales area"},
		{"missing reference", func(c *sap.Customer) { c.ReferenceCustomer = "4711" }, "F2/502", "0000004711"},
		{"reference not in sales area", func(c *sap.Customer) { c.SalesOrg = "3000" }, "F2/156", "sales area 3000 10 00"},
	}
	for _, mode := range []ecc.CommitMode{ecc.CommitWrapper, ecc.CommitSession} {
		b := setup(t, sapsim.Options{Stateful: true}, ecc.Config{CommitMode: mode})
		for _, tt := range tests {
			t.Run(string(mode)+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				c := acme()
				tt.change(&c)
				res, err := b.adapter.Create(context.Background(), c)
				if err == nil {
					t.Fatalf("Create() = %+v, want an error", res)
				}
				e := sapError(t, err)
				if e.Kind != sap.Permanent {
					t.Errorf("Kind = %v, want %v (error %v)", e.Kind, sap.Permanent, err)
				}
				if got := e.Code(); got != tt.wantCode {
					t.Errorf("Code() = %q, want %q (error %v)", got, tt.wantCode, err)
				}
				if !strings.Contains(err.Error(), tt.wantText) {
					t.Errorf("error = %v, want it to contain %q", err, tt.wantText)
				}
			})
		}
		t.Cleanup(func() {
			if got := len(b.sim.Customers()); got != 0 {
				t.Errorf("%s: len(Customers()) = %d, want 0 after rejected creates", mode, got)
			}
		})
	}
}

func TestCreateLockIsTransient(t *testing.T) {
	t.Parallel()

	for _, mode := range []ecc.CommitMode{ecc.CommitWrapper, ecc.CommitSession} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			b := setup(t, sapsim.Options{Stateful: true}, ecc.Config{CommitMode: mode})
			b.sim.InjectLockErrors(1)

			_, err := b.adapter.Create(context.Background(), acme())
			e := sapError(t, err)
			if e.Kind != sap.Transient {
				t.Fatalf("Kind = %v, want %v (error %v)", e.Kind, sap.Transient, err)
			}
			if e.Code() != "MC/601" {
				t.Errorf("Code() = %q, want MC/601", e.Code())
			}

			res, err := b.adapter.Create(context.Background(), acme())
			if err != nil {
				t.Fatalf("Create() after the lock error = %v", err)
			}
			if !customerNoPattern.MatchString(res.CustomerNo) {
				t.Errorf("CustomerNo = %q, want 10 digits", res.CustomerNo)
			}
			if got := b.sim.CountByExternalRef(strings.ToUpper(accountID)); got != 1 {
				t.Errorf("CountByExternalRef() = %d, want 1", got)
			}
		})
	}
}

func TestCreateReturnClassification(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		msg      sap.Message
		rules    []sap.Rule
		wantKind sap.Kind
	}{
		{"lock text", sap.Message{Type: "E", ID: "ZZ", Number: "002", Message: "Customer data locked by user BATCH01"}, nil, sap.Transient},
		{"reference not maintained", sap.Message{Type: "E", ID: "ZZ", Number: "001", Message: "Reference customer 900001 not maintained for sales area 1000/10/00"}, nil, sap.Permanent},
		{"abort", sap.Message{Type: "A", ID: "F2", Number: "999", Message: "Termination"}, nil, sap.Permanent},
		{"user rule", sap.Message{Type: "E", ID: "ZZ", Number: "077", Message: "Number range buffer busy"},
			[]sap.Rule{{ID: "ZZ", Number: "077", Outcome: sap.OutcomeTransient}}, sap.Transient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, sapsim.Options{}, ecc.Config{ReturnRules: tt.rules})
			b.sim.InjectReturn("Z_SFSAP_CUSTOMER_CREATE", 1, tt.msg)

			_, err := b.adapter.Create(context.Background(), acme())
			e := sapError(t, err)
			if e.Kind != tt.wantKind {
				t.Errorf("Kind = %v, want %v (error %v)", e.Kind, tt.wantKind, err)
			}
			if diff := cmp.Diff([]sap.Message{tt.msg}, e.Messages); diff != "" {
				t.Errorf("Messages mismatch (-want +got):\n%s", diff)
			}
			if got := len(b.sim.Customers()); got != 0 {
				t.Errorf("len(Customers()) = %d, want 0", got)
			}
		})
	}
}

func TestCreateWarningWithNumberSucceeds(t *testing.T) {
	t.Parallel()

	b := setup(t, sapsim.Options{}, ecc.Config{})
	warning := sap.Message{Type: "W", Message: "Tax number not checked"}
	b.sim.InjectReturn("Z_SFSAP_CUSTOMER_CREATE", 1, warning)

	res, err := b.adapter.Create(context.Background(), acme())
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	if !customerNoPattern.MatchString(res.CustomerNo) {
		t.Errorf("CustomerNo = %q, want 10 digits", res.CustomerNo)
	}
	if diff := cmp.Diff([]sap.Message{warning}, res.Messages); diff != "" {
		t.Errorf("Messages mismatch (-want +got):\n%s", diff)
	}
}

func TestCreateRejectsUnmappableCustomer(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		change func(*sap.Customer)
	}{
		{"no external ref", func(c *sap.Customer) { c.ExternalRef = " " }},
		{"five names", func(c *sap.Customer) { c.Names = []string{"a", "b", "c", "d", "e"} }},
	}
	b := setup(t, sapsim.Options{}, ecc.Config{})
	for _, tt := range tests {
		c := acme()
		tt.change(&c)
		_, err := b.adapter.Create(context.Background(), c)
		if !errors.Is(err, ecc.ErrInvalidCustomer) || sap.KindOf(err) != sap.Permanent {
			t.Errorf("%s: Create() error = %v, want a permanent %v", tt.name, err, ecc.ErrInvalidCustomer)
		}
	}
	if got := b.sim.Calls("Z_SFSAP_CUSTOMER_CREATE"); got != 0 {
		t.Errorf("Calls(Z_SFSAP_CUSTOMER_CREATE) = %d, want 0", got)
	}
}

func TestFindByExternalRef(t *testing.T) {
	t.Parallel()

	b := setup(t, sapsim.Options{}, ecc.Config{})
	ctx := context.Background()

	if _, found, err := b.adapter.FindByExternalRef(ctx, accountID); err != nil || found {
		t.Fatalf("FindByExternalRef() before create = found %v, error %v, want not found", found, err)
	}
	res, err := b.adapter.Create(ctx, acme())
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	other := acme()
	other.ExternalRef = "001Dn00000Xyz99IAB"
	if _, err := b.adapter.Create(ctx, other); err != nil {
		t.Fatalf("Create() of a second account error = %v", err)
	}

	for _, ref := range []string{accountID, strings.ToLower(accountID), " " + accountID} {
		no, found, err := b.adapter.FindByExternalRef(ctx, ref)
		if err != nil || !found || no != res.CustomerNo {
			t.Errorf("FindByExternalRef(%q) = %q, %v, %v, want %q, true, nil", ref, no, found, err, res.CustomerNo)
		}
	}
}

func TestFindByExternalRefCustomField(t *testing.T) {
	t.Parallel()

	b := setup(t, sapsim.Options{ExternalRefTable: "ADRC", ExternalRefField: "SORT2"},
		ecc.Config{ExternalRefTable: "ADRC", ExternalRefField: "SORT2"})
	res, err := b.adapter.Create(context.Background(), acme())
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	no, found, err := b.adapter.FindByExternalRef(context.Background(), accountID)
	if err != nil || !found || no != res.CustomerNo {
		t.Fatalf("FindByExternalRef() = %q, %v, %v, want %q, true, nil", no, found, err, res.CustomerNo)
	}
}

func TestFindByExternalRefReturns(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		msg       sap.Message
		wantFound bool
		wantKind  sap.Kind
	}{
		{"nothing found message", sap.Message{Type: "E", ID: "F2", Number: "718", Message: "No customers were found for the selection criteria"}, false, 0},
		{"authorization error", sap.Message{Type: "E", ID: "F2", Number: "543", Message: "No authorization to display general data"}, false, sap.Permanent},
		{"lock", sap.Message{Type: "E", ID: "MC", Number: "601", Message: "Object requested is currently locked by user X"}, false, sap.Transient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, sapsim.Options{}, ecc.Config{})
			b.sim.InjectReturn("BAPI_CUSTOMER_FIND", 1, tt.msg)
			_, found, err := b.adapter.FindByExternalRef(context.Background(), accountID)
			if found != tt.wantFound {
				t.Errorf("found = %v, want %v", found, tt.wantFound)
			}
			if got := sap.KindOf(err); got != tt.wantKind {
				t.Errorf("KindOf(error) = %v, want %v (error %v)", got, tt.wantKind, err)
			}
		})
	}
}

func TestFindByExternalRefDuplicates(t *testing.T) {
	t.Parallel()

	b := setup(t, sapsim.Options{}, ecc.Config{})
	ctx := context.Background()
	var numbers []string
	for range 2 {
		res, err := b.adapter.Create(ctx, acme())
		if err != nil {
			t.Fatalf("Create() error = %v", err)
		}
		numbers = append(numbers, res.CustomerNo)
	}
	no, found, err := b.adapter.FindByExternalRef(ctx, accountID)
	if err != nil || !found || no != numbers[0] {
		t.Fatalf("FindByExternalRef() = %q, %v, %v, want the lowest number %q", no, found, err, numbers[0])
	}
}

func TestFindByExternalRefTimeoutIsTransient(t *testing.T) {
	t.Parallel()

	b := setup(t, sapsim.Options{}, ecc.Config{}, soaprfc.WithTimeout(100*time.Millisecond))
	b.sim.SetLatency("BAPI_CUSTOMER_FIND", 5*time.Second)
	_, _, err := b.adapter.FindByExternalRef(context.Background(), accountID)
	if got := sap.KindOf(err); got != sap.Transient {
		t.Fatalf("KindOf(error) = %v, want %v: a lookup changes nothing (error %v)", got, sap.Transient, err)
	}
}

func TestFindByExternalRefEmpty(t *testing.T) {
	t.Parallel()

	b := setup(t, sapsim.Options{}, ecc.Config{})
	_, _, err := b.adapter.FindByExternalRef(context.Background(), "  ")
	if !errors.Is(err, ecc.ErrInvalidCustomer) {
		t.Fatalf("FindByExternalRef(blank) error = %v, want %v", err, ecc.ErrInvalidCustomer)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		cfg  ecc.Config
	}{
		{"commit mode", ecc.Config{CommitMode: "auto"}},
		{"language field", ecc.Config{LanguageField: "LANGUAGE"}},
		{"default language", ecc.Config{DefaultLanguage: "english"}},
		{"function name", ecc.Config{CreateFunction: "Z_CREATE <X>"}},
		{"field name", ecc.Config{ExternalRefField: "ZZ SFID"}},
		{"rule", ecc.Config{ReturnRules: []sap.Rule{{Type: "E", Outcome: "retry"}}}},
	}
	client, err := soaprfc.New("http://127.0.0.1:1")
	if err != nil {
		t.Fatalf("soaprfc.New() error = %v", err)
	}
	for _, tt := range tests {
		if _, err := ecc.New(client, tt.cfg); !errors.Is(err, ecc.ErrInvalidConfig) {
			t.Errorf("%s: New() error = %v, want %v", tt.name, err, ecc.ErrInvalidConfig)
		}
	}
}

// statelessCaller hides the session support of a Caller.
type statelessCaller struct{ rfc.Caller }

func TestNewSessionModeNeedsSessions(t *testing.T) {
	t.Parallel()

	client, err := soaprfc.New("http://127.0.0.1:1")
	if err != nil {
		t.Fatalf("soaprfc.New() error = %v", err)
	}
	_, err = ecc.New(statelessCaller{client}, ecc.Config{CommitMode: ecc.CommitSession})
	if !errors.Is(err, ecc.ErrInvalidConfig) {
		t.Fatalf("New() in session mode with a stateless caller error = %v, want %v", err, ecc.ErrInvalidConfig)
	}
	if _, err := ecc.New(statelessCaller{client}, ecc.Config{}); err != nil {
		t.Fatalf("New() in wrapper mode with a stateless caller error = %v", err)
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()

	got := ecc.Config{}.WithDefaults()
	got.Logger = nil
	want := ecc.Config{
		CommitMode:             ecc.CommitWrapper,
		CreateFunction:         "Z_SFSAP_CUSTOMER_CREATE",
		SetExternalRefFunction: "Z_SFSAP_SET_EXTERNAL_REF",
		ExternalRefParam:       "EXTERNAL_REF",
		ExternalRefTable:       "KNA1",
		ExternalRefField:       "ZZSFID",
		LanguageField:          "LANGU_ISO",
		DefaultLanguage:        "EN",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("WithDefaults() mismatch (-want +got):\n%s", diff)
	}
}
