package mapping

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sfid"
)

// Fields named in [Problem] and [Derivation]. Standard Account fields use
// their Salesforce API names. The SAP organisational data and the language
// live in custom fields whose API names differ per org (see
// account.Fields), so they use the account.Account field names.
const (
	FieldID                  = "Id"
	FieldName                = "Name"
	FieldBillingStreet       = "BillingStreet"
	FieldBillingCity         = "BillingCity"
	FieldBillingState        = "BillingState"
	FieldBillingStateCode    = "BillingStateCode"
	FieldBillingPostalCode   = "BillingPostalCode"
	FieldBillingCountry      = "BillingCountry"
	FieldBillingCountryCode  = "BillingCountryCode"
	FieldPhone               = "Phone"
	FieldFax                 = "Fax"
	FieldCurrency            = "CurrencyIsoCode"
	FieldLanguage            = "Language"
	FieldCompanyCode         = "CompanyCode"
	FieldSalesOrg            = "SalesOrg"
	FieldDistributionChannel = "DistributionChannel"
	FieldDivision            = "Division"
)

// fieldLabels maps each field to its label on the Salesforce Account page.
var fieldLabels = map[string]string{
	FieldID:                  "Account Id",
	FieldName:                "Account Name",
	FieldBillingStreet:       "Billing Street",
	FieldBillingCity:         "Billing City",
	FieldBillingState:        "Billing State",
	FieldBillingStateCode:    "Billing State Code",
	FieldBillingPostalCode:   "Billing Postal Code",
	FieldBillingCountry:      "Billing Country",
	FieldBillingCountryCode:  "Billing Country Code",
	FieldPhone:               "Phone",
	FieldFax:                 "Fax",
	FieldCurrency:            "Currency",
	FieldLanguage:            "Language",
	FieldCompanyCode:         "SAP Company Code",
	FieldSalesOrg:            "SAP Sales Org",
	FieldDistributionChannel: "SAP Distribution Channel",
	FieldDivision:            "SAP Division",
}

// SAP address field lengths (BAPIKNA106 STREET and CITY).
const (
	streetMax = 60
	cityMax   = 40
)

// Result is a mapped customer together with a record of where values came
// from when they were not in their own Account field.
type Result struct {
	Customer sap.Customer
	// Derived lists values taken from a pasted address in BillingStreet or
	// from the pack's defaults.
	Derived []Derivation
	// Notes lists inputs that were left out of the customer, with the
	// reason, such as a state for a country without a region table.
	Notes []string
}

// Derivation records one value that Map filled in.
type Derivation struct {
	// Field is the Account field whose value Map filled in.
	Field string
	Value string
	// Source is the origin of the value, such as
	// `BillingStreet line "Austin, TX 78767"` or "default for DE".
	Source string
}

// Map turns an Account into the SAP customer to create. It returns a
// *[Problems] error listing every problem found when the Account cannot be
// mapped, and then a zero Customer. The customer's ExternalRef is the
// 18-character form of the Account id.
func (p *Pack) Map(a account.Account) (sap.Customer, error) {
	res, err := p.MapDetailed(a)
	if err != nil {
		return sap.Customer{}, err
	}
	return res.Customer, nil
}

// MapDetailed works like [Pack.Map] and also returns the record of derived
// values. On error the Result contains what could be mapped, for diagnosis.
//
// Account fields win over everything else. A BillingStreet that contains a
// whole address fills city, state, postal code and country only where the
// Account's own fields are empty. BillingCountryCode and BillingStateCode,
// set by Salesforce's state and country picklists, are tried before
// BillingCountry and BillingState. The house number stays in Street and
// HouseNo stays empty, because the order of number and street name differs
// between countries and SAP prints STREET as given. An empty street is not
// a problem, because SAP does not require one.
func (p *Pack) MapDetailed(a account.Account) (Result, error) {
	var res Result
	problems := &Problems{AccountID: a.ID}
	c := &res.Customer
	a, res.Notes = stripControls(a)

	if id, err := sfid.To18(strings.TrimSpace(a.ID)); err != nil {
		problems.add(FieldID, a.ID, fmt.Sprintf("Account Id %q is not a valid Salesforce record id, so sfsap cannot link the SAP customer to it", a.ID), ErrInvalidFormat)
	} else {
		c.ExternalRef = id
	}

	c.Names = p.mapName(a.Name, problems)
	p.mapAddress(a, &res, problems)

	c.Phone = p.optionalPhone(FieldPhone, a.Phone, problems)
	c.Fax = p.optionalPhone(FieldFax, a.Fax, problems)
	p.mapLanguage(a.Language, &res, problems)
	p.mapCurrency(a.Currency, &res, problems)
	p.mapOrganization(a, &res, problems)

	if len(problems.List) > 0 {
		return res, problems
	}
	return res, nil
}

func (p *Pack) mapName(name string, problems *Problems) []string {
	lines := splitName(name)
	switch {
	case len(lines) == 0:
		problems.add(FieldName, name, "Account Name is empty: enter the company name, because SAP needs a name for the customer", ErrMissing)
		return nil
	case len(lines) > nameLines:
		problems.add(FieldName, name, fmt.Sprintf(
			"Account Name is too long for SAP: split between words it needs %d lines of %d characters, but SAP has %d (NAME1 to NAME4). Shorten it, for example by abbreviating \"Corporation\" to \"Corp.\"",
			len(lines), nameLineMax, nameLines), ErrTooLong)
		return nil
	}
	return lines
}

func (p *Pack) mapAddress(a account.Account, res *Result, problems *Problems) {
	c := &res.Customer
	derive := func(field, value, source string) {
		res.Derived = append(res.Derived, Derivation{Field: field, Value: value, Source: source})
	}

	ownField, ownCountry := p.ownCountry(a)
	pasted := p.splitStreet(a.BillingStreet, ownCountry)
	localitySource := fmt.Sprintf("BillingStreet line %q", pasted.localityLine)

	city := collapseSpace(a.BillingCity)
	if city == "" && pasted.city != "" {
		city = pasted.city
		derive(FieldBillingCity, city, localitySource)
	}
	postal := a.BillingPostalCode
	if collapseSpace(postal) == "" && pasted.postalCode != "" {
		postal = pasted.postalCode
		derive(FieldBillingPostalCode, postal, localitySource)
	}
	stateField, stateValue := firstSet(
		FieldBillingStateCode, a.BillingStateCode,
		FieldBillingState, a.BillingState)
	if stateValue == "" && pasted.state != "" {
		stateField, stateValue = FieldBillingState, pasted.state
		derive(FieldBillingState, stateValue, localitySource)
	}

	country := p.mapCountry(a, ownField, ownCountry, pasted, res, problems)
	c.Country = country

	if country != "" {
		c.Region = p.mapRegion(a, country, stateField, stateValue, res, problems)
	}

	postalCode, problem := p.postalCode(country, postal)
	if problem != nil {
		problems.addProblem(problem)
	}
	c.PostalCode = postalCode

	switch n := utf8.RuneCountInString(city); {
	case n == 0:
		problems.add(FieldBillingCity, "", "Billing City is empty: enter the city, because SAP needs one", ErrMissing)
	case n > cityMax:
		problems.add(FieldBillingCity, city, fmt.Sprintf("Billing City %q has %d characters but SAP accepts at most %d: shorten it", city, n, cityMax), ErrTooLong)
	default:
		c.City = city
	}

	if n := utf8.RuneCountInString(pasted.street); n > streetMax {
		problems.add(FieldBillingStreet, a.BillingStreet, fmt.Sprintf(
			"Billing Street %q has %d characters but SAP accepts at most %d for the street: shorten it, for example by abbreviating \"Avenue\" to \"Ave\"",
			pasted.street, n, streetMax), ErrTooLong)
	} else {
		c.Street = pasted.street
	}
}

// ownCountry returns the country code from the Account's own fields and
// the field it came from, trying BillingCountryCode before BillingCountry.
// The code is "" when neither field contains a known country.
func (p *Pack) ownCountry(a account.Account) (field, code string) {
	if code, ok := p.Country(a.BillingCountryCode); ok {
		return FieldBillingCountryCode, code
	}
	code, _ = p.Country(a.BillingCountry)
	return FieldBillingCountry, code
}

// mapCountry picks the country from the Account's own fields, else from a
// country line in the street. An empty or unknown country is a problem and
// is never replaced by a default.
func (p *Pack) mapCountry(a account.Account, ownField, ownCountry string, pasted pastedAddress, res *Result, problems *Problems) string {
	countryField, countryValue := firstSet(
		FieldBillingCountryCode, a.BillingCountryCode,
		FieldBillingCountry, a.BillingCountry)

	switch {
	case ownCountry != "":
		if pasted.country != "" && pasted.country != ownCountry {
			res.Notes = append(res.Notes, fmt.Sprintf("BillingStreet line %q names %s, but %s is %s, which is used",
				pasted.countryLine, p.countryLabel(pasted.country), fieldLabels[ownField], p.countryLabel(ownCountry)))
		}
		return ownCountry
	case countryValue != "":
		_, problem := p.resolveCountry(countryField, countryValue)
		problems.addProblem(problem)
		return ""
	case pasted.country != "":
		res.Derived = append(res.Derived, Derivation{
			Field:  FieldBillingCountry,
			Value:  pasted.country,
			Source: fmt.Sprintf("BillingStreet line %q", pasted.countryLine),
		})
		return pasted.country
	default:
		_, problem := p.resolveCountry(FieldBillingCountry, "")
		problems.addProblem(problem)
		return ""
	}
}

// mapRegion resolves the state in a known country. A state code that is
// not in the table gets a second chance through the state name, because
// orgs switching to state picklists sometimes hold both.
func (p *Pack) mapRegion(a account.Account, country, field, value string, res *Result, problems *Problems) string {
	region, err := p.region(country, field, value)
	if err != nil && field == FieldBillingStateCode && collapseSpace(a.BillingState) != "" {
		if byName, errName := p.region(country, FieldBillingState, a.BillingState); errName == nil {
			return byName
		}
	}
	if err == nil {
		return region
	}

	problem := err.(*Problem)
	if problem.Err == ErrNoRegionTable {
		res.Notes = append(res.Notes, fmt.Sprintf("%s %q left out: no SAP region table for %s, and the region is optional there",
			fieldLabels[field], value, p.countryLabel(country)))
		return ""
	}
	problems.addProblem(problem)
	return ""
}

func (p *Pack) optionalPhone(field, value string, problems *Problems) string {
	number, problem := phone(field, value)
	if problem != nil {
		problems.addProblem(problem)
	}
	return number
}

// mapLanguage takes the Account's language, which may also be a
// Salesforce locale such as "de_DE", else the country's default, else the
// pack's default.
func (p *Pack) mapLanguage(value string, res *Result, problems *Problems) {
	c := &res.Customer
	lang := strings.ToLower(strings.TrimSpace(value))
	if i := strings.IndexAny(lang, "_-"); i >= 0 {
		lang = lang[:i]
	}

	if lang != "" {
		if !languagePattern.MatchString(lang) || (len(p.languages) > 0 && !p.languages[lang]) {
			problems.add(FieldLanguage, value, fmt.Sprintf(
				"Language %q is not a language the SAP system supports: use a two-letter ISO 639-1 code such as de or en, or leave it empty to use the default for the country",
				value), ErrInvalidFormat)
			return
		}
		c.Language = lang
		return
	}

	if info := p.countries[c.Country]; info != nil && info.language != "" {
		c.Language = info.language
		res.Derived = append(res.Derived, Derivation{Field: FieldLanguage, Value: c.Language, Source: "default for " + c.Country})
		return
	}
	c.Language = p.defaultLanguage
	res.Derived = append(res.Derived, Derivation{Field: FieldLanguage, Value: c.Language, Source: "pack default"})
}

// mapCurrency takes the Account's currency, else the country's default.
// Without either it stays empty, and SAP takes the country's currency.
func (p *Pack) mapCurrency(value string, res *Result, problems *Problems) {
	c := &res.Customer
	cur := strings.ToUpper(strings.TrimSpace(value))
	if cur != "" {
		if !currencyPattern.MatchString(cur) {
			problems.add(FieldCurrency, value, fmt.Sprintf(
				"Currency %q is not an ISO 4217 currency code: use a three-letter code such as EUR or USD", value), ErrInvalidFormat)
			return
		}
		c.Currency = cur
		return
	}
	if info := p.countries[c.Country]; info != nil && info.currency != "" {
		c.Currency = info.currency
		res.Derived = append(res.Derived, Derivation{Field: FieldCurrency, Value: c.Currency, Source: "default for " + c.Country})
	}
}

// firstSet returns the first field whose value is not blank, or the last
// field and "" when all are blank. Arguments alternate field and value.
func firstSet(pairs ...string) (field, value string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		if v := collapseSpace(pairs[i+1]); v != "" {
			return pairs[i], v
		}
	}
	return pairs[len(pairs)-2], ""
}

// stripControls removes control characters and invalid UTF-8 from the
// Account's text fields, keeping line breaks in BillingStreet, where they
// separate address lines. Such characters are invisible in Salesforce and
// cannot travel in SAP's XML, so they are dropped with a note rather than
// reported as a problem the rep could not see.
func stripControls(a account.Account) (account.Account, []string) {
	var notes []string
	clean := func(field string, v *string, keepLines bool) {
		out := strings.Map(func(r rune) rune {
			if keepLines && (r == '\n' || r == '\r') {
				return r
			}
			if r == '\t' {
				return ' '
			}
			// Format characters (zero-width spaces, direction overrides)
			// are invisible too and would make an empty name look filled.
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
				return -1
			}
			return r
		}, strings.ToValidUTF8(*v, string(utf8.RuneError)))
		if out != strings.ReplaceAll(*v, "\t", " ") {
			notes = append(notes, fmt.Sprintf("%s: removed control characters or invalid text encoding", field))
		}
		*v = out
	}
	clean(FieldName, &a.Name, false)
	clean(FieldBillingStreet, &a.BillingStreet, true)
	clean(FieldBillingCity, &a.BillingCity, false)
	clean(FieldBillingState, &a.BillingState, false)
	clean(FieldBillingPostalCode, &a.BillingPostalCode, false)
	clean(FieldBillingCountry, &a.BillingCountry, false)
	clean(FieldPhone, &a.Phone, false)
	clean(FieldFax, &a.Fax, false)
	return a, notes
}
