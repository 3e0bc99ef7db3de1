package setup

import (
	"context"
	"errors"

	"github.com/sfsap/sfsap/pkg/sfclient"
)

// FilterSalesforce adapts the Salesforce client to filter.Salesforce.
type FilterSalesforce struct{ *sfclient.Client }

// QueryIDs runs soql and returns the Id of every record.
func (f FilterSalesforce) QueryIDs(ctx context.Context, soql string) ([]string, error) {
	recs, err := f.QueryAccounts(ctx, soql)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(recs))
	for _, r := range recs {
		if id, ok := r["Id"].(string); ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// SalesforceErrors classifies Salesforce client errors for the writeback
// service.
type SalesforceErrors struct{}

// Permanent reports whether retrying cannot help.
func (SalesforceErrors) Permanent(err error) bool { return sfclient.Permanent(err) }

// Code returns the Salesforce error code of err, or "".
func (SalesforceErrors) Code(err error) string {
	var e *sfclient.APIError
	if errors.As(err, &e) {
		return e.ErrorCode
	}
	return ""
}
