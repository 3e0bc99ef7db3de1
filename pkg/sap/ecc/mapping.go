package ecc

import (
	"fmt"
	"strings"

	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sap/rfc"
)

// nameFields are the BAPIKNA106 fields of the four name lines.
var nameFields = []string{"NAME", "NAME_2", "NAME_3", "NAME_4"}

// sapLanguageKeys maps ISO 639-1 codes to SAP's one-character language
// keys (table T002 of a standard system).
var sapLanguageKeys = map[string]string{
	"SR": "0", "ZH": "1", "TH": "2", "KO": "3", "RO": "4", "SL": "5", "HR": "6",
	"MS": "7", "UK": "8", "ET": "9", "AR": "A", "HE": "B", "CS": "C", "DE": "D",
	"EN": "E", "FR": "F", "EL": "G", "HU": "H", "IT": "I", "JA": "J", "DA": "K",
	"PL": "L", "ZF": "M", "NL": "N", "NO": "O", "PT": "P", "SK": "Q", "RU": "R",
	"ES": "S", "TR": "T", "FI": "U", "SV": "V", "BG": "W", "LT": "X", "LV": "Y",
}

// companyData returns PI_COMPANYDATA (structure BAPIKNA106) for c. Empty
// values are left out, so SAP keeps its initial values. Country goes to
// both COUNTRY and COUNTRYISO, because a standard system's country keys
// are the ISO codes.
func (a *Adapter) companyData(c sap.Customer) (map[string]any, error) {
	if len(c.Names) > len(nameFields) {
		return nil, fmt.Errorf("%w: %d name lines, but BAPIKNA106 accepts at most %d (NAME to NAME_4): shorten the name", ErrInvalidCustomer, len(c.Names), len(nameFields))
	}
	data := map[string]any{}
	set := func(field, value string) {
		if value = strings.TrimSpace(value); value != "" {
			data[field] = value
		}
	}
	for i, name := range c.Names {
		set(nameFields[i], name)
	}
	set("STREET", c.Street)
	set("HOUSE_NO", c.HouseNo)
	set("POSTL_COD1", c.PostalCode)
	set("CITY", c.City)
	set("COUNTRY", strings.ToUpper(c.Country))
	set("COUNTRYISO", strings.ToUpper(c.Country))
	set("REGION", c.Region)
	set("TEL1_NUMBR", c.Phone)
	set("FAX_NUMBER", c.Fax)
	set("E_MAIL", c.Email)
	set("CURRENCY", strings.ToUpper(c.Currency))

	lang := strings.ToUpper(strings.TrimSpace(c.Language))
	if lang == "" {
		lang = strings.ToUpper(a.cfg.DefaultLanguage)
	}
	if a.cfg.LanguageField == "LANGU" {
		key, ok := sapLanguageKeys[lang]
		if !ok {
			return nil, fmt.Errorf("%w: language %q has no SAP language key: use an ISO 639-1 code such as EN, or set language_field to LANGU_ISO", ErrInvalidCustomer, c.Language)
		}
		lang = key
	}
	set(a.cfg.LanguageField, lang)
	return data, nil
}

// copyReference returns PI_COPYREFERENCE (structure BAPIKNA102) for c.
func copyReference(c sap.Customer) map[string]any {
	return map[string]any{
		"SALESORG":   strings.TrimSpace(c.SalesOrg),
		"DISTR_CHAN": strings.TrimSpace(c.DistributionChannel),
		"DIVISION":   strings.TrimSpace(c.Division),
		"REF_CUSTMR": sap.NormalizeCustomerNo(c.ReferenceCustomer),
	}
}

// externalRef returns the form of a Salesforce id that is stored in and
// searched for in SAP: trimmed and upper-cased. The 18-character id stays
// unique without case, and upper case matches what SAP stores in fields
// whose domain is upper case only.
func externalRef(ref string) string {
	return strings.ToUpper(strings.TrimSpace(ref))
}

// returnMessages converts a RETURN parameter to messages. RETURN is a
// structure (BAPIRETURN1, BAPIRET2) in most BAPIs and a table of BAPIRET2
// in others. Rows without a type and text are left out.
func returnMessages(result map[string]any) []sap.Message {
	rows := rfc.Table(result, "RETURN")
	if rows == nil {
		if s := rfc.Struct(result, "RETURN"); s != nil {
			rows = []map[string]any{s}
		}
	}
	var msgs []sap.Message
	for _, row := range rows {
		m := sap.Message{
			Type:    strings.TrimSpace(rfc.String(row, "TYPE")),
			ID:      strings.TrimSpace(rfc.String(row, "ID")),
			Number:  strings.TrimSpace(rfc.String(row, "NUMBER")),
			Message: strings.TrimSpace(rfc.String(row, "MESSAGE")),
		}
		if m.Type == "" && m.Message == "" {
			continue
		}
		if m.Number == "000" && m.ID == "" {
			m.Number = ""
		}
		msgs = append(msgs, m)
	}
	return msgs
}
