package sfclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/sfid"
)

// maxIDsPerQuery is the number of ids in one WHERE Id IN (...) query. It
// keeps the query URL far below Salesforce's limit of 16,384 characters.
const maxIDsPerQuery = 200

// maxCompositeRecords is the number of records Salesforce accepts in one
// sObject collections request.
const maxCompositeRecords = 200

// standardAccountFields are the standard fields that account.Account
// holds.
var standardAccountFields = []string{
	"Id", "Name", "Type", "BillingStreet", "BillingCity", "BillingState", "BillingStateCode",
	"BillingPostalCode", "BillingCountry", "BillingCountryCode", "Phone", "Fax", "Website",
	"CurrencyIsoCode", "LastModifiedById", "SystemModstamp",
}

// accountFields returns the fields read for an account.Account: the
// standard ones and the configured custom ones, without the optional ones
// the org lacks.
func (c *Client) accountFields() []string {
	f := c.cfg.Fields
	fields := append([]string{}, standardAccountFields...)
	fields = append(fields, f.SAPID, f.CompanyCode, f.SalesOrg, f.DistributionChannel, f.Division)
	if account.Enabled(f.Language) {
		fields = append(fields, f.Language)
	}
	c.absentMu.Lock()
	defer c.absentMu.Unlock()
	return slices.DeleteFunc(fields, func(name string) bool { return c.absent[name] })
}

// optionalFields returns the Account fields an org may lack. The picklist
// codes exist only with State and Country picklists, CurrencyIsoCode only
// in multi-currency orgs, and the organisational fields only where the
// admin created them. The mapping's defaults stand in for missing ones.
func (c *Client) optionalFields() []string {
	f := c.cfg.Fields
	return []string{"BillingStateCode", "BillingCountryCode", "CurrencyIsoCode",
		f.CompanyCode, f.SalesOrg, f.DistributionChannel, f.Division, f.Language}
}

// noSuchColumn matches the message of INVALID_FIELD for an unknown field.
var noSuchColumn = regexp.MustCompile(`No such column '([A-Za-z0-9_]+)'`)

// dropAbsentField reports whether err names an optional field the org
// lacks. It then records the field, so the next query leaves it out.
func (c *Client) dropAbsentField(err error) bool {
	var e *APIError
	if !errors.As(err, &e) || e.ErrorCode != "INVALID_FIELD" {
		return false
	}
	m := noSuchColumn.FindStringSubmatch(e.Message)
	if m == nil || !slices.Contains(c.optionalFields(), m[1]) {
		return false
	}
	c.absentMu.Lock()
	defer c.absentMu.Unlock()
	if c.absent == nil {
		c.absent = map[string]bool{}
	}
	if c.absent[m[1]] {
		return false
	}
	c.absent[m[1]] = true
	c.log.Warn("sfclient: the org has no Account field "+m[1]+"; reading Accounts without it", "field", m[1])
	return true
}

// GetAccounts reads the Accounts with the given ids, in 15- or
// 18-character form, with one query per 200 ids. Accounts that do not
// exist or are deleted are left out. The result follows the order of ids,
// without duplicates.
func (c *Client) GetAccounts(ctx context.Context, ids []string) ([]account.Account, error) {
	var unique []string
	seen := map[string]bool{}
	for _, id := range ids {
		id18, err := sfid.To18(id)
		if err != nil {
			return nil, fmt.Errorf("reading Accounts: %w", err)
		}
		if !seen[id18] {
			seen[id18] = true
			unique = append(unique, id18)
		}
	}

	byID := make(map[string]account.Account, len(unique))
	for start := 0; start < len(unique); start += maxIDsPerQuery {
		chunk := unique[start:min(start+maxIDsPerQuery, len(unique))]
		var records []map[string]any
		var err error
		for {
			soql := fmt.Sprintf("SELECT %s FROM Account WHERE Id IN ('%s')", strings.Join(c.accountFields(), ", "), strings.Join(chunk, "','"))
			records, err = c.QueryAccounts(ctx, soql)
			if !c.dropAbsentField(err) {
				break
			}
		}
		if err != nil {
			return nil, fmt.Errorf("reading %d Accounts starting with %s: %w", len(chunk), chunk[0], err)
		}
		for _, rec := range records {
			a := c.toAccount(rec)
			if id18, err := sfid.To18(a.ID); err == nil {
				byID[id18] = a
			}
		}
	}

	out := make([]account.Account, 0, len(byID))
	for _, id := range unique {
		if a, ok := byID[id]; ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// GetAccount reads one Account. A missing or deleted Account returns an
// *APIError for which IsNotFound is true.
func (c *Client) GetAccount(ctx context.Context, id string) (account.Account, error) {
	id18, err := sfid.To18(id)
	if err != nil {
		return account.Account{}, fmt.Errorf("reading Account: %w", err)
	}
	var rec map[string]any
	for {
		path := c.dataPath("sobjects/Account/" + id18 + "?fields=" + url.QueryEscape(strings.Join(c.accountFields(), ",")))
		err = c.do(ctx, http.MethodGet, path, nil, &rec)
		if !c.dropAbsentField(err) {
			break
		}
	}
	if err != nil {
		return account.Account{}, fmt.Errorf("reading Account %s: %w", id18, err)
	}
	return c.toAccount(rec), nil
}

// queryPage is one page of a query result.
type queryPage struct {
	TotalSize      int              `json:"totalSize"`
	Done           bool             `json:"done"`
	NextRecordsURL string           `json:"nextRecordsUrl"`
	Records        []map[string]any `json:"records"`
}

// QueryAccounts runs a SOQL query and returns all records, following
// nextRecordsUrl through every page. The attributes key is removed from
// each record; numbers come back as float64.
func (c *Client) QueryAccounts(ctx context.Context, soql string) ([]map[string]any, error) {
	path := c.dataPath("query?q=" + url.QueryEscape(soql))
	var out []map[string]any
	for {
		var page queryPage
		if err := c.do(ctx, http.MethodGet, path, nil, &page); err != nil {
			return nil, fmt.Errorf("running query %q: %w", abbreviate(soql), err)
		}
		for _, rec := range page.Records {
			delete(rec, "attributes")
			out = append(out, rec)
		}
		if page.Done || page.NextRecordsURL == "" {
			return out, nil
		}
		// The next page is fetched with the session token, so it must
		// stay on the instance's data API.
		if !strings.HasPrefix(page.NextRecordsURL, "/services/data/") {
			return nil, fmt.Errorf("running query %q: unexpected nextRecordsUrl %q, want a path under /services/data/", abbreviate(soql), page.NextRecordsURL)
		}
		path = page.NextRecordsURL
	}
}

func abbreviate(s string) string {
	if len(s) <= 120 {
		return s
	}
	return s[:117] + "..."
}

// UpdateAccount changes fields of one Account with a PATCH, which
// produces a change event attributed to the client's user.
func (c *Client) UpdateAccount(ctx context.Context, id string, fields map[string]any) error {
	id18, err := sfid.To18(id)
	if err != nil {
		return fmt.Errorf("updating Account: %w", err)
	}
	if err := c.do(ctx, http.MethodPatch, c.dataPath("sobjects/Account/"+id18), fields, nil); err != nil {
		return fmt.Errorf("updating Account %s: %w", id18, err)
	}
	return nil
}

// Update is a change to one Account in UpdateAccounts.
type Update struct {
	ID     string
	Fields map[string]any
}

// compositeResult is one record's result of an sObject collections
// request.
type compositeResult struct {
	ID      string      `json:"id"`
	Success bool        `json:"success"`
	Errors  []restError `json:"errors"`
}

// UpdateAccounts changes several Accounts through sObject collections
// requests of up to 200 records each, with allOrNone false, so each
// record succeeds or fails on its own. The returned slice has one entry
// per update: nil or the record's *APIError (Status 0). The second
// result reports a failed request; updates of earlier requests may
// already be applied then, and their entries are filled.
func (c *Client) UpdateAccounts(ctx context.Context, updates []Update) ([]error, error) {
	errs := make([]error, len(updates))
	for start := 0; start < len(updates); start += maxCompositeRecords {
		chunk := updates[start:min(start+maxCompositeRecords, len(updates))]
		records := make([]map[string]any, len(chunk))
		for i, u := range chunk {
			rec := make(map[string]any, len(u.Fields)+2)
			for k, v := range u.Fields {
				rec[k] = v
			}
			rec["attributes"] = map[string]string{"type": "Account"}
			rec["id"] = u.ID
			records[i] = rec
		}
		body := map[string]any{"allOrNone": false, "records": records}
		var results []compositeResult
		if err := c.do(ctx, http.MethodPatch, c.dataPath("composite/sobjects"), body, &results); err != nil {
			return errs, fmt.Errorf("updating %d Accounts starting with %s: %w", len(chunk), chunk[0].ID, err)
		}
		if len(results) != len(chunk) {
			return errs, fmt.Errorf("updating %d Accounts starting with %s: got %d results, want one per record", len(chunk), chunk[0].ID, len(results))
		}
		for i, r := range results {
			if r.Success {
				continue
			}
			e := fromList(0, r.Errors)
			errs[start+i] = fmt.Errorf("updating Account %s: %w", chunk[i].ID, e)
		}
	}
	return errs, nil
}

// createResult is the response body of an sObject create.
type createResult struct {
	ID      string      `json:"id"`
	Success bool        `json:"success"`
	Errors  []restError `json:"errors"`
}

// CreateAccount inserts an Account and returns its id. sfsap uses it to
// seed demo data.
func (c *Client) CreateAccount(ctx context.Context, fields map[string]any) (string, error) {
	var res createResult
	// The trailing slash is part of the create resource's path.
	if err := c.do(ctx, http.MethodPost, c.dataPath("sobjects/Account/"), fields, &res); err != nil {
		return "", fmt.Errorf("creating Account: %w", err)
	}
	if !res.Success || res.ID == "" {
		return "", fmt.Errorf("creating Account: %w", fromList(http.StatusCreated, res.Errors))
	}
	return res.ID, nil
}

// restTimeLayout is the datetime form of the REST API, such as
// 2013-05-20T20:49:32.000+0000.
const restTimeLayout = "2006-01-02T15:04:05.000-0700"

// toAccount maps a REST record to an account.Account through the
// configured field names, which are compared without regard to case.
func (c *Client) toAccount(rec map[string]any) account.Account {
	lower := make(map[string]any, len(rec))
	for k, v := range rec {
		lower[strings.ToLower(k)] = v
	}
	get := func(field string) string {
		if field == "" {
			return ""
		}
		return text(lower[strings.ToLower(field)])
	}
	f := c.cfg.Fields
	a := account.Account{
		ID:                  get("Id"),
		Name:                get("Name"),
		Type:                get("Type"),
		SAPID:               get(f.SAPID),
		BillingStreet:       get("BillingStreet"),
		BillingCity:         get("BillingCity"),
		BillingState:        get("BillingState"),
		BillingStateCode:    get("BillingStateCode"),
		BillingPostalCode:   get("BillingPostalCode"),
		BillingCountry:      get("BillingCountry"),
		BillingCountryCode:  get("BillingCountryCode"),
		Phone:               get("Phone"),
		Fax:                 get("Fax"),
		Website:             get("Website"),
		Language:            get(f.Language),
		Currency:            get("CurrencyIsoCode"),
		CompanyCode:         get(f.CompanyCode),
		SalesOrg:            get(f.SalesOrg),
		DistributionChannel: get(f.DistributionChannel),
		Division:            get(f.Division),
		LastModifiedBy:      get("LastModifiedById"),
	}
	if ts := get("SystemModstamp"); ts != "" {
		if t, err := parseRESTTime(ts); err == nil {
			a.SystemModstamp = t
		}
	}
	return a
}

// ParseTime parses a REST datetime such as 2013-05-20T20:49:32.000+0000,
// or an RFC 3339 one, and returns it in UTC.
func ParseTime(s string) (time.Time, error) { return parseRESTTime(s) }

func parseRESTTime(s string) (time.Time, error) {
	t, err := time.Parse(restTimeLayout, s)
	if err != nil {
		t, err = time.Parse(time.RFC3339Nano, s)
	}
	return t.UTC(), err
}

// text renders a JSON value as a string; null becomes "".
func text(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	}
	return fmt.Sprint(v)
}

// UserID returns the id of the user the session belongs to, from the
// OAuth userinfo endpoint of the instance.
func (c *Client) UserID(ctx context.Context) (string, error) {
	var info struct {
		UserID string `json:"user_id"`
	}
	if err := c.do(ctx, http.MethodGet, "/services/oauth2/userinfo", nil, &info); err != nil {
		return "", fmt.Errorf("reading the session's user: %w", err)
	}
	if info.UserID == "" {
		return "", fmt.Errorf("reading the session's user: the userinfo response has no user_id")
	}
	return info.UserID, nil
}
