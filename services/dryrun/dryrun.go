// Package dryrun shows what sfsap would send to SAP for Salesforce
// Accounts, without sending it. It reads the Accounts from Salesforce,
// maps each with the mapping pack, and renders the create request of the
// configured SAP adapter: a SOAP-RFC envelope for ECC, JSON for S/4HANA
// and the REST gateway. For an Account that cannot be mapped it lists the
// problems a sales rep has to fix. It never calls SAP.
package dryrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/mapping"
	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sap/adapters"
)

// Salesforce reads Accounts. *sfclient.Client implements it.
type Salesforce interface {
	GetAccounts(ctx context.Context, ids []string) ([]account.Account, error)
	QueryAccounts(ctx context.Context, soql string) ([]map[string]any, error)
}

// Mapper turns an Account into an SAP customer. *mapping.Pack implements
// it.
type Mapper interface {
	Map(a account.Account) (sap.Customer, error)
}

// Options configures Run.
type Options struct {
	// AccountIDs are the Accounts to show, in 15- or 18-character form.
	// Empty means every customer Account without an SAP number.
	AccountIDs []string
	// CustomerTypes are the Type values that make an Account a customer.
	// Defaults to account.DefaultCustomerTypes.
	CustomerTypes []string
	// Fields names the custom Account fields. Empty names take the
	// defaults of account.DefaultFields.
	Fields account.Fields
	// AdapterName is the configured adapter, such as s4, printed with
	// each payload.
	AdapterName string
	// Renderer renders the create request of the configured adapter.
	Renderer adapters.Renderer
	// Mapper maps Accounts to customers.
	Mapper Mapper
	// Out receives the report. Defaults to io.Discard.
	Out io.Writer
	// JSON writes the report as one JSON document instead of text.
	JSON bool
	// Raw writes JSON payloads exactly as the adapter would send them.
	// Defaults to false: JSON payloads are indented for reading. SOAP
	// envelopes are always written as sent.
	Raw bool
}

// Result is the dry run of one Account.
type Result struct {
	AccountID string `json:"account_id"`
	Name      string `json:"name,omitempty"`
	// SAPID is the SAP number the Account already has. sfsap does not
	// create a customer for such an Account.
	SAPID string `json:"sap_id,omitempty"`
	// NotFound reports that Salesforce has no Account with this id.
	NotFound bool `json:"not_found,omitempty"`
	// Customer is the mapped customer, and nil when mapping failed.
	Customer *sap.Customer `json:"customer,omitempty"`
	// Payload is the request body the adapter would send.
	Payload []byte `json:"-"`
	// Problems lists why the Account cannot become an SAP customer.
	Problems []Problem `json:"problems,omitempty"`
}

// Problem is one reason why an Account cannot become an SAP customer.
type Problem struct {
	// Field is the Account field at fault, or "" for a problem of the
	// whole request.
	Field   string `json:"field,omitempty"`
	Value   string `json:"value,omitempty"`
	Message string `json:"message"`
}

// Ready reports whether r has a payload that sfsap would send.
func (r Result) Ready() bool {
	return len(r.Payload) > 0 && r.SAPID == ""
}

// Run reads the Accounts, maps and renders each, and writes the report to
// opts.Out. It returns the results in the order of the Accounts. Accounts
// that cannot be mapped are results with Problems, not errors. Errors are
// failures to read Salesforce or to write the report.
func Run(ctx context.Context, sf Salesforce, opts Options) ([]Result, error) {
	if opts.Renderer == nil || opts.Mapper == nil {
		return nil, errors.New("dryrun: Renderer and Mapper must be set")
	}
	if len(opts.CustomerTypes) == 0 {
		opts.CustomerTypes = account.DefaultCustomerTypes
	}
	opts.Fields = opts.Fields.WithDefaults()
	if opts.Out == nil {
		opts.Out = io.Discard
	}

	ids := opts.AccountIDs
	if len(ids) == 0 {
		var err error
		ids, err = unsyncedCustomers(ctx, sf, opts)
		if err != nil {
			return nil, err
		}
	}

	var results []Result
	if len(ids) > 0 {
		accounts, err := sf.GetAccounts(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("reading %d Accounts from Salesforce: %w", len(ids), err)
		}
		results = evaluate(ids, accounts, opts)
	}

	if opts.JSON {
		return results, writeJSON(opts.Out, results, opts)
	}
	return results, writeText(opts.Out, results, opts)
}

// unsyncedCustomers returns the ids of the customer Accounts without an
// SAP number, in id order.
func unsyncedCustomers(ctx context.Context, sf Salesforce, opts Options) ([]string, error) {
	quoted := make([]string, len(opts.CustomerTypes))
	for i, t := range opts.CustomerTypes {
		quoted[i] = "'" + strings.ReplaceAll(strings.ReplaceAll(t, `\`, `\\`), "'", `\'`) + "'"
	}
	soql := fmt.Sprintf("SELECT Id FROM Account WHERE Type IN (%s) AND %s = null ORDER BY Id", strings.Join(quoted, ", "), opts.Fields.SAPID)
	records, err := sf.QueryAccounts(ctx, soql)
	if err != nil {
		return nil, fmt.Errorf("querying customer Accounts without an SAP number: %w", err)
	}
	ids := make([]string, 0, len(records))
	for _, r := range records {
		if id, ok := r["Id"].(string); ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// evaluate maps and renders each Account. An id that GetAccounts did not
// return becomes a NotFound result.
func evaluate(ids []string, accounts []account.Account, opts Options) []Result {
	byID := map[string]account.Account{}
	for _, a := range accounts {
		byID[a.ID] = a
		if len(a.ID) == 18 {
			byID[a.ID[:15]] = a
		}
	}

	results := make([]Result, 0, len(ids))
	seen := map[string]bool{}
	for _, id := range ids {
		a, ok := byID[strings.TrimSpace(id)]
		if !ok {
			results = append(results, Result{AccountID: id, NotFound: true})
			continue
		}
		if seen[a.ID] {
			continue
		}
		seen[a.ID] = true
		results = append(results, evaluateAccount(a, opts))
	}
	return results
}

func evaluateAccount(a account.Account, opts Options) Result {
	r := Result{AccountID: a.ID, Name: a.Name, SAPID: a.SAPID}
	c, err := opts.Mapper.Map(a)
	if err != nil {
		r.Problems = problems(err)
		return r
	}
	r.Customer = &c
	payload, err := opts.Renderer.Render(c)
	if err != nil {
		r.Problems = problems(err)
		return r
	}
	r.Payload = payload
	return r
}

// problems lists the problems of a mapping or rendering error.
func problems(err error) []Problem {
	var ps *mapping.Problems
	if !errors.As(err, &ps) {
		return []Problem{{Message: err.Error()}}
	}
	out := make([]Problem, 0, len(ps.List))
	for _, p := range ps.List {
		out = append(out, Problem{Field: p.Field, Value: p.Value, Message: p.Message})
	}
	return out
}
