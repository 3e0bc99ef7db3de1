package mapping

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sfsap/sfsap/pkg/account"
)

// mapOrganization fills company code, sales area and reference customer.
// Values in the Account's custom fields win over the pack's defaults.
func (p *Pack) mapOrganization(a account.Account, res *Result, problems *Problems) {
	c := &res.Customer
	o := &p.org

	pick := func(field, value, def string, max int, required bool, what string) string {
		label := fieldLabels[field]
		v := strings.ToUpper(strings.TrimSpace(value))
		if v == "" && def != "" {
			v = def
			res.Derived = append(res.Derived, Derivation{Field: field, Value: v, Source: "pack default"})
		}
		switch n := utf8.RuneCountInString(v); {
		case n == 0 && required:
			problems.add(field, "", fmt.Sprintf("%s is empty and the mapping pack has no default: enter the %s", label, what), ErrMissing)
			return ""
		case n > max:
			problems.add(field, value, fmt.Sprintf("%s %q has %d characters but SAP accepts at most %d: enter the %s",
				label, value, n, max, what), ErrTooLong)
			return ""
		}
		return v
	}

	c.CompanyCode = pick(FieldCompanyCode, a.CompanyCode, o.companyCode, maxCompanyCode, false,
		"4-character SAP company code")
	c.SalesOrg = pick(FieldSalesOrg, a.SalesOrg, o.salesOrg, maxSalesOrg, true,
		"4-character SAP sales organisation")
	c.DistributionChannel = pick(FieldDistributionChannel, a.DistributionChannel, o.distributionChannel, maxDistributionChannel, true,
		"2-character SAP distribution channel")
	c.Division = pick(FieldDivision, a.Division, o.division, maxDivision, true,
		"2-character SAP division")

	if c.CompanyCode != "" && c.SalesOrg != "" && !o.pairAllowed(c.CompanyCode, c.SalesOrg) {
		problems.add(FieldSalesOrg, a.SalesOrg, fmt.Sprintf(
			"SAP Company Code %q and SAP Sales Org %q are not an allowed combination: use one of %s (company code/sales org), or ask the SAP team to allow it",
			c.CompanyCode, c.SalesOrg, o.allowedList()), ErrSalesAreaNotAllowed)
		return
	}
	if c.SalesOrg == "" || c.DistributionChannel == "" || c.Division == "" {
		return
	}

	area := salesArea{salesOrg: c.SalesOrg, distributionChannel: c.DistributionChannel, division: c.Division}
	if ref, ok := o.referenceCustomers[area]; ok {
		c.ReferenceCustomer = ref
		return
	}
	if o.referenceCustomer != "" {
		c.ReferenceCustomer = o.referenceCustomer
		return
	}
	msg := fmt.Sprintf("Sales area %s (SAP Sales Org/Distribution Channel/Division) has no reference customer in the mapping pack, so SAP cannot create the customer there", area)
	if known := o.knownAreas(); known != "" {
		msg += ": use a sales area such as " + known + ", or ask the SAP team to add one"
	} else {
		msg += ": ask the SAP team to add a reference customer"
	}
	problems.add(FieldSalesOrg, a.SalesOrg, msg, ErrSalesAreaNotAllowed)
}

func (o *orgDefaults) allowedList() string {
	pairs := make([]string, len(o.allowed))
	for i, pair := range o.allowed {
		pairs[i] = pair.companyCode + "/" + pair.salesOrg
	}
	return strings.Join(pairs, ", ")
}

// knownAreas lists the sales areas that have a reference customer, sorted.
func (o *orgDefaults) knownAreas() string {
	areas := make([]string, 0, len(o.referenceCustomers))
	for area := range o.referenceCustomers {
		areas = append(areas, area.String())
	}
	slices.Sort(areas)
	return strings.Join(areas, ", ")
}
