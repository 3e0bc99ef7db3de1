package sapsim

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxLengths contains the lengths the simulator enforces, in characters,
// for the fields of PI_COMPANYDATA and PI_PERSONALDATA. The names are 35
// because KNA1-NAME1..NAME4 hold 35 characters. The others follow the
// central address fields.
var maxLengths = []struct {
	field string
	limit int
}{
	{"NAME", 35}, {"NAME_2", 35}, {"NAME_3", 35}, {"NAME_4", 35},
	{"FIRSTNAME", 35}, {"LASTNAME", 35},
	{"STREET", 60}, {"HOUSE_NO", 10}, {"CITY", 40}, {"POSTL_COD1", 10}, {"REGION", 3},
	{"COUNTRY", 3}, {"COUNTRYISO", 2},
	{"LANGU", 1}, {"LANGU_P", 1}, {"LANGU_ISO", 2}, {"LANGUP_ISO", 2},
	{"TEL1_NUMBR", 30}, {"FAX_NUMBER", 30}, {"E_MAIL", 241}, {"CURRENCY", 5},
}

// newCustomer checks the create parameters of BAPI_CUSTOMER_CREATEFROMDATA1
// as the BAPI does and returns the customer to create, without a number,
// or the first error message.
func (s *Server) newCustomer(params map[string]any) (*Customer, *message) {
	company := paramStruct(params, "PI_COMPANYDATA")
	person := paramStruct(params, "PI_PERSONALDATA")
	switch {
	case filled(company) && filled(person):
		return nil, fail(msgSim("001", "Fill either PI_COMPANYDATA or PI_PERSONALDATA, not both"))
	case !filled(company) && !filled(person):
		return nil, fail(msgSim("002", "Fill PI_COMPANYDATA or PI_PERSONALDATA"))
	}

	// The person structure names some fields differently.
	data, nameField, languField, languISOField := company, "NAME", "LANGU", "LANGU_ISO"
	if filled(person) {
		data, nameField, languField, languISOField = person, "LASTNAME", "LANGU_P", "LANGUP_ISO"
	}
	get := func(name string) string { return strings.TrimSpace(paramString(data, name)) }

	for _, name := range []string{nameField, "CITY"} {
		if get(name) == "" {
			return nil, fail(msgSim("003", "Required field &1 is empty", name))
		}
	}
	if get("COUNTRY") == "" && get("COUNTRYISO") == "" {
		return nil, fail(msgSim("003", "Required field &1 is empty", "COUNTRY"))
	}
	if get(languField) == "" && get(languISOField) == "" {
		return nil, fail(msgSim("003", "Required field &1 is empty", languField))
	}
	for _, l := range maxLengths {
		if v := paramString(data, l.field); utf8.RuneCountInString(v) > l.limit {
			return nil, fail(msgSim("004", "Field &1 is longer than &2 characters", l.field, strconv.Itoa(l.limit)))
		}
	}

	c := &Customer{
		Person:     filled(person),
		Name:       get(nameField),
		Street:     get("STREET"),
		HouseNo:    get("HOUSE_NO"),
		PostalCode: get("POSTL_COD1"),
		City:       get("CITY"),
		Region:     get("REGION"),
		Phone:      get("TEL1_NUMBR"),
		Fax:        get("FAX_NUMBER"),
		Email:      get("E_MAIL"),
	}
	if c.Person {
		c.Name2 = get("FIRSTNAME")
	} else {
		c.Name2, c.Name3, c.Name4 = get("NAME_2"), get("NAME_3"), get("NAME_4")
	}

	// The SAP format wins over the ISO one when both are sent.
	c.Country = strings.ToUpper(firstOf(get("COUNTRY"), get("COUNTRYISO")))
	if !countries[c.Country] {
		return nil, fail(msgCountryUnknown(c.Country))
	}
	if key := strings.ToUpper(get(languField)); key != "" {
		if _, ok := languages[key]; !ok {
			return nil, fail(msgSim("005", "Language &1 is not defined", key))
		}
		c.Language = key
	} else {
		iso := strings.ToUpper(get(languISOField))
		key, ok := isoLanguages[iso]
		if !ok {
			return nil, fail(msgSim("005", "Language &1 is not defined", iso))
		}
		c.Language = key
	}
	c.Currency = strings.ToUpper(firstOf(get("CURRENCY"), get("CURRENCY_ISO")))
	if c.Currency != "" && !currencies[c.Currency] {
		return nil, fail(msgSim("006", "Currency &1 is not defined", c.Currency))
	}
	if m := checkRegion(c.Country, c.Region); m != nil {
		return nil, m
	}
	if m := checkPostalCode(c.Country, c.PostalCode); m != nil {
		return nil, m
	}

	if m := s.copyReference(c, paramStruct(params, "PI_COPYREFERENCE")); m != nil {
		return nil, m
	}
	return c, nil
}

// copyReference checks PI_COPYREFERENCE and copies the reference
// customer's data into c. s.mu must be held.
func (s *Server) copyReference(c *Customer, copyRef map[string]any) *message {
	area := SalesArea{
		SalesOrg:            strings.TrimSpace(paramString(copyRef, "SALESORG")),
		DistributionChannel: strings.TrimSpace(paramString(copyRef, "DISTR_CHAN")),
		Division:            strings.TrimSpace(paramString(copyRef, "DIVISION")),
	}
	refNo := normalizeNumber(paramString(copyRef, "REF_CUSTMR"))
	if refNo == "" {
		return fail(msgSim("007", "Enter the reference customer in PI_COPYREFERENCE"))
	}
	if area.SalesOrg == "" || area.DistributionChannel == "" || area.Division == "" {
		return fail(msgSalesAreaIncomplete())
	}
	ref, ok := s.references[refNo]
	if !ok {
		if _, isCustomer := s.byNumber[refNo]; isCustomer {
			return fail(msgNotInSalesArea(refNo, area))
		}
		return fail(msgDebtorMissing(refNo))
	}
	found := false
	for _, a := range ref.SalesAreas {
		if a == area {
			found = true
			break
		}
	}
	if !found {
		return fail(msgNotInSalesArea(refNo, area))
	}
	if _, ok := s.opts.NumberRanges[ref.AccountGroup]; !ok {
		return fail(msgSim("013", "Account group &1 has no internal number range", ref.AccountGroup))
	}

	c.AccountGroup = ref.AccountGroup
	c.SalesArea = area
	c.CompanyCodes = append([]string(nil), ref.CompanyCodes...)
	c.Reference = ref.Number
	return nil
}

func checkRegion(country, region string) *message {
	allowed, checked := regions[country]
	if region == "" || !checked {
		return nil
	}
	if !allowed[strings.ToUpper(region)] {
		return fail(msgRegionUnknown(region, country))
	}
	return nil
}

// checkPostalCode applies the country's postal code rule. Countries
// without a rule accept any code up to the field length.
func checkPostalCode(country, code string) *message {
	rule, ok := postalRules[country]
	if code == "" || !ok {
		return nil
	}
	if rule.numeric && strings.ContainsAny(code, " \t") {
		return fail(msgPostalBlanks())
	}
	if len(rule.lengths) > 0 && !containsInt(rule.lengths, len(code)) {
		return fail(msgPostalLength(strconv.Itoa(rule.lengths[0])))
	}
	if rule.numeric {
		digits := code
		if country == "US" && len(code) == 10 {
			if code[5] != '-' {
				return fail(msgPostalDigits())
			}
			digits = code[:5] + code[6:]
		}
		if strings.Trim(digits, "0123456789") != "" {
			return fail(msgPostalDigits())
		}
	}
	return nil
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func filled(m map[string]any) bool {
	for _, v := range m {
		if s, ok := v.(string); !ok || strings.TrimSpace(s) != "" {
			return true
		}
	}
	return false
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

func fail(m message) *message { return &m }
