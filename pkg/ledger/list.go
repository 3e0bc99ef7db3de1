package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Revision is one stored version of an account's entry, for an audit of
// how the account moved through the ledger.
type Revision struct {
	Entry
	// At is when the server stored this version.
	At time.Time `json:"at"`
	// Deleted marks a version that removed the entry.
	Deleted bool `json:"deleted,omitempty"`
}

// History returns the stored versions of an account's entry, oldest
// first, as many as the bucket keeps (16 by default). It returns nil and
// no error when the account has no entry.
func (l *Ledger) History(ctx context.Context, accountID string) ([]Revision, error) {
	kves, err := l.kv.History(ctx, accountID)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading ledger history of %s: %w", accountID, err)
	}
	out := make([]Revision, 0, len(kves))
	for _, kve := range kves {
		r := Revision{At: kve.Created(), Entry: Entry{AccountID: accountID, Revision: kve.Revision()}}
		if kve.Operation() != jetstream.KeyValuePut {
			r.Deleted = true
		} else if err := json.Unmarshal(kve.Value(), &r.Entry); err != nil {
			return nil, fmt.Errorf("decoding ledger entry %s at revision %d: %w", accountID, kve.Revision(), err)
		}
		r.Revision = kve.Revision()
		out = append(out, r)
	}
	return out, nil
}

// List returns the current entry of every account in one pass over the
// bucket, in no particular order. Entries that cannot be decoded are
// skipped and counted in the returned error, which wraps ErrCorrupt, so a
// caller can act on the rest.
func (l *Ledger) List(ctx context.Context) ([]Entry, error) {
	w, err := l.kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("listing ledger entries: %w", err)
	}
	defer func() { _ = w.Stop() }()

	var out []Entry
	corrupt := 0
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("listing ledger entries: %w", ctx.Err())
		case kve, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("listing ledger entries: the watcher stopped before the initial values were read")
			}
			// A nil entry marks the end of the current values.
			if kve == nil {
				if corrupt > 0 {
					return out, fmt.Errorf("listing ledger entries: %w: %d entries could not be decoded", ErrCorrupt, corrupt)
				}
				return out, nil
			}
			var e Entry
			if err := json.Unmarshal(kve.Value(), &e); err != nil {
				corrupt++
				continue
			}
			e.AccountID = kve.Key()
			e.Revision = kve.Revision()
			out = append(out, e)
		}
	}
}
