package sapsim

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// call is one function module call. Its methods run with s.mu held.
type call struct {
	s       *Server
	fm      string
	session *session
	params  map[string]any
	// committed reports whether the call committed work, which is when an
	// injected timeout after commit applies.
	committed bool
}

// function runs a function module and returns its export and table
// parameters.
type function func(*call) []field

// function returns the implementation of fm, or nil for an unknown
// function module.
func (s *Server) function(fm string) function {
	switch fm {
	case "BAPI_CUSTOMER_CREATEFROMDATA1":
		return (*call).createFromData1
	case s.opts.CreateFunction:
		return (*call).createWrapper
	case s.opts.SetExternalRefFunction:
		return (*call).setExternalRef
	case "BAPI_TRANSACTION_COMMIT":
		return (*call).transactionCommit
	case "BAPI_TRANSACTION_ROLLBACK":
		return (*call).transactionRollback
	case "BAPI_CUSTOMER_GETDETAIL2":
		return (*call).getDetail2
	case "BAPI_CUSTOMER_FIND":
		return (*call).find
	case "BAPI_CUSTOMER_EXISTENCECHECK":
		return (*call).existenceCheck
	case "RFC_SYSTEM_INFO":
		return (*call).systemInfo
	}
	return nil
}

func (c *call) param(name string) string {
	return strings.TrimSpace(paramString(c.params, name))
}

// injected returns the RETURN message injected for this call.
func (c *call) injected() (message, bool) {
	m, ok := c.s.faults.takeReturn(c.fm)
	if !ok {
		return message{}, false
	}
	return messageFrom(m), true
}

// create checks the create parameters and adds the customer to the
// session's unit of work. It returns the new number, or "" and the error
// message.
func (c *call) create() (string, message) {
	if c.s.faults.takeLockError() {
		return "", msgLocked("", "BATCH01")
	}
	injected, hasInjected := c.injected()
	if hasInjected && injected.failed() {
		return "", injected
	}

	cust, m := c.s.newCustomer(c.params)
	if m != nil {
		return "", *m
	}
	no, m := c.s.assignNumber(cust.AccountGroup)
	if m != nil {
		return "", *m
	}
	cust.Number = no
	c.session.created = append(c.session.created, cust)
	return no, injected
}

// createFromData1 is BAPI_CUSTOMER_CREATEFROMDATA1. Unless AutoCommit is
// set, the customer exists only after BAPI_TRANSACTION_COMMIT in the same
// session.
func (c *call) createFromData1() []field {
	no, ret := c.create()
	if no != "" && c.s.opts.AutoCommit {
		c.committed = c.s.commit(c.session)
	}
	return []field{{"CUSTOMERNO", no}, {"RETURN", ret.bapiReturn1()}}
}

// createWrapper is the Z module that creates the customer, stores the
// external reference and commits with COMMIT WORK AND WAIT, or rolls back
// when the create failed. It returns CUSTOMERNO and RETURN like the BAPI.
func (c *call) createWrapper() []field {
	ref := c.param(c.s.opts.ExternalRefParam)
	if ref == "" {
		m := msgSim("003", "Required field &1 is empty", c.s.opts.ExternalRefParam)
		return []field{{"CUSTOMERNO", ""}, {"RETURN", m.bapiReturn1()}}
	}

	no, ret := c.create()
	if no == "" {
		c.session.rollback()
		return []field{{"CUSTOMERNO", ""}, {"RETURN", ret.bapiReturn1()}}
	}
	c.session.created[len(c.session.created)-1].ExternalRef = ref
	c.committed = c.s.commit(c.session)
	return []field{{"CUSTOMERNO", no}, {"RETURN", ret.bapiReturn1()}}
}

// setExternalRef is the Z module that stores the external reference of a
// customer created earlier in the session or already committed. The
// change waits for a commit like any other.
func (c *call) setExternalRef() []field {
	no := normalizeNumber(c.param("CUSTOMERNO"))
	ref := c.param(c.s.opts.ExternalRefParam)
	if m, ok := c.injected(); ok {
		return []field{{"RETURN", m.bapiReturn1()}}
	}
	if ref == "" {
		m := msgSim("003", "Required field &1 is empty", c.s.opts.ExternalRefParam)
		return []field{{"RETURN", m.bapiReturn1()}}
	}

	_, exists := c.s.byNumber[no]
	for _, cust := range c.session.created {
		exists = exists || cust.Number == no
	}
	if !exists {
		return []field{{"RETURN", msgDebtorMissing(no).bapiReturn1()}}
	}
	if c.session.refs == nil {
		c.session.refs = map[string]string{}
	}
	c.session.refs[no] = ref
	return []field{{"RETURN", message{}.bapiReturn1()}}
}

// transactionCommit is BAPI_TRANSACTION_COMMIT. WAIT makes no difference
// here because the simulator stores synchronously.
func (c *call) transactionCommit() []field {
	if m, ok := c.injected(); ok && m.failed() {
		c.session.rollback()
		return []field{{"RETURN", m.bapiRet2()}}
	}
	c.committed = c.s.commit(c.session)
	return []field{{"RETURN", message{}.bapiRet2()}}
}

// transactionRollback is BAPI_TRANSACTION_ROLLBACK.
func (c *call) transactionRollback() []field {
	c.session.rollback()
	return []field{{"RETURN", message{}.bapiRet2()}}
}

// getDetail2 is BAPI_CUSTOMER_GETDETAIL2. It reads committed data only,
// as the BAPI reads the database.
//
// NOTE: CUSTOMERADDRESS carries the fields sfsap sends, which is a subset
// of BAPICUSTOMER_04, and the general, company and bank details are left
// empty.
func (c *call) getDetail2() []field {
	no := normalizeNumber(c.param("CUSTOMERNO"))
	companyCode := c.param("COMPANYCODE")
	out := func(addr []field, ret message) []field {
		return []field{
			{"CUSTOMERADDRESS", addr},
			{"CUSTOMERGENERALDETAIL", []field{}},
			{"CUSTOMERCOMPANYDETAIL", []field{}},
			{"RETURN", ret.bapiReturn1()},
			{"CUSTOMERBANKDETAIL", [][]field{}},
		}
	}
	if m, ok := c.injected(); ok {
		return out(nil, m)
	}
	cust, ok := c.s.lookup(no)
	if !ok {
		return out(nil, msgDebtorMissing(no))
	}
	if companyCode != "" && !slices.Contains(cust.CompanyCodes, companyCode) {
		return out(nil, msgNotInCompanyCode(no, companyCode))
	}
	return out(addressFields(cust), message{})
}

func addressFields(cust *Customer) []field {
	return []field{
		{"CUSTOMER", cust.Number},
		{"NAME", cust.Name},
		{"NAME_2", cust.Name2},
		{"NAME_3", cust.Name3},
		{"NAME_4", cust.Name4},
		{"CITY", cust.City},
		{"POSTL_COD1", cust.PostalCode},
		{"STREET", cust.Street},
		{"HOUSE_NO", cust.HouseNo},
		{"COUNTRY", cust.Country},
		{"COUNTRYISO", cust.Country},
		{"REGION", cust.Region},
		{"LANGU", cust.Language},
		{"LANGU_ISO", languages[cust.Language]},
		{"TEL1_NUMBR", cust.Phone},
		{"FAX_NUMBER", cust.Fax},
		{"E_MAIL", cust.Email},
		{"CURRENCY", cust.Currency},
	}
}

// existenceCheck is BAPI_CUSTOMER_EXISTENCECHECK.
func (c *call) existenceCheck() []field {
	no := normalizeNumber(c.param("CUSTOMERNO"))
	companyCode := c.param("COMPANYCODE")
	area := SalesArea{c.param("SALESORGANIZATION"), c.param("DISTRIBUTIONCHANNEL"), c.param("DIVISION")}
	ret := func(m message) []field { return []field{{"RETURN", m.bapiReturn1()}} }

	if m, ok := c.injected(); ok {
		return ret(m)
	}
	cust, ok := c.s.lookup(no)
	if !ok {
		return ret(msgDebtorMissing(no))
	}
	someArea := area.SalesOrg != "" || area.DistributionChannel != "" || area.Division != ""
	fullArea := area.SalesOrg != "" && area.DistributionChannel != "" && area.Division != ""
	if someArea && !fullArea {
		return ret(msgSalesAreaIncomplete())
	}
	if companyCode != "" && !slices.Contains(cust.CompanyCodes, companyCode) {
		return ret(msgNotInCompanyCode(no, companyCode))
	}
	if fullArea && !slices.Contains(c.s.salesAreas(cust.Number), area) {
		return ret(msgNotInSalesArea(no, area))
	}
	return ret(message{})
}

// find is BAPI_CUSTOMER_FIND. Rows of SELOPT_TAB must all match. With
// PL_HOLD = 'X' a FIELDVALUE is an ABAP pattern: '*' for any string, '+'
// for one character, case ignored. Without it the value must be equal.
// MAX_CNT 0 returns every match. When nothing matches, RESULT_TAB is empty
// and RETURN carries no message.
func (c *call) find() []field {
	out := func(rows [][]field, m message) []field {
		return []field{{"RESULT_TAB", rows}, {"RETURN", m.bapiReturn1()}}
	}
	if m, ok := c.injected(); ok {
		return out(nil, m)
	}
	maxCount, _ := strconv.Atoi(c.param("MAX_CNT"))
	placeholders := strings.EqualFold(c.param("PL_HOLD"), "X")
	selections := paramTable(c.params, "SELOPT_TAB")
	if len(selections) == 0 {
		return out(nil, msgSim("010", "Enter at least one selection in SELOPT_TAB"))
	}

	type criterion struct {
		companyCode, table, field string
		match                     func(string) bool
	}
	var criteria []criterion
	for _, row := range selections {
		crit := criterion{
			companyCode: strings.TrimSpace(paramString(row, "COMP_CODE")),
			table:       strings.ToUpper(firstOf(strings.TrimSpace(paramString(row, "TABNAME")), "KNA1")),
			field:       strings.ToUpper(strings.TrimSpace(paramString(row, "FIELDNAME"))),
		}
		if _, ok := c.s.fieldValue(&Customer{}, crit.table, crit.field); !ok {
			return out(nil, msgSim("011", "Field &1-&2 cannot be searched", crit.table, crit.field))
		}
		want := strings.TrimRight(paramString(row, "FIELDVALUE"), " ")
		crit.match = func(v string) bool { return v == want }
		if placeholders {
			re := patternRegexp(want)
			crit.match = re.MatchString
		}
		criteria = append(criteria, crit)
	}

	var rows [][]field
	for _, cust := range c.s.searchable() {
		matched := true
		for _, crit := range criteria {
			v, _ := c.s.fieldValue(cust, crit.table, crit.field)
			if !crit.match(v) || crit.companyCode != "" && !slices.Contains(cust.CompanyCodes, crit.companyCode) {
				matched = false
				break
			}
		}
		if !matched {
			continue
		}
		first := criteria[0]
		v, _ := c.s.fieldValue(cust, first.table, first.field)
		rows = append(rows, []field{
			{"COMP_CODE", first.companyCode},
			{"TABNAME", first.table},
			{"FIELDNAME", first.field},
			{"FIELDVALUE", v},
			{"CUSTOMER", cust.Number},
			{"PSTG_BLK_G", ""},
			{"PSTG_BLK_C", ""},
			{"DEL_FLAG_G", ""},
			{"DEL_FLAG_C", ""},
			{"TYPE", ""},
			{"ID", ""},
			{"NUMBER", "000"},
			{"MESSAGE", ""},
		})
		if maxCount > 0 && len(rows) == maxCount {
			break
		}
	}
	return out(rows, message{})
}

// searchable returns the reference and committed customers by number.
// s.mu must be held.
func (s *Server) searchable() []*Customer {
	var all []*Customer
	for no := range s.references {
		c, _ := s.lookup(no)
		all = append(all, c)
	}
	all = append(all, s.customers...)
	slices.SortFunc(all, func(a, b *Customer) int { return strings.Compare(a.Number, b.Number) })
	return all
}

// fieldValue returns the value of table-field for c, and false when the
// simulator cannot search that field.
func (s *Server) fieldValue(c *Customer, table, field string) (string, bool) {
	if table == strings.ToUpper(s.opts.ExternalRefTable) && field == strings.ToUpper(s.opts.ExternalRefField) {
		return c.ExternalRef, true
	}
	if table != "KNA1" {
		return "", false
	}
	switch field {
	case "KUNNR":
		return c.Number, true
	case "NAME1":
		return c.Name, true
	case "NAME2":
		return c.Name2, true
	case "ORT01":
		return c.City, true
	case "PSTLZ":
		return c.PostalCode, true
	case "LAND1":
		return c.Country, true
	case "REGIO":
		return c.Region, true
	case "STRAS":
		return c.Street, true
	case "TELF1":
		return c.Phone, true
	case "KTOKD":
		return c.AccountGroup, true
	}
	return "", false
}

// patternRegexp compiles an ABAP CP pattern.
func patternRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?is)^")
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '+':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// systemInfo is RFC_SYSTEM_INFO. RFCMACH and RFCTZONE keep leading blanks,
// as SAP sends them.
func (c *call) systemInfo() []field {
	sid := c.s.opts.SystemID
	return []field{{"RFCSI", []field{
		{"RFCPROTO", "011"},
		{"RFCCHARTYP", "4103"},
		{"RFCINTTYP", "LIT"},
		{"RFCFLOTYP", "IE3"},
		{"RFCDEST", "sapsim_" + sid + "_00"},
		{"RFCHOST", "sapsim"},
		{"RFCSYSID", sid},
		{"RFCDATABS", sid},
		{"RFCDBHOST", "sapsim"},
		{"RFCDBSYS", "HDB"},
		{"RFCSAPRL", "750"},
		{"RFCMACH", "  390"},
		{"RFCOPSYS", "Linux"},
		{"RFCTZONE", "     0"},
		{"RFCDAYST", ""},
		{"RFCIPADDR", "127.0.0.1"},
		{"RFCKERNRL", "753"},
		{"RFCHOST2", "sapsim"},
		{"RFCSI_RESV", ""},
		{"RFCIPV6ADDR", "127.0.0.1"},
	}}}
}
