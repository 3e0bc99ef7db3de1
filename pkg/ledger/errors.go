package ledger

import (
	"errors"
	"fmt"
	"time"
)

// Errors returned by the ledger.
var (
	// ErrHeld means another worker holds a valid claim on the account.
	ErrHeld = errors.New("ledger: account is claimed by another worker")
	// ErrClaimLost means the entry changed since the caller read it, so the
	// caller no longer holds the claim and must not act on it.
	ErrClaimLost = errors.New("ledger: claim lost")
	// ErrConflictingCustomer means the account already has a different SAP
	// customer number. It signals a duplicate and needs an operator.
	ErrConflictingCustomer = errors.New("ledger: account already has a different SAP customer")
	// ErrDone means SAP already has the customer, whose number is in the
	// returned entry.
	ErrDone = errors.New("ledger: customer already created")
	// ErrFailed means the account failed for good and is parked in the
	// dead-letter stream. Only Reset makes it claimable again.
	ErrFailed = errors.New("ledger: account failed and waits for an operator")
	// ErrNotFound means the account has no ledger entry.
	ErrNotFound = errors.New("ledger: account has no entry")
	// ErrCorrupt means a stored entry could not be decoded.
	ErrCorrupt = errors.New("ledger: entry cannot be decoded")
)

// HeldError is ErrHeld with the time the claim can be taken over.
type HeldError struct {
	Owner string
	Until time.Time
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("ledger: account is claimed by %s until %s", e.Owner, e.Until.Format(time.RFC3339))
}

func (e *HeldError) Is(target error) bool { return target == ErrHeld }
