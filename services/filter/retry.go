package filter

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/ledger"
	"github.com/sfsap/sfsap/pkg/logkey"
	"github.com/sfsap/sfsap/pkg/msg"
)

// mayFixFailure reports whether an update that leaves Type alone edits a
// field the SAP customer is built from, on an account whose sync failed
// for good. Such an edit is how a sales rep fixes the data that SAP or the
// mapping rejected, so it earns a new attempt.
func (s *Service) mayFixFailure(ctx context.Context, c msg.AccountChange) (bool, error) {
	if !slices.ContainsFunc(c.ChangedFields, s.isMappedField) {
		return false, nil
	}
	e, found, err := s.ledger.Get(ctx, c.AccountID)
	if err != nil {
		return false, err
	}
	return found && e.State == ledger.Failed, nil
}

// isMappedField reports whether the change event field name is one the
// mapping reads.
func (s *Service) isMappedField(name string) bool {
	if strings.HasPrefix(name, "BillingAddress.") {
		return true
	}
	f := s.cfg.Fields
	mapped := []string{"Name", "BillingStreet", "BillingCity", "BillingState", "BillingPostalCode",
		"BillingCountry", "BillingStateCode", "BillingCountryCode", "Phone", "Fax", "CurrencyIsoCode",
		f.CompanyCode, f.SalesOrg, f.DistributionChannel, f.Division, f.Language}
	return account.Enabled(name) && slices.Contains(mapped, name)
}

// retryFixed releases the failed account in the ledger and queues a new
// create job. The SAP worker still looks the customer up before creating.
func (s *Service) retryFixed(ctx context.Context, a account.Account, committed time.Time) error {
	// A worker that holds the claim is at work already; the job below
	// then finds one pending or the customer created.
	_, err := s.ledger.Reset(ctx, a.ID, "data changed in Salesforce; trying again")
	if err != nil && !errors.Is(err, ledger.ErrNotFound) && !errors.Is(err, ledger.ErrHeld) {
		return err
	}
	s.log.Info("filter: failed account's data changed; trying again", logkey.AccountID, a.ID)
	if err := s.enqueue(ctx, a, msg.ReasonRetry, committed); err != nil {
		return err
	}
	return s.rememberType(ctx, a.ID, a.Type)
}
