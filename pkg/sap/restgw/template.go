package restgw

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"

	"github.com/sfsap/sfsap/pkg/sap"
)

// DefaultRequestTemplate renders a customer as the import parameters of
// a service generated from a wrapper around BAPI_CUSTOMER_CREATEFROMDATA1:
// structures PI_COMPANYDATA and PI_COPYREFERENCE as nested objects with
// the BAPI's field names, and EXTERNAL_REF with the Salesforce id for the
// wrapper to store. A service on the plain BAPI has no parameter for the
// id, so it needs a template without EXTERNAL_REF, and lookups then need
// another way to find the id.
const DefaultRequestTemplate = `{
  "PI_COMPANYDATA": {
    "NAME": {{json (line .Names 0)}},
    "NAME_2": {{json (line .Names 1)}},
    "NAME_3": {{json (line .Names 2)}},
    "NAME_4": {{json (line .Names 3)}},
    "STREET": {{json .Street}},
    "HOUSE_NO": {{json .HouseNo}},
    "POSTL_COD1": {{json .PostalCode}},
    "CITY": {{json .City}},
    "COUNTRY": {{json (upper .Country)}},
    "COUNTRYISO": {{json (upper .Country)}},
    "REGION": {{json .Region}},
    "LANGU_ISO": {{json (upper (or .Language "EN"))}},
    "TEL1_NUMBR": {{json .Phone}},
    "FAX_NUMBER": {{json .Fax}},
    "E_MAIL": {{json .Email}},
    "CURRENCY": {{json (upper .Currency)}}
  },
  "PI_COPYREFERENCE": {
    "SALESORG": {{json .SalesOrg}},
    "DISTR_CHAN": {{json .DistributionChannel}},
    "DIVISION": {{json .Division}},
    "REF_CUSTMR": {{json (customerNo .ReferenceCustomer)}}
  },
  "EXTERNAL_REF": {{json .ExternalRef}}
}
`

// templateFuncs are the functions that the request and lookup templates
// may call, besides text/template's built-ins such as urlquery and or.
var templateFuncs = template.FuncMap{
	// json renders v as a JSON value, such as a quoted and escaped string.
	// It keeps characters such as & and < as they are.
	"json": func(v any) (string, error) {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return "", err
		}
		return strings.TrimSuffix(b.String(), "\n"), nil
	},
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	"trim":  strings.TrimSpace,
	// line returns name line i, or "" when there are fewer lines.
	"line": func(names []string, i int) string {
		if i < 0 || i >= len(names) {
			return ""
		}
		return names[i]
	},
	// customerNo applies SAP's ALPHA conversion to a customer number.
	"customerNo": sap.NormalizeCustomerNo,
}

// lookupData is the data of the lookup URL template.
type lookupData struct {
	// ExternalRef is the Salesforce id, trimmed and upper-cased.
	ExternalRef string
}

// sampleCustomer is rendered by New to check the request template.
var sampleCustomer = sap.Customer{
	Names: []string{"Sample \"Quoted\" & Co"}, City: "Springfield", Country: "US", Language: "EN",
	SalesOrg: "1000", DistributionChannel: "10", Division: "00", ReferenceCustomer: "99999",
	ExternalRef: "001DN00000ABC12IAB",
}

func parseTemplate(name, text string) (*template.Template, error) {
	return template.New(name).Funcs(templateFuncs).Option("missingkey=error").Parse(text)
}

// render executes the request template for c and returns the JSON body.
func render(tmpl *template.Template, c sap.Customer) ([]byte, error) {
	var b bytes.Buffer
	if err := tmpl.Execute(&b, c); err != nil {
		return nil, fmt.Errorf("rendering the request template: %w", err)
	}
	if !json.Valid(b.Bytes()) {
		return nil, fmt.Errorf("the request template rendered invalid JSON: %s", sap.Snippet(b.Bytes()))
	}
	return b.Bytes(), nil
}
