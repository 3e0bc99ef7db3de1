package soaprfc_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sap/rfc"
	"github.com/sfsap/sfsap/pkg/sap/soaprfc"
	"github.com/sfsap/sfsap/pkg/sapsim"
)

const (
	testUser     = "SFSAP_RFC"
	testPassword = "s3cret!"
)

// startSim starts a simulator on a loopback port that accepts testUser.
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

func newClient(t *testing.T, baseURL string, opts ...soaprfc.Option) *soaprfc.Client {
	t.Helper()
	opts = append([]soaprfc.Option{soaprfc.WithClient("100"), soaprfc.WithBasicAuth(testUser, testPassword)}, opts...)
	c, err := soaprfc.New(baseURL, opts...)
	if err != nil {
		t.Fatalf("soaprfc.New(%q) error = %v", baseURL, err)
	}
	return c
}

// createParams returns BAPI_CUSTOMER_CREATEFROMDATA1 parameters that the
// simulator accepts.
func createParams(name string) map[string]any {
	return map[string]any{
		"PI_COMPANYDATA": map[string]any{
			"NAME": name, "CITY": "Springfield", "POSTL_COD1": "62701", "STREET": "100 Main St",
			"COUNTRY": "US", "REGION": "IL", "LANGU_ISO": "EN", "CURRENCY": "USD",
		},
		"PI_COPYREFERENCE": map[string]any{
			"SALESORG": "1000", "DISTR_CHAN": "10", "DIVISION": "00", "REF_CUSTMR": "0000099999",
		},
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		baseURL string
		opt     soaprfc.Option
	}{
		{"relative URL", "sap.example.com", nil},
		{"ftp URL", "ftp://sap.example.com", nil},
		{"unparsable URL", "http://[::1", nil},
		{"short client", "http://127.0.0.1", soaprfc.WithClient("10")},
		{"letters in client", "http://127.0.0.1", soaprfc.WithClient("1a0")},
		{"long language", "http://127.0.0.1", soaprfc.WithLanguage("ENG")},
		{"digit language", "http://127.0.0.1", soaprfc.WithLanguage("E1")},
		{"empty user", "http://127.0.0.1", soaprfc.WithBasicAuth("", "x")},
		{"colon in user", "http://127.0.0.1", soaprfc.WithBasicAuth("a:b", "x")},
		{"zero timeout", "http://127.0.0.1", soaprfc.WithTimeout(0)},
		{"negative timeout", "http://127.0.0.1", soaprfc.WithTimeout(-time.Second)},
		{"nil HTTP client", "http://127.0.0.1", soaprfc.WithHTTPClient(nil)},
	}
	for _, tt := range tests {
		var opts []soaprfc.Option
		if tt.opt != nil {
			opts = append(opts, tt.opt)
		}
		_, err := soaprfc.New(tt.baseURL, opts...)
		if !errors.Is(err, soaprfc.ErrInvalidOption) {
			t.Errorf("%s: New(%q) error = %v, want %v", tt.name, tt.baseURL, err, soaprfc.ErrInvalidOption)
		}
	}
}

func TestEndpoint(t *testing.T) {
	t.Parallel()

	c, err := soaprfc.New("https://sap.example.com:44300/", soaprfc.WithClient("200"), soaprfc.WithLanguage("de"))
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	want := "https://sap.example.com:44300/sap/bc/soap/rfc?sap-client=200&sap-language=DE"
	if got := c.Endpoint(); got != want {
		t.Fatalf("Endpoint() = %q, want %q", got, want)
	}
}

func TestCallSystemInfo(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{SystemID: "Q01"})
	c := newClient(t, sim.URL(), soaprfc.WithHTTPClient(&http.Client{}))

	res, err := c.Call(context.Background(), "RFC_SYSTEM_INFO", nil)
	if err != nil {
		t.Fatalf("Call(RFC_SYSTEM_INFO) error = %v", err)
	}
	rfcsi := rfc.Struct(res, "RFCSI")
	if got := rfc.String(rfcsi, "RFCSYSID"); got != "Q01" {
		t.Errorf("RFCSI-RFCSYSID = %q, want Q01", got)
	}
	if got := rfc.String(rfcsi, "RFCMACH"); got != "  390" {
		t.Errorf("RFCSI-RFCMACH = %q, want leading blanks kept", got)
	}
	if got := sim.Calls("RFC_SYSTEM_INFO"); got != 1 {
		t.Errorf("Calls(RFC_SYSTEM_INFO) = %d, want 1", got)
	}
}

func TestCallCreateAndRead(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{AutoCommit: true})
	c := newClient(t, sim.URL())
	ctx := context.Background()

	res, err := c.Call(ctx, "BAPI_CUSTOMER_CREATEFROMDATA1", createParams("Acme <Widgets> & Co"))
	if err != nil {
		t.Fatalf("Call(BAPI_CUSTOMER_CREATEFROMDATA1) error = %v", err)
	}
	no := rfc.String(res, "CUSTOMERNO")
	if !regexp.MustCompile(`^\d{10}$`).MatchString(no) {
		t.Fatalf("CUSTOMERNO = %q, want 10 digits", no)
	}
	ret := rfc.Struct(res, "RETURN")
	if got := rfc.String(ret, "TYPE"); got != "" {
		t.Errorf("RETURN-TYPE = %q, want empty", got)
	}
	if got := rfc.String(ret, "NUMBER"); got != "000" {
		t.Errorf("RETURN-NUMBER = %q, want the NUMC form 000", got)
	}

	res, err = c.Call(ctx, "BAPI_CUSTOMER_GETDETAIL2", map[string]any{"CUSTOMERNO": strings.TrimLeft(no, "0")})
	if err != nil {
		t.Fatalf("Call(BAPI_CUSTOMER_GETDETAIL2) error = %v", err)
	}
	addr := rfc.Struct(res, "CUSTOMERADDRESS")
	if got := rfc.String(addr, "NAME"); got != "Acme <Widgets> & Co" {
		t.Errorf("CUSTOMERADDRESS-NAME = %q, want the name with its markup characters", got)
	}
	if got := rfc.String(addr, "CUSTOMER"); got != no {
		t.Errorf("CUSTOMERADDRESS-CUSTOMER = %q, want %q", got, no)
	}
}

func TestCallLatin1Response(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{AutoCommit: true, ResponseCharset: "iso-8859-1"})
	c := newClient(t, sim.URL())
	ctx := context.Background()

	params := createParams("Müller Łódź GmbH")
	params["PI_COMPANYDATA"].(map[string]any)["CITY"] = "Zürich"
	params["PI_COMPANYDATA"].(map[string]any)["COUNTRY"] = "CH"
	params["PI_COMPANYDATA"].(map[string]any)["REGION"] = "ZH"
	params["PI_COMPANYDATA"].(map[string]any)["POSTL_COD1"] = "8001"
	res, err := c.Call(ctx, "BAPI_CUSTOMER_CREATEFROMDATA1", params)
	if err != nil {
		t.Fatalf("Call(BAPI_CUSTOMER_CREATEFROMDATA1) error = %v", err)
	}
	res, err = c.Call(ctx, "BAPI_CUSTOMER_GETDETAIL2", map[string]any{"CUSTOMERNO": rfc.String(res, "CUSTOMERNO")})
	if err != nil {
		t.Fatalf("Call(BAPI_CUSTOMER_GETDETAIL2) error = %v", err)
	}
	addr := rfc.Struct(res, "CUSTOMERADDRESS")
	if got := rfc.String(addr, "CITY"); got != "Zürich" {
		t.Errorf("CITY = %q, want Zürich", got)
	}
	// Latin-1 has no Ł, so SAP's conversion writes '#'.
	if got := rfc.String(addr, "NAME"); got != "Müller #ód# GmbH" {
		t.Errorf("NAME = %q, want Müller #ód# GmbH", got)
	}
}

func TestCallErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		setup      func(sim *sapsim.Server)
		fm         string
		password   string
		wantKind   sap.Kind
		wantStatus int
		wantErr    error
		wantFault  string
	}{
		{
			name:       "wrong password",
			fm:         "RFC_SYSTEM_INFO",
			password:   "wrong",
			wantKind:   sap.Permanent,
			wantStatus: http.StatusUnauthorized,
			wantErr:    soaprfc.ErrUnauthorized,
		},
		{
			name:       "unknown function",
			fm:         "Z_DOES_NOT_EXIST",
			wantKind:   sap.Permanent,
			wantStatus: http.StatusInternalServerError,
			wantFault:  "FU_NOT_FOUND",
		},
		{
			name:       "server fault",
			setup:      func(sim *sapsim.Server) { sim.InjectFault("RFC_SYSTEM_INFO", 1, "SYSTEM_FAILURE") },
			fm:         "RFC_SYSTEM_INFO",
			wantKind:   sap.Transient,
			wantStatus: http.StatusInternalServerError,
		},
		{
			name:       "service unavailable",
			setup:      func(sim *sapsim.Server) { sim.InjectHTTPStatus(http.StatusServiceUnavailable, 1) },
			fm:         "RFC_SYSTEM_INFO",
			wantKind:   sap.Transient,
			wantStatus: http.StatusServiceUnavailable,
		},
		{
			name:       "gateway timeout",
			setup:      func(sim *sapsim.Server) { sim.InjectHTTPStatus(http.StatusGatewayTimeout, 1) },
			fm:         "RFC_SYSTEM_INFO",
			wantKind:   sap.Unknown,
			wantStatus: http.StatusGatewayTimeout,
		},
		{
			name:       "forbidden",
			setup:      func(sim *sapsim.Server) { sim.InjectHTTPStatus(http.StatusForbidden, 1) },
			fm:         "RFC_SYSTEM_INFO",
			wantKind:   sap.Permanent,
			wantStatus: http.StatusForbidden,
			wantErr:    soaprfc.ErrForbidden,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := startSim(t, sapsim.Options{})
			if tt.setup != nil {
				tt.setup(sim)
			}
			password := testPassword
			if tt.password != "" {
				password = tt.password
			}
			c := newClient(t, sim.URL(), soaprfc.WithBasicAuth(testUser, password))

			_, err := c.Call(context.Background(), tt.fm, nil)
			var sapErr *sap.Error
			if !errors.As(err, &sapErr) {
				t.Fatalf("Call(%s) error = %v, want *sap.Error", tt.fm, err)
			}
			if sapErr.Kind != tt.wantKind {
				t.Errorf("Call(%s) Kind = %v, want %v (error %v)", tt.fm, sapErr.Kind, tt.wantKind, err)
			}
			if sapErr.HTTPStatus != tt.wantStatus {
				t.Errorf("Call(%s) HTTPStatus = %d, want %d", tt.fm, sapErr.HTTPStatus, tt.wantStatus)
			}
			if sapErr.Op != tt.fm {
				t.Errorf("Call(%s) Op = %q, want %q", tt.fm, sapErr.Op, tt.fm)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Call(%s) error = %v, want %v", tt.fm, err, tt.wantErr)
			}
			if tt.wantStatus == http.StatusInternalServerError {
				var fault *soaprfc.Fault
				if !errors.As(err, &fault) {
					t.Fatalf("Call(%s) error = %v, want a *Fault", tt.fm, err)
				}
				if fault.Exception != tt.wantFault {
					t.Errorf("Fault.Exception = %q, want %q", fault.Exception, tt.wantFault)
				}
			}
		})
	}
}

func TestCallUnauthorizedMessage(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{})
	c := newClient(t, sim.URL(), soaprfc.WithBasicAuth(testUser, "wrong"))
	_, err := c.Call(context.Background(), "RFC_SYSTEM_INFO", nil)
	if err == nil || !strings.Contains(err.Error(), "check the user, the password") {
		t.Fatalf("Call() error = %v, want it to say what to check", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Fatalf("Call() error = %v, want no password in it", err)
	}
}

func TestCallConnectionRefusedIsTransient(t *testing.T) {
	t.Parallel()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen() error = %v", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()

	c := newClient(t, "http://"+addr)
	_, err = c.Call(context.Background(), "RFC_SYSTEM_INFO", nil)
	if got := sap.KindOf(err); got != sap.Transient {
		t.Fatalf("Call() to a closed port: Kind = %v, want %v (error %v)", got, sap.Transient, err)
	}
}

func TestCallTimeoutAfterSendIsUnknown(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{})
	sim.SetLatency("RFC_SYSTEM_INFO", time.Minute)
	c := newClient(t, sim.URL(), soaprfc.WithTimeout(time.Second))

	_, err := c.Call(context.Background(), "RFC_SYSTEM_INFO", nil)
	if got := sap.KindOf(err); got != sap.Unknown {
		t.Fatalf("Call() past its timeout: Kind = %v, want %v (error %v)", got, sap.Unknown, err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Call() error = %v, want it to wrap %v", err, context.DeadlineExceeded)
	}
}

func TestCallCanceledBeforeSendIsTransient(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{})
	c := newClient(t, sim.URL())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	_, err := c.Call(ctx, "RFC_SYSTEM_INFO", nil)
	if got := sap.KindOf(err); got != sap.Transient {
		t.Fatalf("Call() with a canceled context: Kind = %v, want %v (error %v)", got, sap.Transient, err)
	}
	if got := sim.Calls("RFC_SYSTEM_INFO"); got != 0 {
		t.Errorf("Calls(RFC_SYSTEM_INFO) = %d, want 0", got)
	}
}

func TestCallDroppedConnectionAfterCommitIsUnknown(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{AutoCommit: true})
	sim.InjectTimeoutAfterCommit(1, 0)
	c := newClient(t, sim.URL())

	_, err := c.Call(context.Background(), "BAPI_CUSTOMER_CREATEFROMDATA1", createParams("Acme"))
	if got := sap.KindOf(err); got != sap.Unknown {
		t.Fatalf("Call() whose connection dropped: Kind = %v, want %v (error %v)", got, sap.Unknown, err)
	}
	if got := len(sim.Customers()); got != 1 {
		t.Errorf("len(Customers()) = %d, want 1: the commit happened before the drop", got)
	}
}

func TestCallRejectsUnencodableParams(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{})
	c := newClient(t, sim.URL())
	_, err := c.Call(context.Background(), "RFC_SYSTEM_INFO", map[string]any{"BAD": make(chan int)})
	if got := sap.KindOf(err); got != sap.Permanent {
		t.Fatalf("Call() with a channel parameter: Kind = %v, want %v (error %v)", got, sap.Permanent, err)
	}
	if got := sim.Calls("RFC_SYSTEM_INFO"); got != 0 {
		t.Errorf("Calls(RFC_SYSTEM_INFO) = %d, want 0", got)
	}
}

func TestSessionCommitsInOneSession(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{Stateful: true})
	c := newClient(t, sim.URL())
	ctx := context.Background()

	sess, closeSession, err := c.Session(ctx)
	if err != nil {
		t.Fatalf("Session() error = %v", err)
	}
	defer closeSession()
	res, err := sess.Call(ctx, "BAPI_CUSTOMER_CREATEFROMDATA1", createParams("Acme"))
	if err != nil {
		t.Fatalf("Call(BAPI_CUSTOMER_CREATEFROMDATA1) error = %v", err)
	}
	if got := len(sim.Customers()); got != 0 {
		t.Fatalf("len(Customers()) before the commit = %d, want 0", got)
	}
	if _, err := sess.Call(ctx, "BAPI_TRANSACTION_COMMIT", map[string]any{"WAIT": "X"}); err != nil {
		t.Fatalf("Call(BAPI_TRANSACTION_COMMIT) error = %v", err)
	}
	customers := sim.Customers()
	if len(customers) != 1 {
		t.Fatalf("len(Customers()) after the commit = %d, want 1", len(customers))
	}
	if want := rfc.String(res, "CUSTOMERNO"); customers[0].Number != want {
		t.Errorf("committed customer = %s, want %s", customers[0].Number, want)
	}
}

func TestStatelessCallsDoNotShareCommit(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{Stateful: true})
	c := newClient(t, sim.URL())
	ctx := context.Background()

	if _, err := c.Call(ctx, "BAPI_CUSTOMER_CREATEFROMDATA1", createParams("Acme")); err != nil {
		t.Fatalf("Call(BAPI_CUSTOMER_CREATEFROMDATA1) error = %v", err)
	}
	if _, err := c.Call(ctx, "BAPI_TRANSACTION_COMMIT", map[string]any{"WAIT": "X"}); err != nil {
		t.Fatalf("Call(BAPI_TRANSACTION_COMMIT) error = %v", err)
	}
	if got := len(sim.Customers()); got != 0 {
		t.Fatalf("len(Customers()) = %d, want 0: a commit in another session must not store the create", got)
	}
}

func TestSessionClosed(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{Stateful: true})
	c := newClient(t, sim.URL())
	sess, closeSession, err := c.Session(context.Background())
	if err != nil {
		t.Fatalf("Session() error = %v", err)
	}
	closeSession()
	_, err = sess.Call(context.Background(), "RFC_SYSTEM_INFO", nil)
	if !errors.Is(err, soaprfc.ErrSessionClosed) {
		t.Fatalf("Call() after close error = %v, want %v", err, soaprfc.ErrSessionClosed)
	}
	if got := sim.Calls("RFC_SYSTEM_INFO"); got != 0 {
		t.Errorf("Calls(RFC_SYSTEM_INFO) = %d, want 0", got)
	}
}
