// Package ledger keeps the per-account sync state in a JetStream key-value
// bucket. Every transition is a compare-and-swap on the entry's revision,
// so the revision fences out a worker whose claim has moved on.
//
// An account moves through Claimed (a worker holds a lease and may be
// calling SAP), Created (SAP has the customer), WrittenBack (Salesforce has
// the number) or Failed (parked with a reason until an operator resets it).
package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/sfsap/sfsap/pkg/sap"
)

// State of an account in the ledger.
type State string

// Ledger states.
const (
	Claimed     State = "CLAIMED"
	Created     State = "CREATED"
	WrittenBack State = "WRITTEN_BACK"
	Failed      State = "FAILED"
)

// Entry is one account's ledger record.
type Entry struct {
	AccountID   string `json:"account_id"`
	State       State  `json:"state"`
	SAPCustomer string `json:"sap_customer,omitempty"`
	// Owner is the worker that holds the claim.
	Owner      string    `json:"owner,omitempty"`
	LeaseUntil time.Time `json:"lease_until,omitzero"`
	// InDoubt is set when a create was sent to SAP and its outcome is not
	// known, so the next claimant must wait for SAP to settle and look the
	// customer up before creating anything.
	InDoubt bool `json:"in_doubt,omitempty"`
	// Attempt counts claims, starting at 1.
	Attempt int    `json:"attempt"`
	Reason  string `json:"reason,omitempty"`
	// DeadLettered is set when the account's last failure went to the
	// dead-letter stream. Automatic re-drives skip such an account until
	// an operator retries it, which calls Reset.
	DeadLettered  bool      `json:"dead_lettered,omitempty"`
	CorrelationID string    `json:"correlation_id,omitempty"`
	UpdatedAt     time.Time `json:"updated_at"`
	// Revision is the bucket revision the entry was read at.
	Revision uint64 `json:"-"`
}

// Ledger reads and moves ledger entries.
type Ledger struct {
	kv  jetstream.KeyValue
	now func() time.Time
}

// New returns a ledger on the given bucket.
func New(kv jetstream.KeyValue) *Ledger {
	return &Ledger{kv: kv, now: time.Now}
}

// Get returns the entry of an account and whether it exists.
func (l *Ledger) Get(ctx context.Context, accountID string) (Entry, bool, error) {
	kve, err := l.kv.Get(ctx, accountID)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Entry{AccountID: accountID}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("reading ledger entry %s: %w", accountID, err)
	}
	var e Entry
	if err := json.Unmarshal(kve.Value(), &e); err != nil {
		return Entry{}, false, fmt.Errorf("%w: account %s at revision %d: %v; delete the key %s in bucket %s and retry the account", ErrCorrupt, accountID, kve.Revision(), err, accountID, kve.Bucket())
	}
	e.Revision = kve.Revision()
	return e, true, nil
}

// Claim takes the account for owner with a lease. It returns ErrDone (with
// the entry) when the customer exists already, ErrFailed (with the entry)
// for a parked account, a *HeldError while another claim is valid, and
// ErrClaimLost when another worker won the race. A
// claim whose previous holder left a create in doubt is only taken after
// the lease plus settle has passed, so SAP has finished that create and a
// lookup will see it.
func (l *Ledger) Claim(ctx context.Context, accountID, owner, correlationID string, lease, settle time.Duration) (Entry, error) {
	now := l.now().UTC()
	e, found, err := l.Get(ctx, accountID)
	if err != nil {
		return Entry{}, err
	}
	if found {
		switch e.State {
		case Created, WrittenBack:
			return e, ErrDone
		case Failed:
			return e, ErrFailed
		case Claimed:
			if free := e.FreeAt(settle); now.Before(free) {
				return e, &HeldError{Owner: e.Owner, Until: free}
			}
		}
	}
	next := e
	next.AccountID = accountID
	next.State = Claimed
	next.Owner = owner
	next.LeaseUntil = now.Add(lease)
	next.Attempt = e.Attempt + 1
	next.Reason = ""
	next.DeadLettered = false
	if correlationID != "" {
		next.CorrelationID = correlationID
	}
	if !found {
		next.Revision = 0
	}
	return l.put(ctx, next, e.Revision, found)
}

// FreeAt returns when a claimed entry may be taken over: at the end of
// its lease, plus settle when the holder may have sent a create before it
// vanished (it left the create in doubt or never released the claim).
func (e Entry) FreeAt(settle time.Duration) time.Time {
	if e.InDoubt || e.Owner != "" {
		return e.LeaseUntil.Add(settle)
	}
	return e.LeaseUntil
}

// Extend renews the caller's lease. It returns ErrClaimLost when the entry
// moved, in which case the caller must stop.
func (l *Ledger) Extend(ctx context.Context, e Entry, lease time.Duration) (Entry, error) {
	e.LeaseUntil = l.now().UTC().Add(lease)
	return l.put(ctx, e, e.Revision, true)
}

// MarkInDoubt records that a create was sent and its outcome is unknown.
// The claim is released, and the next claimant waits the settle time.
func (l *Ledger) MarkInDoubt(ctx context.Context, e Entry) (Entry, error) {
	e.InDoubt = true
	e.LeaseUntil = l.now().UTC()
	return l.put(ctx, e, e.Revision, true)
}

// Release gives the claim up after a failure that sent nothing to SAP, or
// whose outcome is known, so another worker may claim at once.
func (l *Ledger) Release(ctx context.Context, e Entry, reason string) (Entry, error) {
	e.Owner = ""
	e.LeaseUntil = l.now().UTC()
	e.Reason = reason
	return l.put(ctx, e, e.Revision, true)
}

// MarkCreated records the SAP customer number under the caller's claim.
// If the claim was lost it re-reads the entry: the same number is success,
// a different one returns ErrConflictingCustomer.
func (l *Ledger) MarkCreated(ctx context.Context, e Entry, customerNo string) (Entry, error) {
	customerNo = sap.NormalizeCustomerNo(customerNo)
	next := e
	next.State = Created
	next.SAPCustomer = customerNo
	next.InDoubt = false
	next.Owner = ""
	next.Reason = ""
	next.DeadLettered = false
	out, err := l.put(ctx, next, e.Revision, true)
	if !errors.Is(err, ErrClaimLost) {
		return out, err
	}
	cur, _, gerr := l.Get(ctx, e.AccountID)
	if gerr != nil {
		return Entry{}, gerr
	}
	if cur.SAPCustomer == "" {
		return cur, err
	}
	if cur.SAPCustomer == customerNo {
		return cur, nil
	}
	return cur, fmt.Errorf("%w: ledger has %s, SAP returned %s for account %s", ErrConflictingCustomer, cur.SAPCustomer, customerNo, e.AccountID)
}

// MarkWrittenBack records that Salesforce has the number. It retries on
// concurrent changes and returns ErrConflictingCustomer if the ledger holds
// another number.
func (l *Ledger) MarkWrittenBack(ctx context.Context, accountID, customerNo string) error {
	customerNo = sap.NormalizeCustomerNo(customerNo)
	return l.update(ctx, accountID, func(e *Entry) error {
		if e.SAPCustomer != "" && e.SAPCustomer != customerNo {
			return fmt.Errorf("%w: ledger has %s, write-back carried %s for account %s", ErrConflictingCustomer, e.SAPCustomer, customerNo, accountID)
		}
		e.State = WrittenBack
		e.SAPCustomer = customerNo
		e.Owner = ""
		e.InDoubt = false
		e.DeadLettered = false
		e.Reason = ""
		return nil
	})
}

// MarkFailed parks the account with a reason after its failure was
// dead-lettered. An account that already has a customer keeps its state
// and number; only the reason and the dead-letter flag are recorded.
func (l *Ledger) MarkFailed(ctx context.Context, accountID, reason string) error {
	return l.update(ctx, accountID, func(e *Entry) error {
		if e.State != Created && e.State != WrittenBack {
			e.State = Failed
		}
		e.Owner = ""
		e.Reason = reason
		e.DeadLettered = true
		return nil
	})
}

// Reset makes a parked account workable again, for an operator's retry. A
// Failed entry becomes a released claim that the next worker takes at
// once (after settle when a create was left in doubt), and any entry loses
// its dead-letter flag, so the reconciler re-drives it again. The reason
// is recorded. It returns the new entry, ErrNotFound when the account
// has no entry, and a *HeldError, changing nothing, while a worker holds a
// valid claim: a write would fence that worker out in mid-create.
func (l *Ledger) Reset(ctx context.Context, accountID, reason string) (Entry, error) {
	err := l.update(ctx, accountID, func(e *Entry) error {
		if e.Revision == 0 {
			return fmt.Errorf("resetting %s: %w", accountID, ErrNotFound)
		}
		if e.State == Claimed && e.Owner != "" && l.now().Before(e.LeaseUntil) {
			return &HeldError{Owner: e.Owner, Until: e.LeaseUntil}
		}
		if e.State == Failed {
			e.State = Claimed
			e.Owner = ""
			e.LeaseUntil = l.now().UTC()
		}
		e.DeadLettered = false
		e.Reason = reason
		return nil
	})
	if err != nil {
		return Entry{}, err
	}
	e, _, err := l.Get(ctx, accountID)
	return e, err
}

// update applies fn to the current entry with compare-and-swap, retrying
// when another writer got in between.
func (l *Ledger) update(ctx context.Context, accountID string, fn func(*Entry) error) error {
	for range 10 {
		e, found, err := l.Get(ctx, accountID)
		if err != nil {
			return err
		}
		if err := fn(&e); err != nil {
			return err
		}
		_, err = l.put(ctx, e, e.Revision, found)
		if !errors.Is(err, ErrClaimLost) {
			return err
		}
	}
	return fmt.Errorf("updating ledger entry %s: too many concurrent changes", accountID)
}

func (l *Ledger) put(ctx context.Context, e Entry, rev uint64, exists bool) (Entry, error) {
	e.UpdatedAt = l.now().UTC()
	data, err := json.Marshal(e)
	if err != nil {
		return Entry{}, fmt.Errorf("encoding ledger entry %s: %w", e.AccountID, err)
	}
	var newRev uint64
	if exists {
		newRev, err = l.kv.Update(ctx, e.AccountID, data, rev)
	} else {
		newRev, err = l.kv.Create(ctx, e.AccountID, data)
	}
	if err != nil {
		if isRevisionMismatch(err) {
			return Entry{}, ErrClaimLost
		}
		return Entry{}, fmt.Errorf("writing ledger entry %s: %w", e.AccountID, err)
	}
	e.Revision = newRev
	return e, nil
}

func isRevisionMismatch(err error) bool {
	if errors.Is(err, jetstream.ErrKeyExists) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}
