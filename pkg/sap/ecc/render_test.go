package ecc_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/sap/ecc"
	"github.com/sfsap/sfsap/pkg/sap/soaprfc"
)

func TestCreateRequest(t *testing.T) {
	t.Parallel()
	client, err := soaprfc.New("http://127.0.0.1:1")
	if err != nil {
		t.Fatalf("soaprfc.New() error = %v", err)
	}
	company := map[string]any{
		"NAME": "Acme Widgets Inc", "NAME_2": "Accounts Payable", "STREET": "Main St", "HOUSE_NO": "100",
		"POSTL_COD1": "62701", "CITY": "Springfield", "COUNTRY": "US", "COUNTRYISO": "US", "REGION": "IL",
		"LANGU_ISO": "EN", "TEL1_NUMBR": "217-555-0100", "E_MAIL": "ap@acme.example", "CURRENCY": "USD",
	}
	copyRef := map[string]any{"SALESORG": "1000", "DISTR_CHAN": "10", "DIVISION": "00", "REF_CUSTMR": "0000099999"}
	tests := []struct {
		mode       ecc.CommitMode
		wantFM     string
		wantParams map[string]any
	}{
		{ecc.CommitWrapper, "Z_SFSAP_CUSTOMER_CREATE", map[string]any{"PI_COMPANYDATA": company, "PI_COPYREFERENCE": copyRef, "EXTERNAL_REF": "001DN00000ABC12IAB"}},
		{ecc.CommitSession, "BAPI_CUSTOMER_CREATEFROMDATA1", map[string]any{"PI_COMPANYDATA": company, "PI_COPYREFERENCE": copyRef}},
	}
	for _, tt := range tests {
		a, err := ecc.New(client, ecc.Config{CommitMode: tt.mode})
		if err != nil {
			t.Fatalf("ecc.New(%s) error = %v", tt.mode, err)
		}
		fm, params, err := a.CreateRequest(acme())
		if err != nil {
			t.Fatalf("%s: CreateRequest() error = %v", tt.mode, err)
		}
		if fm != tt.wantFM {
			t.Errorf("%s: CreateRequest() function = %q, want %q", tt.mode, fm, tt.wantFM)
		}
		if diff := cmp.Diff(tt.wantParams, params); diff != "" {
			t.Errorf("%s: CreateRequest() params mismatch (-want +got):\n%s", tt.mode, diff)
		}
	}

	a, err := ecc.New(client, ecc.Config{})
	if err != nil {
		t.Fatalf("ecc.New() error = %v", err)
	}
	c := acme()
	c.ExternalRef = ""
	if _, _, err := a.CreateRequest(c); !errors.Is(err, ecc.ErrInvalidCustomer) {
		t.Errorf("CreateRequest() without external reference error = %v, want ErrInvalidCustomer", err)
	}
}
