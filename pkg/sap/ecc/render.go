package ecc

import (
	"fmt"

	"github.com/sfsap/sfsap/pkg/sap"
)

// CreateRequest returns the function module and parameters of the first
// call that Create makes for c, without calling SAP. In wrapper mode that
// is the create wrapper with the external reference. In session mode it
// is BAPI_CUSTOMER_CREATEFROMDATA1, and the external reference follows in
// a second call. It returns an error wrapping ErrInvalidCustomer when c
// cannot be mapped.
func (a *Adapter) CreateRequest(c sap.Customer) (string, map[string]any, error) {
	ref := externalRef(c.ExternalRef)
	if ref == "" {
		return "", nil, fmt.Errorf("%w: the external reference is empty", ErrInvalidCustomer)
	}
	company, err := a.companyData(c)
	if err != nil {
		return "", nil, err
	}
	params := map[string]any{
		"PI_COMPANYDATA":   company,
		"PI_COPYREFERENCE": copyReference(c),
	}
	if a.cfg.CommitMode == CommitSession {
		return fmCreate, params, nil
	}
	params[a.cfg.ExternalRefParam] = ref
	return a.cfg.CreateFunction, params, nil
}
