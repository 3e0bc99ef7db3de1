package sapsim_test

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sap/rfc"
	"github.com/sfsap/sfsap/pkg/sapsim"
)

// company returns PI_COMPANYDATA that passes every check, with changes
// applied; an empty value in changes removes the field.
func company(changes map[string]any) map[string]any {
	data := map[string]any{
		"NAME": "Acme Widgets Inc", "STREET": "100 Main St", "POSTL_COD1": "62701",
		"CITY": "Springfield", "COUNTRY": "US", "REGION": "IL", "LANGU_ISO": "EN", "CURRENCY": "USD",
	}
	for k, v := range changes {
		if v == "" {
			delete(data, k)
			continue
		}
		data[k] = v
	}
	return data
}

func copyRef(changes map[string]any) map[string]any {
	ref := map[string]any{"SALESORG": "1000", "DISTR_CHAN": "10", "DIVISION": "00", "REF_CUSTMR": "0000099999"}
	maps.Copy(ref, changes)
	return ref
}

// callReturn calls fm and returns its CUSTOMERNO and RETURN.
func callReturn(t *testing.T, c rfc.Caller, fm string, params map[string]any) (string, map[string]any) {
	t.Helper()
	res, err := c.Call(context.Background(), fm, params)
	if err != nil {
		t.Fatalf("Call(%s) error = %v", fm, err)
	}
	return rfc.String(res, "CUSTOMERNO"), rfc.Struct(res, "RETURN")
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()

	long := strings.Repeat("x", 36)
	tests := []struct {
		name       string
		params     map[string]any
		wantID     string
		wantNumber string
		wantText   string
	}{
		{"both data", map[string]any{"PI_COMPANYDATA": company(nil), "PI_PERSONALDATA": map[string]any{"LASTNAME": "Doe"}, "PI_COPYREFERENCE": copyRef(nil)},
			"ZSIM", "001", "not both"},
		{"no data", map[string]any{"PI_COPYREFERENCE": copyRef(nil)}, "ZSIM", "002", "PI_COMPANYDATA"},
		{"missing name", map[string]any{"PI_COMPANYDATA": company(map[string]any{"NAME": ""}), "PI_COPYREFERENCE": copyRef(nil)},
			"ZSIM", "003", "Required field NAME is empty"},
		{"missing city", map[string]any{"PI_COMPANYDATA": company(map[string]any{"CITY": ""}), "PI_COPYREFERENCE": copyRef(nil)},
			"ZSIM", "003", "Required field CITY is empty"},
		{"missing country", map[string]any{"PI_COMPANYDATA": company(map[string]any{"COUNTRY": ""}), "PI_COPYREFERENCE": copyRef(nil)},
			"ZSIM", "003", "Required field COUNTRY is empty"},
		{"missing language", map[string]any{"PI_COMPANYDATA": company(map[string]any{"LANGU_ISO": ""}), "PI_COPYREFERENCE": copyRef(nil)},
			"ZSIM", "003", "Required field LANGU is empty"},
		{"long name", map[string]any{"PI_COMPANYDATA": company(map[string]any{"NAME": long}), "PI_COPYREFERENCE": copyRef(nil)},
			"ZSIM", "004", "Field NAME is longer than 35 characters"},
		{"long name 4", map[string]any{"PI_COMPANYDATA": company(map[string]any{"NAME_4": long}), "PI_COPYREFERENCE": copyRef(nil)},
			"ZSIM", "004", "NAME_4"},
		{"long street", map[string]any{"PI_COMPANYDATA": company(map[string]any{"STREET": strings.Repeat("s", 61)}), "PI_COPYREFERENCE": copyRef(nil)},
			"ZSIM", "004", "Field STREET is longer than 60 characters"},
		{"long city", map[string]any{"PI_COMPANYDATA": company(map[string]any{"CITY": strings.Repeat("c", 41)}), "PI_COPYREFERENCE": copyRef(nil)},
			"ZSIM", "004", "Field CITY is longer than 40 characters"},
		{"long postal code", map[string]any{"PI_COMPANYDATA": company(map[string]any{"POSTL_COD1": "12345678901"}), "PI_COPYREFERENCE": copyRef(nil)},
			"ZSIM", "004", "POSTL_COD1"},
		{"long region", map[string]any{"PI_COMPANYDATA": company(map[string]any{"REGION": "ILLI"}), "PI_COPYREFERENCE": copyRef(nil)},
			"ZSIM", "004", "REGION"},
		{"unknown country", map[string]any{"PI_COMPANYDATA": company(map[string]any{"COUNTRY": "UK", "REGION": ""}), "PI_COPYREFERENCE": copyRef(nil)},
			"AR", "001", "Country key UK is not defined"},
		{"unknown language", map[string]any{"PI_COMPANYDATA": company(map[string]any{"LANGU_ISO": "XX"}), "PI_COPYREFERENCE": copyRef(nil)},
			"ZSIM", "005", "Language XX"},
		{"unknown currency", map[string]any{"PI_COMPANYDATA": company(map[string]any{"CURRENCY": "XYZ"}), "PI_COPYREFERENCE": copyRef(nil)},
			"ZSIM", "006", "Currency XYZ"},
		{"US region text", map[string]any{"PI_COMPANYDATA": company(map[string]any{"REGION": "ILL"}), "PI_COPYREFERENCE": copyRef(nil)},
			"AR", "002", "Region ILL is not defined for country US"},
		{"DE region text", map[string]any{"PI_COMPANYDATA": company(map[string]any{"COUNTRY": "DE", "REGION": "BY", "POSTL_COD1": "80331"}), "PI_COPYREFERENCE": copyRef(nil)},
			"AR", "002", "Region BY is not defined for country DE"},
		{"GB has no regions", map[string]any{"PI_COMPANYDATA": company(map[string]any{"COUNTRY": "GB", "REGION": "LDN", "POSTL_COD1": "SW1A 1AA"}), "PI_COPYREFERENCE": copyRef(nil)},
			"AR", "002", "country GB"},
		{"US postal code length", map[string]any{"PI_COMPANYDATA": company(map[string]any{"POSTL_COD1": "6270"}), "PI_COPYREFERENCE": copyRef(nil)},
			"AR", "003", "Postal code must be of length 5"},
		{"US postal code letters", map[string]any{"PI_COMPANYDATA": company(map[string]any{"POSTL_COD1": "6270A"}), "PI_COPYREFERENCE": copyRef(nil)},
			"AR", "004", "only contain numbers"},
		{"US ZIP+4 without hyphen", map[string]any{"PI_COMPANYDATA": company(map[string]any{"POSTL_COD1": "62701 1234"}), "PI_COPYREFERENCE": copyRef(nil)},
			"AR", "005", "blanks"},
		{"US ZIP+4 wrong separator", map[string]any{"PI_COMPANYDATA": company(map[string]any{"POSTL_COD1": "62701.1234"}), "PI_COPYREFERENCE": copyRef(nil)},
			"AR", "004", "only contain numbers"},
		{"DE postal code length", map[string]any{"PI_COMPANYDATA": company(map[string]any{"COUNTRY": "DE", "REGION": "09", "POSTL_COD1": "8033"}), "PI_COPYREFERENCE": copyRef(nil)},
			"AR", "003", "length 5"},
		{"no reference", map[string]any{"PI_COMPANYDATA": company(nil), "PI_COPYREFERENCE": copyRef(map[string]any{"REF_CUSTMR": ""})},
			"ZSIM", "007", "reference customer"},
		{"sales area incomplete", map[string]any{"PI_COMPANYDATA": company(nil), "PI_COPYREFERENCE": copyRef(map[string]any{"DIVISION": ""})},
			"F2", "267", "sales area in full"},
		{"reference missing", map[string]any{"PI_COMPANYDATA": company(nil), "PI_COPYREFERENCE": copyRef(map[string]any{"REF_CUSTMR": "12345"})},
			"F2", "502", "Debtor 0000012345 does not exist"},
		{"reference not in sales area", map[string]any{"PI_COMPANYDATA": company(nil), "PI_COPYREFERENCE": copyRef(map[string]any{"SALESORG": "3000"})},
			"F2", "156", "Debtor 0000099999 is not created for sales area 3000 10 00"},
	}
	sim := startSim(t, sapsim.Options{AutoCommit: true})
	c := newClient(t, sim)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			no, ret := callReturn(t, c, "BAPI_CUSTOMER_CREATEFROMDATA1", tt.params)
			if no != "" {
				t.Errorf("CUSTOMERNO = %q, want empty", no)
			}
			got := []string{rfc.String(ret, "TYPE"), rfc.String(ret, "ID"), rfc.String(ret, "NUMBER")}
			want := []string{"E", tt.wantID, tt.wantNumber}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("RETURN TYPE, ID, NUMBER mismatch (-want +got):\n%s\nMESSAGE: %s", diff, rfc.String(ret, "MESSAGE"))
			}
			if msg := rfc.String(ret, "MESSAGE"); !strings.Contains(msg, tt.wantText) {
				t.Errorf("RETURN-MESSAGE = %q, want it to contain %q", msg, tt.wantText)
			}
		})
	}
	t.Cleanup(func() {
		if got := len(sim.Customers()); got != 0 {
			t.Errorf("len(Customers()) = %d, want 0 after only failed creates", got)
		}
	})
}

func TestCreateAccepts(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		company map[string]any
	}{
		{"US ZIP+4", company(map[string]any{"POSTL_COD1": "62701-1234"})},
		{"DE numeric region", company(map[string]any{"COUNTRY": "DE", "REGION": "09", "POSTL_COD1": "80331", "CURRENCY": "EUR"})},
		{"SI municipality", company(map[string]any{"COUNTRY": "SI", "REGION": "140", "POSTL_COD1": "1000"})},
		{"GB free postal code", company(map[string]any{"COUNTRY": "GB", "REGION": "", "POSTL_COD1": "SW1A 1AA"})},
		{"ISO country and SAP language", company(map[string]any{"COUNTRY": "", "COUNTRYISO": "US", "LANGU_ISO": "", "LANGU": "E"})},
		{"unchecked region country", company(map[string]any{"COUNTRY": "BR", "REGION": "SP", "POSTL_COD1": "01000-000"})},
		{"name of 35 characters", company(map[string]any{"NAME": strings.Repeat("n", 35)})},
		{"umlauts count as characters", company(map[string]any{"NAME": strings.Repeat("ü", 35)})},
		{"no currency", company(map[string]any{"CURRENCY": ""})},
	}
	sim := startSim(t, sapsim.Options{AutoCommit: true})
	c := newClient(t, sim)
	for _, tt := range tests {
		no, ret := callReturn(t, c, "BAPI_CUSTOMER_CREATEFROMDATA1", map[string]any{"PI_COMPANYDATA": tt.company, "PI_COPYREFERENCE": copyRef(nil)})
		if no == "" {
			t.Errorf("%s: CUSTOMERNO empty, RETURN %v, want a customer", tt.name, ret)
		}
	}
}

func TestCreatePersonalData(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{AutoCommit: true})
	person := map[string]any{"FIRSTNAME": "Jane", "LASTNAME": "Doe", "CITY": "Berlin", "COUNTRYISO": "DE", "LANGUP_ISO": "DE"}
	no, ret := callReturn(t, newClient(t, sim), "BAPI_CUSTOMER_CREATEFROMDATA1", map[string]any{"PI_PERSONALDATA": person, "PI_COPYREFERENCE": copyRef(nil)})
	if no == "" {
		t.Fatalf("CUSTOMERNO empty, RETURN %v, want a customer", ret)
	}
	c, _ := sim.Customer(no)
	if !c.Person || c.Name != "Doe" || c.Name2 != "Jane" || c.Language != "D" {
		t.Errorf("Customer(%s) = %+v, want person Doe, Jane with language D", no, c)
	}
}

func TestNumbersFromRange(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{
		AutoCommit:   true,
		NumberRanges: map[string]sapsim.NumberRange{"0001": {From: 4711, To: 4712}},
	})
	c := newClient(t, sim)
	params := map[string]any{"PI_COMPANYDATA": company(nil), "PI_COPYREFERENCE": copyRef(nil)}

	for _, want := range []string{"0000004711", "0000004712"} {
		if no, ret := callReturn(t, c, "BAPI_CUSTOMER_CREATEFROMDATA1", params); no != want {
			t.Fatalf("CUSTOMERNO = %q (RETURN %v), want %q", no, ret, want)
		}
	}
	no, ret := callReturn(t, c, "BAPI_CUSTOMER_CREATEFROMDATA1", params)
	if no != "" || rfc.String(ret, "NUMBER") != "014" {
		t.Fatalf("create past the range = %q, RETURN %v, want no number and ZSIM 014", no, ret)
	}
}

func TestAccountGroupWithoutRange(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{
		AutoCommit: true,
		ReferenceCustomers: []sapsim.ReferenceCustomer{{
			Number: "88888", AccountGroup: "EXTN",
			SalesAreas: []sapsim.SalesArea{{SalesOrg: "1000", DistributionChannel: "10", Division: "00"}},
		}},
	})
	_, ret := callReturn(t, newClient(t, sim), "BAPI_CUSTOMER_CREATEFROMDATA1",
		map[string]any{"PI_COMPANYDATA": company(nil), "PI_COPYREFERENCE": copyRef(map[string]any{"REF_CUSTMR": "88888"})})
	if got := rfc.String(ret, "MESSAGE"); !strings.Contains(got, "Account group EXTN has no internal number range") {
		t.Fatalf("RETURN-MESSAGE = %q, want the number range error", got)
	}
}

func TestCommitSemantics(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	params := map[string]any{"PI_COMPANYDATA": company(nil), "PI_COPYREFERENCE": copyRef(nil)}

	t.Run("rollback discards", func(t *testing.T) {
		t.Parallel()
		sim := startSim(t, sapsim.Options{Stateful: true})
		sess, closeSession, _ := newClient(t, sim).Session(ctx)
		defer closeSession()
		callReturn(t, sess, "BAPI_CUSTOMER_CREATEFROMDATA1", params)
		callReturn(t, sess, "BAPI_TRANSACTION_ROLLBACK", nil)
		callReturn(t, sess, "BAPI_TRANSACTION_COMMIT", map[string]any{"WAIT": "X"})
		if got := len(sim.Customers()); got != 0 {
			t.Fatalf("len(Customers()) = %d, want 0 after rollback", got)
		}
	})

	t.Run("session timeout discards", func(t *testing.T) {
		t.Parallel()
		sim := startSim(t, sapsim.Options{Stateful: true, SessionTimeout: time.Nanosecond})
		sess, closeSession, _ := newClient(t, sim).Session(ctx)
		defer closeSession()
		callReturn(t, sess, "BAPI_CUSTOMER_CREATEFROMDATA1", params)
		time.Sleep(time.Millisecond)
		callReturn(t, sess, "BAPI_TRANSACTION_COMMIT", map[string]any{"WAIT": "X"})
		if got := len(sim.Customers()); got != 0 {
			t.Fatalf("len(Customers()) = %d, want 0 after the session timed out", got)
		}
	})

	t.Run("not stateful", func(t *testing.T) {
		t.Parallel()
		sim := startSim(t, sapsim.Options{})
		sess, closeSession, _ := newClient(t, sim).Session(ctx)
		defer closeSession()
		callReturn(t, sess, "BAPI_CUSTOMER_CREATEFROMDATA1", params)
		callReturn(t, sess, "BAPI_TRANSACTION_COMMIT", map[string]any{"WAIT": "X"})
		if got := len(sim.Customers()); got != 0 {
			t.Fatalf("len(Customers()) = %d, want 0 when each request is its own session", got)
		}
		if got := sim.OpenSessions(); got != 0 {
			t.Errorf("OpenSessions() = %d, want 0", got)
		}
	})

	t.Run("external ref waits for commit", func(t *testing.T) {
		t.Parallel()
		sim := startSim(t, sapsim.Options{Stateful: true})
		sess, closeSession, _ := newClient(t, sim).Session(ctx)
		defer closeSession()
		no, _ := callReturn(t, sess, "BAPI_CUSTOMER_CREATEFROMDATA1", params)
		_, ret := callReturn(t, sess, "Z_SFSAP_SET_EXTERNAL_REF", map[string]any{"CUSTOMERNO": no, "EXTERNAL_REF": "001ABC"})
		if rfc.String(ret, "TYPE") != "" {
			t.Fatalf("Z_SFSAP_SET_EXTERNAL_REF RETURN = %v, want no message", ret)
		}
		if got := sim.CountByExternalRef("001ABC"); got != 0 {
			t.Fatalf("CountByExternalRef() before commit = %d, want 0", got)
		}
		callReturn(t, sess, "BAPI_TRANSACTION_COMMIT", map[string]any{"WAIT": "X"})
		if got := sim.CountByExternalRef("001ABC"); got != 1 {
			t.Fatalf("CountByExternalRef() after commit = %d, want 1", got)
		}
		if got := sim.OpenSessions(); got != 1 {
			t.Errorf("OpenSessions() = %d, want 1", got)
		}
	})

	t.Run("external ref of unknown customer", func(t *testing.T) {
		t.Parallel()
		sim := startSim(t, sapsim.Options{})
		_, ret := callReturn(t, newClient(t, sim), "Z_SFSAP_SET_EXTERNAL_REF", map[string]any{"CUSTOMERNO": "100000", "EXTERNAL_REF": "001ABC"})
		if got := rfc.String(ret, "ID") + "/" + rfc.String(ret, "NUMBER"); got != "F2/502" {
			t.Fatalf("RETURN = %v, want F2/502", ret)
		}
	})

	t.Run("wrapper commits itself", func(t *testing.T) {
		t.Parallel()
		sim := startSim(t, sapsim.Options{})
		wrapperParams := maps.Clone(params)
		wrapperParams["EXTERNAL_REF"] = "001ABC"
		no, _ := callReturn(t, newClient(t, sim), "Z_SFSAP_CUSTOMER_CREATE", wrapperParams)
		c, ok := sim.Customer(no)
		if !ok || c.ExternalRef != "001ABC" {
			t.Fatalf("Customer(%q) = %+v, %v, want it committed with its external reference", no, c, ok)
		}
	})

	t.Run("wrapper needs the external ref", func(t *testing.T) {
		t.Parallel()
		sim := startSim(t, sapsim.Options{})
		no, ret := callReturn(t, newClient(t, sim), "Z_SFSAP_CUSTOMER_CREATE", params)
		if no != "" || !strings.Contains(rfc.String(ret, "MESSAGE"), "EXTERNAL_REF") {
			t.Fatalf("create without EXTERNAL_REF = %q, RETURN %v, want an error naming EXTERNAL_REF", no, ret)
		}
	})
}

func TestFind(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{})
	c := newClient(t, sim)
	for _, name := range []string{"Acme Widgets", "Acme Tools", "Globex"} {
		p := map[string]any{"PI_COMPANYDATA": company(map[string]any{"NAME": name}), "PI_COPYREFERENCE": copyRef(nil), "EXTERNAL_REF": "REF-" + name}
		callReturn(t, c, "Z_SFSAP_CUSTOMER_CREATE", p)
	}

	tests := []struct {
		name      string
		params    map[string]any
		want      []string
		wantError string
	}{
		{"external ref", map[string]any{"SELOPT_TAB": []map[string]any{{"TABNAME": "KNA1", "FIELDNAME": "ZZSFID", "FIELDVALUE": "REF-Globex"}}},
			[]string{"0000100002"}, ""},
		{"external ref is exact", map[string]any{"SELOPT_TAB": []map[string]any{{"TABNAME": "KNA1", "FIELDNAME": "ZZSFID", "FIELDVALUE": "ref-globex"}}},
			nil, ""},
		{"no match", map[string]any{"SELOPT_TAB": []map[string]any{{"TABNAME": "KNA1", "FIELDNAME": "ZZSFID", "FIELDVALUE": "REF-None"}}},
			nil, ""},
		{"pattern", map[string]any{"PL_HOLD": "X", "SELOPT_TAB": []map[string]any{{"TABNAME": "KNA1", "FIELDNAME": "NAME1", "FIELDVALUE": "acme*"}}},
			[]string{"0000100000", "0000100001"}, ""},
		{"pattern with max count", map[string]any{"PL_HOLD": "X", "MAX_CNT": "1", "SELOPT_TAB": []map[string]any{{"TABNAME": "KNA1", "FIELDNAME": "NAME1", "FIELDVALUE": "Acme*"}}},
			[]string{"0000100000"}, ""},
		{"star without placeholders", map[string]any{"SELOPT_TAB": []map[string]any{{"TABNAME": "KNA1", "FIELDNAME": "NAME1", "FIELDVALUE": "Acme*"}}},
			nil, ""},
		{"two criteria", map[string]any{"PL_HOLD": "X", "SELOPT_TAB": []map[string]any{
			{"TABNAME": "KNA1", "FIELDNAME": "NAME1", "FIELDVALUE": "Acme*"},
			{"TABNAME": "KNA1", "FIELDNAME": "ZZSFID", "FIELDVALUE": "REF-Acme T+ols"},
		}}, []string{"0000100001"}, ""},
		{"company code", map[string]any{"SELOPT_TAB": []map[string]any{{"COMP_CODE": "3000", "TABNAME": "KNA1", "FIELDNAME": "NAME1", "FIELDVALUE": "Globex"}}},
			nil, ""},
		{"reference customer", map[string]any{"SELOPT_TAB": []map[string]any{{"TABNAME": "KNA1", "FIELDNAME": "KUNNR", "FIELDVALUE": "0000099999"}}},
			[]string{"0000099999"}, ""},
		{"unknown field", map[string]any{"SELOPT_TAB": []map[string]any{{"TABNAME": "KNA1", "FIELDNAME": "BOGUS", "FIELDVALUE": "x"}}},
			nil, "Field KNA1-BOGUS cannot be searched"},
		{"no selection", map[string]any{}, nil, "at least one selection"},
	}
	for _, tt := range tests {
		res, err := c.Call(context.Background(), "BAPI_CUSTOMER_FIND", tt.params)
		if err != nil {
			t.Fatalf("%s: Call(BAPI_CUSTOMER_FIND) error = %v", tt.name, err)
		}
		var got []string
		for _, row := range rfc.Table(res, "RESULT_TAB") {
			got = append(got, rfc.String(row, "CUSTOMER"))
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: customers found mismatch (-want +got):\n%s", tt.name, diff)
		}
		msg := rfc.String(rfc.Struct(res, "RETURN"), "MESSAGE")
		if tt.wantError == "" && msg != "" || !strings.Contains(msg, tt.wantError) {
			t.Errorf("%s: RETURN-MESSAGE = %q, want %q", tt.name, msg, tt.wantError)
		}
	}
}

func TestExistenceCheck(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{AutoCommit: true})
	c := newClient(t, sim)
	no, _ := callReturn(t, c, "BAPI_CUSTOMER_CREATEFROMDATA1", map[string]any{"PI_COMPANYDATA": company(nil), "PI_COPYREFERENCE": copyRef(nil)})

	tests := []struct {
		name   string
		params map[string]any
		want   string
	}{
		{"exists", map[string]any{"CUSTOMERNO": no}, "/000"},
		{"reference in second sales area", map[string]any{"CUSTOMERNO": "99999", "SALESORGANIZATION": "2000", "DISTRIBUTIONCHANNEL": "10", "DIVISION": "00"}, "/000"},
		{"missing", map[string]any{"CUSTOMERNO": "4711"}, "F2/502"},
		{"company code", map[string]any{"CUSTOMERNO": no, "COMPANYCODE": "1000"}, "/000"},
		{"other company code", map[string]any{"CUSTOMERNO": no, "COMPANYCODE": "3000"}, "F2/503"},
		{"other sales area", map[string]any{"CUSTOMERNO": no, "SALESORGANIZATION": "2000", "DISTRIBUTIONCHANNEL": "10", "DIVISION": "00"}, "F2/156"},
		{"partial sales area", map[string]any{"CUSTOMERNO": no, "SALESORGANIZATION": "1000"}, "F2/267"},
	}
	for _, tt := range tests {
		_, ret := callReturn(t, c, "BAPI_CUSTOMER_EXISTENCECHECK", tt.params)
		if got := rfc.String(ret, "ID") + "/" + rfc.String(ret, "NUMBER"); got != tt.want {
			t.Errorf("%s: RETURN ID/NUMBER = %q, want %q (%s)", tt.name, got, tt.want, rfc.String(ret, "MESSAGE"))
		}
	}
}

func TestGetDetail2(t *testing.T) {
	t.Parallel()

	sim := startSim(t, sapsim.Options{AutoCommit: true})
	c := newClient(t, sim)
	no, _ := callReturn(t, c, "BAPI_CUSTOMER_CREATEFROMDATA1", map[string]any{"PI_COMPANYDATA": company(nil), "PI_COPYREFERENCE": copyRef(nil)})

	res, err := c.Call(context.Background(), "BAPI_CUSTOMER_GETDETAIL2", map[string]any{"CUSTOMERNO": no, "COMPANYCODE": "1000"})
	if err != nil {
		t.Fatalf("Call(BAPI_CUSTOMER_GETDETAIL2) error = %v", err)
	}
	addr := rfc.Struct(res, "CUSTOMERADDRESS")
	want := map[string]any{"CUSTOMER": no, "NAME": "Acme Widgets Inc", "CITY": "Springfield", "COUNTRY": "US", "LANGU": "E", "LANGU_ISO": "EN", "REGION": "IL"}
	for k, v := range want {
		if addr[k] != v {
			t.Errorf("CUSTOMERADDRESS-%s = %q, want %q", k, addr[k], v)
		}
	}

	_, ret := callReturn(t, c, "BAPI_CUSTOMER_GETDETAIL2", map[string]any{"CUSTOMERNO": "4711"})
	if got := rfc.String(ret, "ID") + "/" + rfc.String(ret, "NUMBER"); got != "F2/502" {
		t.Errorf("GETDETAIL2 of a missing customer RETURN = %v, want F2/502", ret)
	}
}

func TestInjectedFaults(t *testing.T) {
	t.Parallel()

	params := map[string]any{"PI_COMPANYDATA": company(nil), "PI_COPYREFERENCE": copyRef(nil)}

	t.Run("lock errors", func(t *testing.T) {
		t.Parallel()
		sim := startSim(t, sapsim.Options{AutoCommit: true})
		sim.InjectLockErrors(2)
		c := newClient(t, sim)
		for i := range 2 {
			no, ret := callReturn(t, c, "BAPI_CUSTOMER_CREATEFROMDATA1", params)
			if no != "" || rfc.String(ret, "ID") != "MC" || rfc.String(ret, "NUMBER") != "601" {
				t.Fatalf("create %d = %q, RETURN %v, want MC 601 and no number", i, no, ret)
			}
		}
		if no, ret := callReturn(t, c, "BAPI_CUSTOMER_CREATEFROMDATA1", params); no == "" {
			t.Fatalf("create after the locks RETURN %v, want a number", ret)
		}
	})

	t.Run("warning return", func(t *testing.T) {
		t.Parallel()
		sim := startSim(t, sapsim.Options{AutoCommit: true})
		sim.InjectReturn("BAPI_CUSTOMER_CREATEFROMDATA1", 1, sap.Message{Type: "W", Message: "Tax number not checked"})
		no, ret := callReturn(t, newClient(t, sim), "BAPI_CUSTOMER_CREATEFROMDATA1", params)
		if no == "" || rfc.String(ret, "TYPE") != "W" {
			t.Fatalf("create = %q, RETURN %v, want a number with the warning", no, ret)
		}
	})

	t.Run("abort return", func(t *testing.T) {
		t.Parallel()
		sim := startSim(t, sapsim.Options{AutoCommit: true})
		sim.InjectReturn("BAPI_CUSTOMER_CREATEFROMDATA1", 1, sap.Message{Type: "A", ID: "F2", Number: "1", Message: "Termination"})
		no, ret := callReturn(t, newClient(t, sim), "BAPI_CUSTOMER_CREATEFROMDATA1", params)
		if no != "" || rfc.String(ret, "TYPE") != "A" || rfc.String(ret, "NUMBER") != "001" {
			t.Fatalf("create = %q, RETURN %v, want type A, number 001 and no customer", no, ret)
		}
		if got := len(sim.Customers()); got != 0 {
			t.Errorf("len(Customers()) = %d, want 0", got)
		}
	})

	t.Run("soap fault for any function", func(t *testing.T) {
		t.Parallel()
		sim := startSim(t, sapsim.Options{})
		sim.InjectFault("", 1, "SYSTEM_FAILURE")
		c := newClient(t, sim)
		if _, err := c.Call(context.Background(), "RFC_SYSTEM_INFO", nil); err == nil {
			t.Fatal("first call error = nil, want the injected fault")
		}
		if _, err := c.Call(context.Background(), "RFC_SYSTEM_INFO", nil); err != nil {
			t.Fatalf("second call error = %v, want success", err)
		}
	})

	t.Run("held response after commit", func(t *testing.T) {
		t.Parallel()
		sim := startSim(t, sapsim.Options{AutoCommit: true})
		sim.InjectTimeoutAfterCommit(1, 10*time.Millisecond)
		no, _ := callReturn(t, newClient(t, sim), "BAPI_CUSTOMER_CREATEFROMDATA1", params)
		if no == "" {
			t.Fatal("CUSTOMERNO empty, want the number after a short hold")
		}
	})
}
