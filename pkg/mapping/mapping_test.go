package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sfid"
	"github.com/sfsap/sfsap/test/fixtures"
)

// testID returns a valid 18-character Account id numbered n.
func testID(t testing.TB, n int) string {
	t.Helper()
	id, err := sfid.To18(fmt.Sprintf("001Dp%010d", n))
	if err != nil {
		t.Fatalf("building test id %d: %v", n, err)
	}
	return id
}

// fieldCheck is one field of a mapped customer with its expected value.
type fieldCheck struct {
	name, got, want string
}

// checkFields reports every field whose value differs from the expected one.
func checkFields(t *testing.T, call string, checks []fieldCheck) {
	t.Helper()
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s.%s = %q, want %q", call, c.name, c.got, c.want)
		}
	}
}

// germanAccount returns a complete Account that maps without problems.
func germanAccount(t testing.TB) account.Account {
	return account.Account{
		ID:                testID(t, 1),
		Name:              "Müller Maschinenbau GmbH",
		BillingStreet:     "Leopoldstraße 244",
		BillingCity:       "München",
		BillingState:      "Bayern",
		BillingPostalCode: "80807",
		BillingCountry:    "Deutschland",
		Phone:             "+49 (0)89 1234-567",
	}
}

func TestMapFullAccount(t *testing.T) {
	t.Parallel()
	p := Default()

	a := germanAccount(t)
	a.ID = a.ID[:15] // the 15-character form becomes the 18-character reference
	got, err := p.Map(a)
	if err != nil {
		t.Fatalf("Map(%+v) error: %v", a, err)
	}
	want := sap.Customer{
		Names:               []string{"Müller Maschinenbau GmbH"},
		Street:              "Leopoldstraße 244",
		PostalCode:          "80807",
		City:                "München",
		Country:             "DE",
		Region:              "09",
		Language:            "de",
		Phone:               "+49 89 1234-567",
		Currency:            "EUR",
		CompanyCode:         "1000",
		SalesOrg:            "1000",
		DistributionChannel: "10",
		Division:            "00",
		ReferenceCustomer:   "0000099999",
		ExternalRef:         testID(t, 1),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Map(german account) mismatch (-want +got):\n%s", diff)
	}
}

func TestMapCountryInputs(t *testing.T) {
	t.Parallel()
	p := Default()

	tests := []struct {
		in   string
		want string
	}{
		{"United States", "US"},
		{"USA", "US"},
		{"UK", "GB"},
		{"U.K.", "GB"},
		{"Deutschland", "DE"},
		{"GB", "GB"},
		{" de ", "DE"},
	}
	for _, tt := range tests {
		a := account.Account{ID: testID(t, 2), Name: "Acme", BillingCity: "Town", BillingCountry: tt.in}
		res, err := p.MapDetailed(a)
		if got := res.Customer.Country; got != tt.want {
			t.Errorf("MapDetailed(BillingCountry %q).Customer.Country = %q, want %q (error %v)", tt.in, got, tt.want, err)
		}
		if errors.Is(err, ErrUnknownCountry) {
			t.Errorf("MapDetailed(BillingCountry %q) error = %v, want no country problem", tt.in, err)
		}
	}

	// An empty country is a problem and never a default.
	for _, in := range []string{"", "  "} {
		a := account.Account{ID: testID(t, 2), Name: "Acme", BillingCity: "Town", BillingCountry: in}
		res, err := p.MapDetailed(a)
		if !errors.Is(err, ErrMissing) {
			t.Errorf("MapDetailed(BillingCountry %q) error = %v, want ErrMissing", in, err)
		}
		if res.Customer.Country != "" {
			t.Errorf("MapDetailed(BillingCountry %q).Customer.Country = %q, want empty", in, res.Customer.Country)
		}
		var problems *Problems
		if !errors.As(err, &problems) || !cmp.Equal(problems.Fields(), []string{FieldBillingCountry}) {
			t.Errorf("MapDetailed(BillingCountry %q) problems = %v, want only %s", in, err, FieldBillingCountry)
		}
	}
}

func TestMapRegionInputs(t *testing.T) {
	t.Parallel()
	p := Default()

	tests := []struct {
		country, state, postal string
		want                   string
	}{
		{"DE", "Bavaria", "80331", "09"},
		{"US", "MA", "02138", "MA"},
		{"SI", "140", "1360", "140"},
	}
	for _, tt := range tests {
		a := account.Account{
			ID: testID(t, 3), Name: "Acme", BillingCity: "Town",
			BillingCountry: tt.country, BillingState: tt.state, BillingPostalCode: tt.postal,
		}
		c, err := p.Map(a)
		if err != nil || c.Region != tt.want {
			t.Errorf("Map(%s/%s).Region = %q, %v, want %q, nil", tt.country, tt.state, c.Region, err, tt.want)
		}
	}

	a := account.Account{
		ID: testID(t, 3), Name: "Acme", BillingCity: "Town",
		BillingCountry: "DE", BillingState: "Atlantis", BillingPostalCode: "80331",
	}
	_, err := p.Map(a)
	if !errors.Is(err, ErrUnknownRegion) {
		t.Fatalf("Map(DE/Atlantis) error = %v, want ErrUnknownRegion", err)
	}
	want := `Billing State "Atlantis" is not a region of Germany (DE): use a German state name such as Bavaria or its code BY`
	if err.Error() != want {
		t.Errorf("Map(DE/Atlantis) error = %q, want %q", err, want)
	}
}

func TestMapPicklistCodes(t *testing.T) {
	t.Parallel()
	p := Default()

	tests := []struct {
		name                    string
		countryCode, country    string
		stateCode, state        string
		wantCountry, wantRegion string
	}{
		{"codes win", "DE", "Frankreich", "BY", "Hessen", "DE", "09"},
		{"unknown code falls back to name", "XX", "Germany", "", "Bayern", "DE", "09"},
		{"unknown state code falls back to name", "DE", "", "Q9", "Bavaria", "DE", "09"},
		{"code only", "US", "", "MA", "", "US", "MA"},
	}
	for _, tt := range tests {
		a := account.Account{
			ID: testID(t, 4), Name: "Acme", BillingCity: "Town", BillingPostalCode: "80331",
			BillingCountryCode: tt.countryCode, BillingCountry: tt.country,
			BillingStateCode: tt.stateCode, BillingState: tt.state,
		}
		if tt.wantCountry == "US" {
			a.BillingPostalCode = "02138"
		}
		c, err := p.Map(a)
		if err != nil {
			t.Errorf("%s: Map error: %v", tt.name, err)
		}
		checkFields(t, tt.name+": Map", []fieldCheck{
			{"Country", c.Country, tt.wantCountry},
			{"Region", c.Region, tt.wantRegion},
		})
	}
}

func TestMapPastedAddress(t *testing.T) {
	t.Parallel()
	p := Default()

	a := account.Account{
		ID:            testID(t, 5),
		Name:          "United Oil & Gas, UK",
		BillingStreet: "Kings Park, 17th Avenue, Team Valley Trading Estate,\nGateshead, Tyne and Wear NE26 3HS\nUnited Kingdom",
		BillingState:  "UK",
		Phone:         "+44 191 4956203",
	}
	res, err := p.MapDetailed(a)
	if err != nil {
		t.Fatalf("MapDetailed(pasted GB address) error: %v", err)
	}

	wantCustomer := sap.Customer{
		Names:               []string{"United Oil & Gas, UK"},
		Street:              "Kings Park, 17th Avenue, Team Valley Trading Estate",
		PostalCode:          "NE26 3HS",
		City:                "Gateshead",
		Country:             "GB",
		Language:            "en",
		Phone:               "+44 191 4956203",
		Currency:            "GBP",
		CompanyCode:         "1000",
		SalesOrg:            "1000",
		DistributionChannel: "10",
		Division:            "00",
		ReferenceCustomer:   "0000099999",
		ExternalRef:         testID(t, 5),
	}
	if diff := cmp.Diff(wantCustomer, res.Customer); diff != "" {
		t.Errorf("MapDetailed(pasted GB address).Customer mismatch (-want +got):\n%s", diff)
	}

	line := `BillingStreet line "Gateshead, Tyne and Wear NE26 3HS"`
	wantDerived := []Derivation{
		{Field: FieldBillingCity, Value: "Gateshead", Source: line},
		{Field: FieldBillingPostalCode, Value: "NE26 3HS", Source: line},
		{Field: FieldBillingCountry, Value: "GB", Source: `BillingStreet line "United Kingdom"`},
		{Field: FieldLanguage, Value: "en", Source: "default for GB"},
		{Field: FieldCurrency, Value: "GBP", Source: "default for GB"},
		{Field: FieldCompanyCode, Value: "1000", Source: "pack default"},
		{Field: FieldSalesOrg, Value: "1000", Source: "pack default"},
		{Field: FieldDistributionChannel, Value: "10", Source: "pack default"},
		{Field: FieldDivision, Value: "00", Source: "pack default"},
	}
	if diff := cmp.Diff(wantDerived, res.Derived); diff != "" {
		t.Errorf("MapDetailed(pasted GB address).Derived mismatch (-want +got):\n%s", diff)
	}

	// The Account's own state "UK" wins over "Tyne and Wear" from the text,
	// and is left out because GB has no region table.
	wantNotes := []string{`Billing State "UK" left out: no SAP region table for United Kingdom (GB), and the region is optional there`}
	if diff := cmp.Diff(wantNotes, res.Notes); diff != "" {
		t.Errorf("MapDetailed(pasted GB address).Notes mismatch (-want +got):\n%s", diff)
	}
}

func TestMapOwnFieldsWinOverPastedAddress(t *testing.T) {
	t.Parallel()
	p := Default()

	a := account.Account{
		ID:                testID(t, 6),
		Name:              "Edge Communications",
		BillingStreet:     "312 Constitution Place\nAustin, TX 78767\nUSA",
		BillingCity:       "Round Rock",
		BillingState:      "Texas",
		BillingPostalCode: "78664",
		BillingCountry:    "United States",
	}
	res, err := p.MapDetailed(a)
	if err != nil {
		t.Fatalf("MapDetailed(own fields and pasted address) error: %v", err)
	}
	c := res.Customer
	checkFields(t, "MapDetailed(own fields)", []fieldCheck{
		{"Street", c.Street, "312 Constitution Place"},
		{"City", c.City, "Round Rock"},
		{"PostalCode", c.PostalCode, "78664"},
		{"Region", c.Region, "TX"},
		{"Country", c.Country, "US"},
	})
	for _, d := range res.Derived {
		if strings.HasPrefix(d.Field, "Billing") {
			t.Errorf("MapDetailed(own fields) derived %+v, want no derived address field", d)
		}
	}
}

func TestMapCountryConflictNoted(t *testing.T) {
	t.Parallel()
	p := Default()

	a := account.Account{
		ID:                testID(t, 9),
		Name:              "Pyramid Construction Inc.",
		BillingStreet:     "2 Place Jussieu\nFrance",
		BillingCity:       "Berlin",
		BillingPostalCode: "10115",
		BillingCountry:    "Germany",
	}
	res, err := p.MapDetailed(a)
	if err != nil {
		t.Fatalf("MapDetailed(conflicting countries) error: %v", err)
	}
	checkFields(t, "MapDetailed(conflicting countries)", []fieldCheck{
		{"Country", res.Customer.Country, "DE"},
		{"Street", res.Customer.Street, "2 Place Jussieu"},
	})
	want := []string{`BillingStreet line "France" names France (FR), but Billing Country is Germany (DE), which is used`}
	if diff := cmp.Diff(want, res.Notes); diff != "" {
		t.Errorf("MapDetailed(conflicting countries).Notes mismatch (-want +got):\n%s", diff)
	}
}

func TestMapProblems(t *testing.T) {
	t.Parallel()
	p := Default()

	a := account.Account{
		ID:                "not-an-id",
		Name:              strings.Repeat("Verylongcompanyname ", 8),
		BillingStreet:     strings.Repeat("Industriestraße ", 5),
		BillingState:      "Atlantis",
		BillingPostalCode: "8033",
		BillingCountry:    "Deutschland",
		Phone:             "089 1234 ext. 5",
		Language:          "klingon",
		Currency:          "Euro",
		SalesOrg:          "3000",
		Division:          "123",
	}
	c, err := p.Map(a)
	if err == nil {
		t.Fatalf("Map(broken account) = %+v, nil, want problems", c)
	}
	if !cmp.Equal(c, sap.Customer{}) {
		t.Errorf("Map(broken account) customer = %+v, want zero on error", c)
	}

	var problems *Problems
	if !errors.As(err, &problems) {
		t.Fatalf("Map(broken account) error %T, want *Problems", err)
	}
	if problems.AccountID != "not-an-id" {
		t.Errorf("Problems.AccountID = %q, want not-an-id", problems.AccountID)
	}

	wantFields := []string{
		FieldID, FieldName, FieldBillingState, FieldBillingPostalCode, FieldBillingCity,
		FieldBillingStreet, FieldPhone, FieldLanguage, FieldCurrency, FieldDivision, FieldSalesOrg,
	}
	if diff := cmp.Diff(wantFields, problems.Fields()); diff != "" {
		t.Errorf("Problems.Fields() mismatch (-want +got):\n%s", diff)
	}

	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(problems.List) {
		t.Errorf("Problems.Error() has %d lines, want one per problem (%d)", len(lines), len(problems.List))
	}

	wantInMessages := []string{
		`Account Id "not-an-id" is not a valid Salesforce record id`,
		"Account Name is too long for SAP: split between words it needs 8 lines of 35 characters, but SAP has 4",
		`Billing State "Atlantis" is not a region of Germany (DE)`,
		`Billing Postal Code "8033" is not a valid postal code for Germany (DE): use 5 digits, such as 80331`,
		"Billing City is empty: enter the city",
		"Billing Street \"Industriestraße Industriestraße Industriestraße Industriestraße Industriestraße\" has 79 characters but SAP accepts at most 60",
		`Phone "089 1234 ext. 5" contains characters that SAP does not accept`,
		`Language "klingon" is not a language the SAP system supports`,
		`Currency "Euro" is not an ISO 4217 currency code`,
		`SAP Division "123" has 3 characters but SAP accepts at most 2`,
		`SAP Company Code "1000" and SAP Sales Org "3000" are not an allowed combination: use one of 1000/1000, 2000/2000`,
	}
	for i, want := range wantInMessages {
		if i >= len(lines) {
			t.Errorf("Problems.Error() has no line %d, want %q", i+1, want)
			continue
		}
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("Problems.Error() line %d = %q, want it to start with %q", i+1, lines[i], want)
		}
	}

	for _, sentinel := range []error{ErrInvalidFormat, ErrTooLong, ErrUnknownRegion, ErrMissing, ErrSalesAreaNotAllowed} {
		if !errors.Is(err, sentinel) {
			t.Errorf("errors.Is(problems, %v) = false, want true", sentinel)
		}
	}
	if errors.Is(err, ErrUnknownCountry) {
		t.Errorf("errors.Is(problems, ErrUnknownCountry) = true, want false")
	}
	if !IsPermanent(err) {
		t.Errorf("IsPermanent(problems) = false, want true")
	}
	if !IsPermanent(fmt.Errorf("mapping account: %w", err)) {
		t.Errorf("IsPermanent(wrapped problems) = false, want true")
	}
	if IsPermanent(errors.New("network down")) {
		t.Errorf("IsPermanent(other error) = true, want false")
	}
}

func TestMapNameFits(t *testing.T) {
	t.Parallel()
	p := Default()

	tests := []struct {
		name      string
		wantLines int
		wantErr   error
	}{
		{strings.Repeat("x", 140), 4, nil},
		{strings.Repeat("x", 141), 0, ErrTooLong},
		{strings.Repeat("ü", 140), 4, nil},
		{strings.Repeat("日", 141), 0, ErrTooLong},
		{"", 0, ErrMissing},
	}
	for _, tt := range tests {
		a := germanAccount(t)
		a.Name = tt.name
		res, err := p.MapDetailed(a)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("MapDetailed(name of %d characters) error = %v, want %v", len([]rune(tt.name)), err, tt.wantErr)
		}
		if len(res.Customer.Names) != tt.wantLines {
			t.Errorf("MapDetailed(name of %d characters) = %d name lines, want %d", len([]rune(tt.name)), len(res.Customer.Names), tt.wantLines)
		}
	}
}

func TestMapAccountOverrides(t *testing.T) {
	t.Parallel()
	p := Default()

	a := germanAccount(t)
	a.Language = "en_US"
	a.Currency = "usd"
	a.CompanyCode = "2000"
	a.SalesOrg = "2000"
	a.DistributionChannel = "10"
	a.Division = "00"
	res, err := p.MapDetailed(a)
	if err != nil {
		t.Fatalf("MapDetailed(overrides) error: %v", err)
	}
	c := res.Customer
	checkFields(t, "MapDetailed(overrides)", []fieldCheck{
		{"Language", c.Language, "en"},
		{"Currency", c.Currency, "USD"},
		{"CompanyCode", c.CompanyCode, "2000"},
		{"SalesOrg", c.SalesOrg, "2000"},
		{"ReferenceCustomer", c.ReferenceCustomer, "0000099999"},
	})
	if len(res.Derived) != 0 {
		t.Errorf("MapDetailed(overrides).Derived = %+v, want none", res.Derived)
	}

	// A sales area without a reference customer is a problem.
	a.DistributionChannel = "20"
	_, err = p.Map(a)
	if !errors.Is(err, ErrSalesAreaNotAllowed) {
		t.Fatalf("Map(2000/20/00) error = %v, want ErrSalesAreaNotAllowed", err)
	}
	for _, want := range []string{"Sales area 2000/20/00", "such as 1000/10/00, 2000/10/00"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Map(2000/20/00) error = %q, want it to contain %q", err, want)
		}
	}
}

func TestMapLanguageDefaults(t *testing.T) {
	t.Parallel()
	p := Default()

	tests := []struct {
		country, postal string
		want            string
	}{
		{"DE", "80331", "de"},
		{"US", "02138", "en"},
		{"FR", "75001", "fr"},
		{"JP", "100-0001", "ja"},
		{"KE", "", "en"},
		{"AF", "", "en"}, // no SAP language for the country: the pack default
	}
	for _, tt := range tests {
		a := account.Account{ID: testID(t, 7), Name: "Acme", BillingCity: "Town", BillingCountry: tt.country, BillingPostalCode: tt.postal}
		if tt.country == "US" {
			a.BillingState = "MA"
		}
		c, err := p.Map(a)
		if err != nil || c.Language != tt.want {
			t.Errorf("Map(country %s).Language = %q, %v, want %q, nil", tt.country, c.Language, err, tt.want)
		}
	}
}

func TestMapConcurrentUse(t *testing.T) {
	t.Parallel()
	p := Default()
	a := germanAccount(t)
	want, err := p.Map(a)
	if err != nil {
		t.Fatalf("Map(german account) error: %v", err)
	}

	// One Pack serves many goroutines; the race detector checks the reads.
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			for range 50 {
				got, err := p.Map(a)
				if err != nil {
					errs <- err
					return
				}
				if !cmp.Equal(want, got) {
					errs <- fmt.Errorf("concurrent Map = %+v, want %+v", got, want)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// sampleAccount is a record of the shared sample data, with Salesforce's
// REST field names.
type sampleAccount struct {
	Name              string
	Type              string
	Phone             *string
	Fax               *string
	BillingStreet     *string
	BillingCity       *string
	BillingState      *string
	BillingPostalCode *string
	BillingCountry    *string
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func TestMapSampleAccounts(t *testing.T) {
	t.Parallel()
	p := Default()

	var samples []sampleAccount
	if err := json.Unmarshal(fixtures.Read(t, "fixtures/salesforce/sample-accounts.json"), &samples); err != nil {
		t.Fatalf("decoding sample accounts: %v", err)
	}
	if len(samples) == 0 {
		t.Fatalf("sample accounts file contains no accounts")
	}

	mapped := 0
	for i, s := range samples {
		a := account.Account{
			// The samples carry no ids, so each gets a made-up valid one.
			ID:                testID(t, 100+i),
			Name:              s.Name,
			Type:              s.Type,
			Phone:             deref(s.Phone),
			Fax:               deref(s.Fax),
			BillingStreet:     deref(s.BillingStreet),
			BillingCity:       deref(s.BillingCity),
			BillingState:      deref(s.BillingState),
			BillingPostalCode: deref(s.BillingPostalCode),
			BillingCountry:    deref(s.BillingCountry),
		}
		res, err := p.MapDetailed(a)
		if err != nil {
			var problems *Problems
			if !errors.As(err, &problems) || len(problems.List) == 0 {
				t.Errorf("MapDetailed(%q) error %v, want *Problems with at least one problem", s.Name, err)
				continue
			}
			for _, pr := range problems.List {
				if pr.Field == "" || pr.Message == "" || pr.Err == nil {
					t.Errorf("MapDetailed(%q) problem %+v lacks a field, message or sentinel", s.Name, pr)
				}
			}
			t.Logf("%s: %v", s.Name, err)
			continue
		}

		mapped++
		c := res.Customer
		if c.Country == "" {
			t.Errorf("MapDetailed(%q) mapped without a country", s.Name)
		}
		if c.City == "" {
			t.Errorf("MapDetailed(%q) mapped without a city", s.Name)
		}
		if len(c.Names) == 0 {
			t.Errorf("MapDetailed(%q) mapped without a name", s.Name)
		}
		if c.Language == "" {
			t.Errorf("MapDetailed(%q) mapped without a language", s.Name)
		}
		if c.ExternalRef != a.ID {
			t.Errorf("MapDetailed(%q).ExternalRef = %q, want %q", s.Name, c.ExternalRef, a.ID)
		}
		if strings.Contains(c.Street, "\n") {
			t.Errorf("MapDetailed(%q).Street = %q, want a single line", s.Name, c.Street)
		}
		t.Logf("%s: %s | %s %s %s %s | derived %d", s.Name, c.Street, c.PostalCode, c.City, c.Region, c.Country, len(res.Derived))
	}

	// Every sample account has a country in its fields or its street, so
	// all of them map.
	if mapped != len(samples) {
		t.Errorf("mapped %d of %d sample accounts, want all", mapped, len(samples))
	}
}

func BenchmarkMap(b *testing.B) {
	p := Default()
	accounts := []account.Account{
		germanAccount(b),
		{
			ID:            testID(b, 8),
			Name:          "University of Arizona",
			BillingStreet: "888 N Euclid \nHallis Center, Room 501\nTucson, AZ 85721\nUnited States",
			BillingCity:   "Tucson",
			BillingState:  "AZ",
			Phone:         "(520) 773-9050",
		},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := p.Map(accounts[i%len(accounts)]); err != nil {
			b.Fatalf("Map error: %v", err)
		}
	}
}

func TestMapStripsControlCharacters(t *testing.T) {
	t.Parallel()
	a := account.Account{
		ID: "001Hx00000ABcDeIAL", Name: "Ctl\x00\x01\x1b Co\tLtd",
		BillingStreet: "1 Main St\n\x07Unit 2", BillingCity: "Leeds\x7f",
		BillingPostalCode: "LS1 4HG", BillingCountry: "GB",
	}
	res, err := Default().MapDetailed(a)
	if err != nil {
		t.Fatalf("MapDetailed: %v", err)
	}
	if got := res.Customer.Names[0]; got != "Ctl Co Ltd" {
		t.Errorf("NAME1 = %q, want control characters removed: %q", got, "Ctl Co Ltd")
	}
	if strings.ContainsAny(res.Customer.Street+res.Customer.City, "\x07\x7f") {
		t.Errorf("street %q or city %q still hold control characters", res.Customer.Street, res.Customer.City)
	}
	if len(res.Notes) == 0 {
		t.Error("no note says that characters were removed")
	}
}

func TestProblemQuotesLongValueShort(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Industriestrasse ", 30)
	_, err := Default().Map(account.Account{
		ID: "001Hx00000ABcDeIAL", Name: "Acme", BillingStreet: long,
		BillingCity: "Berlin", BillingPostalCode: "10115", BillingCountry: "DE",
	})
	if err == nil {
		t.Fatal("Map with a 510-character street = nil error, want a problem")
	}
	msg := err.Error()
	if strings.Contains(msg, long) {
		t.Errorf("message quotes the whole street: %d characters", len(msg))
	}
	if len([]rune(msg)) > 255 {
		t.Errorf("message is %d characters, want it to fit the 255-character error field with its fix: %q", len([]rune(msg)), msg)
	}
}

func TestMapRejectsPlaceholdersAndInvisibleNames(t *testing.T) {
	t.Parallel()
	base := account.Account{ID: "001Hx00000ABcDeIAL", Name: "Acme", BillingCity: "Windhoek", BillingCountry: "NA"}
	if _, err := Default().Map(base); err != nil {
		t.Fatalf("Map with country NA (Namibia): %v, want success", err)
	}
	for _, country := range []string{"N/A", "n.a.", "unknown", "-"} {
		a := base
		a.BillingCountry = country
		_, err := Default().Map(a)
		if err == nil || !strings.Contains(err.Error(), "placeholder") {
			t.Errorf("Map with country %q = %v, want a placeholder problem", country, err)
		}
	}
	a := base
	a.Name = "\u200b\u200d\ufeff"
	if _, err := Default().Map(a); err == nil || !strings.Contains(err.Error(), "Account Name is empty") {
		t.Errorf("Map with a name of zero-width characters = %v, want an empty-name problem", err)
	}
}
