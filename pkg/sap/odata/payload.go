package odata

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/sfsap/sfsap/pkg/sap"
)

// categoryOrganization is BusinessPartnerCategory 2, an organisation.
const categoryOrganization = "2"

// maxExternalRef is the length of BusinessPartnerIDByExtSystem
// (BUT000-BPEXT).
const maxExternalRef = 20

// collection is an OData V2 JSON collection, as navigation properties
// with many targets carry it in a deep insert and as a query returns it.
type collection[T any] struct {
	Results []T `json:"results"`
}

// businessPartner is the deep-insert body of entity type
// A_BusinessPartnerType with the navigation properties sfsap fills.
type businessPartner struct {
	BusinessPartnerCategory      string                     `json:"BusinessPartnerCategory"`
	BusinessPartnerGrouping      string                     `json:"BusinessPartnerGrouping,omitempty"`
	OrganizationBPName1          string                     `json:"OrganizationBPName1"`
	OrganizationBPName2          string                     `json:"OrganizationBPName2,omitempty"`
	OrganizationBPName3          string                     `json:"OrganizationBPName3,omitempty"`
	OrganizationBPName4          string                     `json:"OrganizationBPName4,omitempty"`
	BusinessPartnerIDByExtSystem string                     `json:"BusinessPartnerIDByExtSystem"`
	Roles                        collection[role]           `json:"to_BusinessPartnerRole"`
	Addresses                    collection[partnerAddress] `json:"to_BusinessPartnerAddress"`
	Customer                     customer                   `json:"to_Customer"`
}

type role struct {
	BusinessPartnerRole string `json:"BusinessPartnerRole"`
}

type partnerAddress struct {
	Country     string                 `json:"Country"`
	Region      string                 `json:"Region,omitempty"`
	CityName    string                 `json:"CityName"`
	PostalCode  string                 `json:"PostalCode,omitempty"`
	StreetName  string                 `json:"StreetName,omitempty"`
	HouseNumber string                 `json:"HouseNumber,omitempty"`
	Language    string                 `json:"Language"`
	Phones      *collection[phone]     `json:"to_PhoneNumber,omitempty"`
	Faxes       *collection[fax]       `json:"to_FaxNumber,omitempty"`
	Emails      *collection[emailAddr] `json:"to_EmailAddress,omitempty"`
}

type phone struct {
	PhoneNumber string `json:"PhoneNumber"`
}

type fax struct {
	FaxNumber string `json:"FaxNumber"`
}

type emailAddr struct {
	EmailAddress string `json:"EmailAddress"`
}

// customer is A_CustomerType, which SAP creates only by deep insert below
// a business partner.
type customer struct {
	Companies  *collection[customerCompany]  `json:"to_CustomerCompany,omitempty"`
	SalesAreas collection[customerSalesArea] `json:"to_CustomerSalesArea"`
}

type customerCompany struct {
	CompanyCode           string `json:"CompanyCode"`
	ReconciliationAccount string `json:"ReconciliationAccount,omitempty"`
	PaymentTerms          string `json:"PaymentTerms,omitempty"`
}

type customerSalesArea struct {
	SalesOrganization    string `json:"SalesOrganization"`
	DistributionChannel  string `json:"DistributionChannel"`
	Division             string `json:"Division"`
	Currency             string `json:"Currency,omitempty"`
	CustomerPaymentTerms string `json:"CustomerPaymentTerms,omitempty"`
	CustomerGroup        string `json:"CustomerGroup,omitempty"`
}

// externalRef returns the form of a Salesforce id that is stored in and
// searched for in BusinessPartnerIDByExtSystem: trimmed and upper-cased,
// because the field's domain is upper case. The 18-character id stays
// unique without case.
func externalRef(ref string) string {
	return strings.ToUpper(strings.TrimSpace(ref))
}

// checkExternalRef returns an error wrapping ErrInvalidCustomer when ref
// cannot be stored in BusinessPartnerIDByExtSystem.
func checkExternalRef(ref string) error {
	if ref == "" {
		return fmt.Errorf("%w: the external reference is empty", ErrInvalidCustomer)
	}
	if n := utf8.RuneCountInString(ref); n > maxExternalRef {
		return fmt.Errorf("%w: external reference %q has %d characters, but BusinessPartnerIDByExtSystem accepts at most %d", ErrInvalidCustomer, ref, n, maxExternalRef)
	}
	return nil
}

// body returns the deep-insert body that creates c as an organisation
// with a customer in c's sales area and, when c has one, company code.
func (a *Adapter) body(c sap.Customer) ([]byte, error) {
	ref := externalRef(c.ExternalRef)
	if err := checkExternalRef(ref); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(c.Names))
	for _, n := range c.Names {
		names = append(names, strings.TrimSpace(n))
	}
	if len(names) == 0 || names[0] == "" {
		return nil, fmt.Errorf("%w: the name is empty", ErrInvalidCustomer)
	}
	if len(names) > 4 {
		return nil, fmt.Errorf("%w: %d name lines, but a business partner has at most 4 (OrganizationBPName1 to 4): shorten the name", ErrInvalidCustomer, len(names))
	}
	names = append(names, "", "", "")

	bp := businessPartner{
		BusinessPartnerCategory:      categoryOrganization,
		BusinessPartnerGrouping:      a.cfg.Grouping,
		OrganizationBPName1:          names[0],
		OrganizationBPName2:          names[1],
		OrganizationBPName3:          names[2],
		OrganizationBPName4:          names[3],
		BusinessPartnerIDByExtSystem: ref,
	}
	for _, r := range a.cfg.Roles {
		bp.Roles.Results = append(bp.Roles.Results, role{BusinessPartnerRole: r})
	}
	bp.Addresses.Results = []partnerAddress{a.address(c)}

	currency := strings.ToUpper(strings.TrimSpace(c.Currency))
	if currency == "" {
		currency = strings.ToUpper(a.cfg.DefaultCurrency)
	}
	bp.Customer.SalesAreas.Results = []customerSalesArea{{
		SalesOrganization:    strings.TrimSpace(c.SalesOrg),
		DistributionChannel:  strings.TrimSpace(c.DistributionChannel),
		Division:             strings.TrimSpace(c.Division),
		Currency:             currency,
		CustomerPaymentTerms: a.cfg.PaymentTerms,
		CustomerGroup:        a.cfg.CustomerGroup,
	}}
	if code := strings.TrimSpace(c.CompanyCode); code != "" {
		bp.Customer.Companies = &collection[customerCompany]{Results: []customerCompany{{
			CompanyCode:           code,
			ReconciliationAccount: a.cfg.ReconciliationAccount,
			PaymentTerms:          a.cfg.PaymentTerms,
		}}}
	}
	return marshal(bp)
}

// marshal returns v as compact JSON, keeping characters such as & and <
// as they are: SAP reads them either way, and they stay readable.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// address returns the standard address of c, with its phone, fax and
// e-mail address.
func (a *Adapter) address(c sap.Customer) partnerAddress {
	lang := strings.ToUpper(strings.TrimSpace(c.Language))
	if lang == "" {
		lang = strings.ToUpper(a.cfg.DefaultLanguage)
	}
	addr := partnerAddress{
		Country:     strings.ToUpper(strings.TrimSpace(c.Country)),
		Region:      strings.TrimSpace(c.Region),
		CityName:    strings.TrimSpace(c.City),
		PostalCode:  strings.TrimSpace(c.PostalCode),
		StreetName:  strings.TrimSpace(c.Street),
		HouseNumber: strings.TrimSpace(c.HouseNo),
		Language:    lang,
	}
	if v := strings.TrimSpace(c.Phone); v != "" {
		addr.Phones = &collection[phone]{Results: []phone{{PhoneNumber: v}}}
	}
	if v := strings.TrimSpace(c.Fax); v != "" {
		addr.Faxes = &collection[fax]{Results: []fax{{FaxNumber: v}}}
	}
	if v := strings.TrimSpace(c.Email); v != "" {
		addr.Emails = &collection[emailAddr]{Results: []emailAddr{{EmailAddress: v}}}
	}
	return addr
}

// partnerKeys holds the numbers of a business partner in a response.
type partnerKeys struct {
	BusinessPartner string `json:"BusinessPartner"`
	Customer        string `json:"Customer"`
	ToCustomer      *struct {
		Customer string `json:"Customer"`
	} `json:"to_Customer"`
}

// customerNo returns the customer number of k, normalised: the number of
// the customer below the partner, else the partner's Customer property,
// else the partner number, which equals the customer number when the two
// share a number range.
func (k partnerKeys) customerNo() string {
	no := ""
	if k.ToCustomer != nil {
		no = k.ToCustomer.Customer
	}
	if strings.TrimSpace(no) == "" {
		no = k.Customer
	}
	if strings.TrimSpace(no) == "" {
		no = k.BusinessPartner
	}
	return sap.NormalizeCustomerNo(no)
}

// decodeEntity returns the keys of the entity in a 201 response,
// {"d": {...}}.
func decodeEntity(data []byte) (partnerKeys, error) {
	var resp struct {
		D *partnerKeys `json:"d"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return partnerKeys{}, fmt.Errorf("%w: %v", ErrInvalidResponse, err)
	}
	if resp.D == nil {
		return partnerKeys{}, fmt.Errorf(`%w: the body has no "d" object`, ErrInvalidResponse)
	}
	return *resp.D, nil
}

// decodeResults returns the entities of a query response. OData V2
// returns {"d": {"results": [...]}}; the V1 form {"d": [...]} is read too.
func decodeResults(data []byte) ([]partnerKeys, error) {
	var resp struct {
		D json.RawMessage `json:"d"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidResponse, err)
	}
	if len(resp.D) == 0 {
		return nil, fmt.Errorf(`%w: the body has no "d" member`, ErrInvalidResponse)
	}
	var results []partnerKeys
	if resp.D[0] == '[' {
		err := json.Unmarshal(resp.D, &results)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidResponse, err)
		}
		return results, nil
	}
	var c collection[partnerKeys]
	if err := json.Unmarshal(resp.D, &c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidResponse, err)
	}
	return c.Results, nil
}
