package sapworker_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sap/ecc"
	"github.com/sfsap/sfsap/services/sapworker"
)

func TestRepReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{
			"BAPI error message",
			&sap.Error{Kind: sap.Permanent, Op: "Z_SFSAP_CUSTOMER_CREATE", Messages: []sap.Message{{Type: "E", ID: "F2", Number: "156", Message: "Postal code invalid"}}},
			"SAP rejected the customer: Postal code invalid (F2 156)",
		},
		{
			"number not committed",
			&sap.Error{Kind: sap.Permanent, Op: "BAPI_CUSTOMER_GETDETAIL2",
				Messages: []sap.Message{{Type: "E", ID: "F2", Number: "502", Message: "Debtor 0000104712 does not exist"}},
				Err:      fmt.Errorf("%w: create returned customer 0000104712", ecc.ErrNotCommitted)},
			"did not store the customer",
		},
		{"plain error", errors.New("Billing Country is missing"), "Billing Country is missing"},
	}
	for _, tt := range tests {
		if got := sapworker.RepReason(tt.err); !strings.Contains(got, tt.want) {
			t.Errorf("%s: RepReason = %q, want it to contain %q", tt.name, got, tt.want)
		}
	}
}
