package sapsim

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// bpRequest is the part of a deep-insert body for A_BusinessPartner that
// the simulator reads. Unknown properties are ignored, as Gateway ignores
// properties it is not asked to validate.
type bpRequest struct {
	BusinessPartnerCategory      string
	BusinessPartnerGrouping      string
	OrganizationBPName1          string
	OrganizationBPName2          string
	OrganizationBPName3          string
	OrganizationBPName4          string
	FirstName                    string
	LastName                     string
	BusinessPartnerIDByExtSystem string
	Roles                        navigation[struct{ BusinessPartnerRole string }] `json:"to_BusinessPartnerRole"`
	Addresses                    navigation[bpAddressRequest]                     `json:"to_BusinessPartnerAddress"`
	Customer                     *struct {
		Companies  navigation[struct{ CompanyCode string }] `json:"to_CustomerCompany"`
		SalesAreas navigation[salesAreaRequest]             `json:"to_CustomerSalesArea"`
	} `json:"to_Customer"`
}

type bpAddressRequest struct {
	Country, Region, CityName, PostalCode, StreetName, HouseNumber, Language string

	Phones navigation[struct{ PhoneNumber string }]  `json:"to_PhoneNumber"`
	Faxes  navigation[struct{ FaxNumber string }]    `json:"to_FaxNumber"`
	Emails navigation[struct{ EmailAddress string }] `json:"to_EmailAddress"`
}

type salesAreaRequest struct {
	SalesOrganization, DistributionChannel, Division, Currency string
}

// navigation is a navigation property with many targets in a deep insert:
// {"results": [...]} in OData V2 JSON, or a bare array, which Gateway
// accepts too.
type navigation[T any] []T

func (n *navigation[T]) UnmarshalJSON(data []byte) error {
	var items []T
	if len(data) > 0 && data[0] == '[' {
		if err := json.Unmarshal(data, &items); err != nil {
			return err
		}
	} else {
		var wrapped struct{ Results []T }
		if err := json.Unmarshal(data, &wrapped); err != nil {
			return err
		}
		items = wrapped.Results
	}
	*n = items
	return nil
}

// Messages of the OData service. FSBP_ECC/030 and CVI_API/003 are texts
// S/4HANA returns for these cases. The others stand in for messages whose
// real class and number are not known.
func msgAddressLanguage() message {
	return newMessage("E", "FSBP_ECC", "030", "Standard address doesn't have a language, needed for customer")
}

func msgCurrencyRequired() message {
	return newMessage("E", "CVI_API", "003", "Currency (KNVV-WAERS) is a required entry field")
}

// serveODataCreate runs a deep insert of A_BusinessPartner: it checks the
// body, creates and commits the customer, and responds with 201 and the
// created entity.
func (s *Server) serveODataCreate(w http.ResponseWriter, r *http.Request) {
	if d := s.faults.latency(ODataCreate); d > 0 {
		select {
		case <-time.After(d):
		case <-s.closing:
			return
		}
	}
	if text, ok := s.faults.takeFault(ODataCreate); ok {
		s.writeODataError(w, http.StatusInternalServerError, msgSim("500", "&1", text))
		return
	}

	data, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes))
	if err != nil {
		s.writeODataError(w, http.StatusBadRequest, msgSim("020", "Reading the request failed: &1", err.Error()))
		return
	}
	var req bpRequest
	if err := json.Unmarshal(data, &req); err != nil {
		s.writeODataError(w, http.StatusBadRequest, msgSim("020", "The request body is not valid JSON: &1", err.Error()))
		return
	}

	s.mu.Lock()
	cust, warning, m := s.createBusinessPartner(&req)
	committed := false
	if m == nil {
		committed = s.commit(&session{created: []*Customer{cust}})
	}
	s.mu.Unlock()
	if m != nil {
		s.writeODataError(w, http.StatusBadRequest, *m)
		return
	}

	s.log.Debug("sapsim: OData create", "sap_customer", cust.Number, "account_id", cust.ExternalRef)
	if committed {
		if hold, ok := s.faults.takeTimeoutAfterCommit(); ok {
			s.holdOrDrop(w, r, hold)
		}
	}
	if warning != nil {
		w.Header().Set("sap-message", sapMessageHeader(*warning))
	}
	entity := s.entity(r, cust)
	entity["BusinessPartnerGrouping"] = req.BusinessPartnerGrouping
	entity["to_BusinessPartnerRole"] = map[string]any{"results": roleEntities(cust.Number, req)}
	entity["to_BusinessPartnerAddress"] = map[string]any{"results": []any{addressEntity(cust)}}
	entity["to_Customer"] = map[string]any{"Customer": trimNumber(cust.Number), "CustomerAccountGroup": cust.AccountGroup}
	w.Header().Set("Location", entity["__metadata"].(map[string]any)["uri"].(string))
	writeODataJSON(w, http.StatusCreated, map[string]any{"d": entity})
}

// createBusinessPartner checks req, applies the injected faults and
// returns the customer to commit with its number, and the injected
// message of a create that succeeds with a warning. On failure it returns
// the error message. s.mu must be held.
func (s *Server) createBusinessPartner(req *bpRequest) (*Customer, *message, *message) {
	params, area, m := s.bapiParams(req)
	if m != nil {
		return nil, nil, m
	}
	if s.faults.takeLockError() {
		return nil, nil, fail(msgLocked("", "BATCH01"))
	}
	var warning *message
	if injected, ok := s.faults.takeReturn(ODataCreate); ok {
		im := messageFrom(injected)
		if im.failed() {
			return nil, nil, &im
		}
		warning = &im
	}

	cust, m := s.newCustomer(params)
	if m != nil {
		return nil, nil, m
	}
	cust.SalesArea = area
	cust.CompanyCodes = nil
	for _, c := range req.Customer.Companies {
		cust.CompanyCodes = append(cust.CompanyCodes, strings.TrimSpace(c.CompanyCode))
	}
	no, m := s.assignNumber(cust.AccountGroup)
	if m != nil {
		return nil, nil, m
	}
	cust.Number = no
	cust.ExternalRef = req.BusinessPartnerIDByExtSystem
	return cust, warning, nil
}

// bapiParams checks what a deep insert needs beyond the checks of
// BAPI_CUSTOMER_CREATEFROMDATA1, and returns the body as that BAPI's
// parameters so that the same checks apply. The reference customer is
// one that is extended to the sales area and the company code, because
// S/4HANA takes from customizing what ECC copies from a reference
// customer. s.mu must be held.
//
// NOTE: the BAPI's checks limit names to 35 characters, the length of
// KNA1-NAME1, although OrganizationBPName1 holds 40.
func (s *Server) bapiParams(req *bpRequest) (map[string]any, SalesArea, *message) {
	if n := utf8.RuneCountInString(req.BusinessPartnerIDByExtSystem); n > 20 {
		return nil, SalesArea{}, fail(msgSim("004", "Field &1 is longer than &2 characters", "BusinessPartnerIDByExtSystem", "20"))
	}
	if utf8.RuneCountInString(req.BusinessPartnerGrouping) > 4 {
		return nil, SalesArea{}, fail(msgSim("004", "Field &1 is longer than &2 characters", "BusinessPartnerGrouping", "4"))
	}
	if req.Customer == nil {
		return nil, SalesArea{}, fail(msgSim("024", "Enter to_Customer: the simulator creates customers only"))
	}
	if len(req.Addresses) == 0 {
		return nil, SalesArea{}, fail(msgSim("025", "Enter a standard address in to_BusinessPartnerAddress"))
	}
	addr := req.Addresses[0]
	if strings.TrimSpace(addr.Language) == "" {
		return nil, SalesArea{}, fail(msgAddressLanguage())
	}
	if len(req.Customer.SalesAreas) != 1 {
		return nil, SalesArea{}, fail(msgSim("026", "Enter exactly one sales area in to_CustomerSalesArea, not &1", strconv.Itoa(len(req.Customer.SalesAreas))))
	}
	sa := req.Customer.SalesAreas[0]
	area := SalesArea{SalesOrg: strings.TrimSpace(sa.SalesOrganization), DistributionChannel: strings.TrimSpace(sa.DistributionChannel), Division: strings.TrimSpace(sa.Division)}
	if strings.TrimSpace(sa.Currency) == "" {
		return nil, SalesArea{}, fail(msgCurrencyRequired())
	}
	roles := map[string]bool{}
	for _, r := range req.Roles {
		roles[strings.TrimSpace(r.BusinessPartnerRole)] = true
	}
	if !roles["FLCU01"] {
		return nil, SalesArea{}, fail(msgSim("027", "Sales area data needs business partner role &1", "FLCU01"))
	}
	companyCode := ""
	if len(req.Customer.Companies) > 0 {
		companyCode = strings.TrimSpace(req.Customer.Companies[0].CompanyCode)
		if !roles["FLCU00"] {
			return nil, SalesArea{}, fail(msgSim("027", "Company code data needs business partner role &1", "FLCU00"))
		}
	}
	ref, m := s.referenceFor(area, companyCode)
	if m != nil {
		return nil, SalesArea{}, m
	}

	data := map[string]any{
		"STREET":     addr.StreetName,
		"HOUSE_NO":   addr.HouseNumber,
		"POSTL_COD1": addr.PostalCode,
		"CITY":       addr.CityName,
		"COUNTRY":    addr.Country,
		"REGION":     addr.Region,
		"CURRENCY":   sa.Currency,
	}
	if len(addr.Phones) > 0 {
		data["TEL1_NUMBR"] = addr.Phones[0].PhoneNumber
	}
	if len(addr.Faxes) > 0 {
		data["FAX_NUMBER"] = addr.Faxes[0].FaxNumber
	}
	if len(addr.Emails) > 0 {
		data["E_MAIL"] = addr.Emails[0].EmailAddress
	}
	params := map[string]any{"PI_COPYREFERENCE": map[string]any{
		"SALESORG":   area.SalesOrg,
		"DISTR_CHAN": area.DistributionChannel,
		"DIVISION":   area.Division,
		"REF_CUSTMR": ref,
	}}
	switch strings.TrimSpace(req.BusinessPartnerCategory) {
	case "2":
		data["NAME"] = req.OrganizationBPName1
		data["NAME_2"] = req.OrganizationBPName2
		data["NAME_3"] = req.OrganizationBPName3
		data["NAME_4"] = req.OrganizationBPName4
		data["LANGU_ISO"] = addr.Language
		params["PI_COMPANYDATA"] = data
	case "1":
		data["LASTNAME"] = req.LastName
		data["FIRSTNAME"] = req.FirstName
		data["LANGUP_ISO"] = addr.Language
		params["PI_PERSONALDATA"] = data
	default:
		return nil, SalesArea{}, fail(msgSim("028", "Business partner category &1 is not supported: use 1 (person) or 2 (organisation)", req.BusinessPartnerCategory))
	}
	return params, area, nil
}

// referenceFor returns the reference customer whose customizing a new
// customer in area and companyCode takes, or the error message when no
// reference customer is extended to them. s.mu must be held.
func (s *Server) referenceFor(area SalesArea, companyCode string) (string, *message) {
	if area.SalesOrg == "" || area.DistributionChannel == "" || area.Division == "" {
		return "", fail(msgSalesAreaIncomplete())
	}
	numbers := make([]string, 0, len(s.references))
	for no := range s.references {
		numbers = append(numbers, no)
	}
	slices.Sort(numbers)

	areaKnown := false
	for _, no := range numbers {
		ref := s.references[no]
		if !slices.Contains(ref.SalesAreas, area) {
			continue
		}
		areaKnown = true
		if companyCode == "" || slices.Contains(ref.CompanyCodes, companyCode) {
			return no, nil
		}
	}
	if !areaKnown {
		return "", fail(msgSim("029", "Sales area &1/&2/&3 is not defined", area.SalesOrg, area.DistributionChannel, area.Division))
	}
	return "", fail(msgSim("030", "Company code &1 is not defined for sales area &2/&3/&4", companyCode, area.SalesOrg, area.DistributionChannel, area.Division))
}

func roleEntities(no string, req bpRequest) []any {
	out := make([]any, 0, len(req.Roles))
	for _, r := range req.Roles {
		out = append(out, map[string]any{"BusinessPartner": trimNumber(no), "BusinessPartnerRole": r.BusinessPartnerRole})
	}
	return out
}
