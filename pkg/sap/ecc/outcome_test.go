package ecc_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sap/ecc"
	"github.com/sfsap/sfsap/pkg/sap/soaprfc"
	"github.com/sfsap/sfsap/pkg/sapsim"
)

// TestTimeoutAfterCommitThenFind covers a create that SAP commits while
// the client gives up: the create reports Kind Unknown, and the lookup
// that must follow finds the one customer, so no second one is made.
func TestTimeoutAfterCommitThenFind(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		mode ecc.CommitMode
		hold time.Duration
	}{
		{"wrapper held past timeout", ecc.CommitWrapper, time.Minute},
		{"wrapper connection dropped", ecc.CommitWrapper, 0},
		{"session held past timeout", ecc.CommitSession, time.Minute},
		{"session connection dropped", ecc.CommitSession, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The timeout leaves room for the calls before the commit on a
			// busy machine. The held response ends when the client gives up.
			b := setup(t, sapsim.Options{Stateful: true}, ecc.Config{CommitMode: tt.mode}, soaprfc.WithTimeout(2*time.Second))
			b.sim.InjectTimeoutAfterCommit(1, tt.hold)
			ctx := context.Background()

			res, err := b.adapter.Create(ctx, acme())
			if got := sap.KindOf(err); got != sap.Unknown {
				t.Fatalf("Create() = %+v, Kind %v, want %v (error %v)", res, got, sap.Unknown, err)
			}
			if res.CustomerNo != "" {
				t.Errorf("Create() CustomerNo = %q, want none with an unknown outcome", res.CustomerNo)
			}

			no, found, err := b.adapter.FindByExternalRef(ctx, accountID)
			if err != nil || !found {
				t.Fatalf("FindByExternalRef() = %q, %v, %v, want the committed customer", no, found, err)
			}
			customers := b.sim.Customers()
			if len(customers) != 1 {
				t.Fatalf("len(Customers()) = %d, want 1", len(customers))
			}
			if no != customers[0].Number {
				t.Errorf("FindByExternalRef() = %q, want %q", no, customers[0].Number)
			}
			if got := b.sim.CountByExternalRef(strings.ToUpper(accountID)); got != 1 {
				t.Errorf("CountByExternalRef() = %d, want 1", got)
			}
		})
	}
}

// TestCreateWithoutCommitReportsNoNumber points the wrapper setting at the
// plain BAPI, which returns a number but commits nothing. The adapter must
// not report that number.
func TestCreateWithoutCommitReportsNoNumber(t *testing.T) {
	t.Parallel()

	b := setup(t, sapsim.Options{}, ecc.Config{CreateFunction: "BAPI_CUSTOMER_CREATEFROMDATA1"})
	b.sim.InjectReturn("BAPI_CUSTOMER_CREATEFROMDATA1", 1, sap.Message{Type: "S", ID: "F2", Number: "170", Message: "Customer created"})

	res, err := b.adapter.Create(context.Background(), acme())
	if !errors.Is(err, ecc.ErrNotCommitted) {
		t.Fatalf("Create() = %+v, error %v, want %v", res, err, ecc.ErrNotCommitted)
	}
	if got := sap.KindOf(err); got != sap.Permanent {
		t.Errorf("Kind = %v, want %v", got, sap.Permanent)
	}
	if res.CustomerNo != "" {
		t.Errorf("Create() CustomerNo = %q, want none", res.CustomerNo)
	}
	if got := len(b.sim.Customers()); got != 0 {
		t.Errorf("len(Customers()) = %d, want 0", got)
	}
}

func TestReadBackNotFound(t *testing.T) {
	t.Parallel()

	b := setup(t, sapsim.Options{}, ecc.Config{})
	b.sim.InjectReturn("BAPI_CUSTOMER_GETDETAIL2", 1, sap.Message{Type: "E", ID: "F2", Number: "502", Message: "Debtor 0000100000 does not exist"})

	res, err := b.adapter.Create(context.Background(), acme())
	if !errors.Is(err, ecc.ErrNotCommitted) {
		t.Fatalf("Create() = %+v, error %v, want %v", res, err, ecc.ErrNotCommitted)
	}
	if res.CustomerNo != "" {
		t.Errorf("Create() CustomerNo = %q, want none", res.CustomerNo)
	}
}

func TestReadBackFailureIsUnknown(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		inject func(*sapsim.Server)
	}{
		{"fault", func(sim *sapsim.Server) { sim.InjectFault("BAPI_CUSTOMER_GETDETAIL2", 1, "SYSTEM_FAILURE") }},
		{"lock", func(sim *sapsim.Server) {
			sim.InjectReturn("BAPI_CUSTOMER_GETDETAIL2", 1, sap.Message{Type: "E", ID: "MC", Number: "601", Message: "locked by user X"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, sapsim.Options{}, ecc.Config{})
			tt.inject(b.sim)

			_, err := b.adapter.Create(context.Background(), acme())
			if got := sap.KindOf(err); got != sap.Unknown {
				t.Fatalf("Kind = %v, want %v (error %v)", got, sap.Unknown, err)
			}
			if _, found, err := b.adapter.FindByExternalRef(context.Background(), accountID); err != nil || !found {
				t.Fatalf("FindByExternalRef() = %v, %v, want the committed customer", found, err)
			}
		})
	}
}

func TestSessionModeStatelessEndpointStoresNothing(t *testing.T) {
	t.Parallel()

	b := setup(t, sapsim.Options{Stateful: false}, ecc.Config{CommitMode: ecc.CommitSession})
	_, err := b.adapter.Create(context.Background(), acme())
	e := sapError(t, err)
	if e.Kind != sap.Permanent || e.Op != "Z_SFSAP_SET_EXTERNAL_REF" || e.Code() != "F2/502" {
		t.Fatalf("error = %v, want a permanent F2/502 from Z_SFSAP_SET_EXTERNAL_REF", err)
	}
	if got := len(b.sim.Customers()); got != 0 {
		t.Errorf("len(Customers()) = %d, want 0", got)
	}
	if got := b.sim.Calls("BAPI_TRANSACTION_ROLLBACK"); got != 1 {
		t.Errorf("Calls(BAPI_TRANSACTION_ROLLBACK) = %d, want 1", got)
	}
}

func TestSessionModeFailureRollsBack(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		fm       string
		msg      sap.Message
		wantCode string
	}{
		{"external ref fails", "Z_SFSAP_SET_EXTERNAL_REF", sap.Message{Type: "E", ID: "ZZ", Number: "010", Message: "Field ZZSFID is not writable"}, "ZZ/010"},
		{"commit fails", "BAPI_TRANSACTION_COMMIT", sap.Message{Type: "E", ID: "S&", Number: "101", Message: "Posting could not be carried out"}, "S&/101"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, sapsim.Options{Stateful: true}, ecc.Config{CommitMode: ecc.CommitSession})
			b.sim.InjectReturn(tt.fm, 1, tt.msg)

			_, err := b.adapter.Create(context.Background(), acme())
			e := sapError(t, err)
			if e.Kind != sap.Permanent || e.Code() != tt.wantCode {
				t.Fatalf("error = %v, want a permanent %s", err, tt.wantCode)
			}
			if got := b.sim.Calls("BAPI_TRANSACTION_ROLLBACK"); got != 1 {
				t.Errorf("Calls(BAPI_TRANSACTION_ROLLBACK) = %d, want 1", got)
			}
			if got := len(b.sim.Customers()); got != 0 {
				t.Errorf("len(Customers()) = %d, want 0", got)
			}
		})
	}
}

func TestCreateHTTPFailures(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		status   int
		wantKind sap.Kind
		wantErr  error
	}{
		{"unavailable", http.StatusServiceUnavailable, sap.Transient, nil},
		{"unauthorized", http.StatusUnauthorized, sap.Permanent, soaprfc.ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, sapsim.Options{}, ecc.Config{})
			b.sim.InjectHTTPStatus(tt.status, 1)

			_, err := b.adapter.Create(context.Background(), acme())
			if got := sap.KindOf(err); got != tt.wantKind {
				t.Errorf("Kind = %v, want %v (error %v)", got, tt.wantKind, err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
			if got := len(b.sim.Customers()); got != 0 {
				t.Errorf("len(Customers()) = %d, want 0", got)
			}
		})
	}
}
