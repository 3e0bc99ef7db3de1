// Package sfsim is a Salesforce simulator that serves the real wire
// protocols on loopback: OAuth 2.0 and SOAP login, the REST Data API, and
// Change Data Capture of Account. sfsap's tests, demo and benchmarks run
// the production clients against it.
package sfsim

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/sfsap/sfsap/pkg/sfid"
)

// ChangeHeader is the ChangeEventHeader of one change event.
type ChangeHeader struct {
	EntityName      string   `json:"entityName"`
	RecordIDs       []string `json:"recordIds"`
	ChangeType      string   `json:"changeType"`
	ChangeOrigin    string   `json:"changeOrigin"`
	TransactionKey  string   `json:"transactionKey"`
	SequenceNumber  int      `json:"sequenceNumber"`
	CommitTimestamp int64    `json:"commitTimestamp"`
	CommitNumber    int64    `json:"commitNumber"`
	CommitUser      string   `json:"commitUser"`
	// ChangedFields uses field names, compound components written as
	// "BillingAddress.City", as CometD delivers them.
	ChangedFields []string `json:"changedFields"`
	// NulledFields names fields set to null, in the same form.
	NulledFields []string `json:"nulledFields"`
}

// ChangeEvent is one AccountChangeEvent in the simulator's event log.
type ChangeEvent struct {
	ReplayID int64
	Header   ChangeHeader
	// Fields holds the new values of the changed fields by their flat
	// Account field names (BillingCity, not BillingAddress.City). Nulled
	// fields are present with a nil value.
	Fields    map[string]any
	Published time.Time
}

// Store holds the simulated org's Accounts and its change event log.
// Every write appends a change event carrying only the changed fields.
type Store struct {
	mu      sync.Mutex
	records map[string]map[string]any
	order   []string
	events  []ChangeEvent
	replay  int64
	commit  int64
	counter int64
	changed chan struct{}
	now     func() time.Time
	orgID   string
}

// addressParts maps flat billing and shipping fields to their compound
// component names in change events.
var addressParts = map[string]string{
	"BillingStreet": "BillingAddress.Street", "BillingCity": "BillingAddress.City",
	"BillingState": "BillingAddress.State", "BillingPostalCode": "BillingAddress.PostalCode",
	"BillingCountry": "BillingAddress.Country", "BillingStateCode": "BillingAddress.StateCode",
	"BillingCountryCode": "BillingAddress.CountryCode",
	"ShippingStreet":     "ShippingAddress.Street", "ShippingCity": "ShippingAddress.City",
	"ShippingState": "ShippingAddress.State", "ShippingPostalCode": "ShippingAddress.PostalCode",
	"ShippingCountry": "ShippingAddress.Country", "ShippingStateCode": "ShippingAddress.StateCode",
	"ShippingCountryCode": "ShippingAddress.CountryCode",
}

// EventFieldName returns the name a change event uses for a flat Account
// field: BillingCity becomes BillingAddress.City, others stay as they are.
func EventFieldName(field string) string {
	if c, ok := addressParts[field]; ok {
		return c
	}
	return field
}

// NewStore returns an empty org.
func NewStore() *Store {
	return &Store{
		records: map[string]map[string]any{},
		changed: make(chan struct{}),
		now:     time.Now,
		orgID:   "00D5e000000SfSaEAK",
		replay:  1000,
		commit:  4_000_000_000,
	}
}

// WriteOptions describe who makes a write, as Salesforce records it in the
// change event header.
type WriteOptions struct {
	// User is the commitUser id. Defaults to DefaultUserID.
	User string
	// Origin is the changeOrigin, such as
	// "com/salesforce/api/rest/60.0;client=sfsap". Empty for UI edits.
	Origin string
	// Event selects the change event the write produces: EventNormal, a
	// header-only gap event (EventGap), as Salesforce sends for changes it
	// cannot describe, or none (EventNone), as for changes beyond an
	// overflow's first 100,000.
	Event EventMode
}

// EventMode is the kind of change event a write produces.
type EventMode int

// Event modes of WriteOptions.
const (
	EventNormal EventMode = iota
	EventGap
	EventNone
)

// DefaultUserID is the user that writes are attributed to when none is given.
const DefaultUserID = "005Hx00000SimUsIAJ"

// systemFields are maintained by the store; writes cannot set them.
var systemFields = []string{"Id", "CreatedDate", "LastModifiedDate", "SystemModstamp", "IsDeleted", "CreatedById", "LastModifiedById"}

// Create inserts an Account and returns its 18-character id.
func (s *Store) Create(fields map[string]any, opts WriteOptions) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.counter++
	id15 := fmt.Sprintf("001Hx%010d", s.counter)
	id, err := sfid.To18(id15)
	if err != nil {
		return "", err
	}
	now := s.now().UTC()
	stamp := recordTime(now)
	rec := map[string]any{}
	for k, v := range fields {
		if slices.Contains(systemFields, k) {
			continue
		}
		rec[k] = v
	}
	user := opts.userOrDefault()
	rec["Id"] = id
	rec["CreatedDate"] = stamp
	rec["LastModifiedDate"] = stamp
	rec["SystemModstamp"] = stamp
	rec["CreatedById"] = user
	rec["LastModifiedById"] = user
	rec["IsDeleted"] = false
	s.records[id] = rec
	s.order = append(s.order, id)

	body := map[string]any{}
	for k, v := range rec {
		if v != nil && k != "Id" && k != "IsDeleted" && k != "SystemModstamp" {
			body[k] = v
		}
	}
	s.emit("CREATE", []string{id}, nil, nil, body, opts, now)
	return id, nil
}

// Update changes fields of an Account. A field whose value does not change
// is not reported; an update that changes nothing still emits an event
// with only LastModifiedDate, as Salesforce does.
func (s *Store) Update(id string, fields map[string]any, opts WriteOptions) error {
	return s.UpdateMany([]string{id}, fields, opts)
}

// UpdateMany applies the same change to several Accounts in one
// transaction, which Salesforce may deliver as one merged change event.
func (s *Store) UpdateMany(ids []string, fields map[string]any, opts WriteOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	recs := make([]map[string]any, len(ids))
	for i, id := range ids {
		rec, err := s.lookupLocked(id)
		if err != nil {
			return err
		}
		recs[i] = rec
	}
	now := s.now().UTC()
	stamp := recordTime(now)
	user := opts.userOrDefault()
	var changed, nulled []string
	body := map[string]any{}
	for k, v := range fields {
		if slices.Contains(systemFields, k) {
			continue
		}
		diff := false
		for _, rec := range recs {
			if !sameValue(rec[k], v) {
				diff = true
			}
		}
		if !diff {
			continue
		}
		changed = append(changed, EventFieldName(k))
		if v == nil {
			nulled = append(nulled, EventFieldName(k))
		}
		body[k] = v
	}
	for _, rec := range recs {
		for k := range body {
			rec[k] = fields[k]
		}
		rec["LastModifiedDate"] = stamp
		rec["SystemModstamp"] = stamp
		rec["LastModifiedById"] = user
	}
	body["LastModifiedDate"] = stamp
	changed = append(changed, "LastModifiedDate")
	slices.Sort(changed)
	slices.Sort(nulled)
	norm := make([]string, len(recs))
	for i, rec := range recs {
		norm[i] = rec["Id"].(string)
	}
	s.emit("UPDATE", norm, changed, nulled, body, opts, now)
	return nil
}

// Delete removes an Account and emits a DELETE event.
func (s *Store) Delete(id string, opts WriteOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.lookupLocked(id)
	if err != nil {
		return err
	}
	rec["IsDeleted"] = true
	now := s.now().UTC()
	rec["SystemModstamp"] = recordTime(now)
	s.emit("DELETE", []string{rec["Id"].(string)}, nil, nil, map[string]any{}, opts, now)
	return nil
}

// Get returns a copy of the Account with the given 15- or 18-character id
// and whether it exists. Deleted Accounts are returned with IsDeleted true.
func (s *Store) Get(id string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id18, err := sfid.To18(id)
	if err != nil {
		return nil, false
	}
	rec, ok := s.records[id18]
	if !ok {
		return nil, false
	}
	return maps.Clone(rec), true
}

// All returns copies of all Accounts that are not deleted, in creation order.
func (s *Store) All() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]any, 0, len(s.order))
	for _, id := range s.order {
		if rec := s.records[id]; rec["IsDeleted"] != true {
			out = append(out, maps.Clone(rec))
		}
	}
	return out
}

// EmitGap appends a gap or overflow event (changeType GAP_*) for the given
// ids, with a header only, as Salesforce sends when it cannot build a
// normal change event.
func (s *Store) EmitGap(changeType string, ids []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !strings.HasPrefix(changeType, "GAP_") {
		panic("sfsim: EmitGap with change type " + changeType)
	}
	s.appendEvent(changeType, ids, []string{}, nil, map[string]any{}, WriteOptions{}, s.now().UTC())
}

// EventsAfter returns the retained events whose replay id is greater than
// after, at most limit of them (all when limit <= 0).
func (s *Store) EventsAfter(after int64, limit int) []ChangeEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, _ := slices.BinarySearchFunc(s.events, after+1, func(e ChangeEvent, t int64) int {
		switch {
		case e.ReplayID < t:
			return -1
		case e.ReplayID > t:
			return 1
		}
		return 0
	})
	out := s.events[i:]
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return slices.Clone(out)
}

// LatestReplayID returns the replay id of the newest event, or 0.
func (s *Store) LatestReplayID() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.events) == 0 {
		return 0
	}
	return s.events[len(s.events)-1].ReplayID
}

// EarliestReplayID returns the replay id of the oldest retained event, or 0.
func (s *Store) EarliestReplayID() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.events) == 0 {
		return 0
	}
	return s.events[0].ReplayID
}

// Purge drops retained events published before t, as Salesforce does
// after 72 hours, so that older replay ids become invalid.
func (s *Store) Purge(before time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := 0
	for i < len(s.events) && s.events[i].Published.Before(before) {
		i++
	}
	s.events = slices.Clone(s.events[i:])
}

// WaitEvents blocks until an event with a replay id greater than after
// exists, or ctx ends. It reports whether such an event exists.
func (s *Store) WaitEvents(ctx context.Context, after int64) bool {
	for {
		s.mu.Lock()
		has := len(s.events) > 0 && s.events[len(s.events)-1].ReplayID > after
		ch := s.changed
		s.mu.Unlock()
		if has {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// emit appends the event of a write as opts.Event selects.
func (s *Store) emit(changeType string, ids, changed, nulled []string, body map[string]any, opts WriteOptions, at time.Time) {
	switch opts.Event {
	case EventNone:
		return
	case EventGap:
		s.appendEvent("GAP_"+changeType, ids, []string{}, nil, map[string]any{}, WriteOptions{}, at)
		return
	}
	s.appendEvent(changeType, ids, changed, nulled, body, opts, at)
}

func (s *Store) appendEvent(changeType string, ids, changed, nulled []string, body map[string]any, opts WriteOptions, at time.Time) {
	// Replay ids grow but are not contiguous, as in Salesforce.
	s.replay += 1 + s.replay%3
	s.commit += 7
	if changed == nil {
		changed = []string{}
	}
	if nulled == nil {
		nulled = []string{}
	}
	origin := opts.Origin
	user := opts.userOrDefault()
	if strings.HasPrefix(changeType, "GAP_") {
		origin, user = "", ""
	}
	s.events = append(s.events, ChangeEvent{
		ReplayID: s.replay,
		Header: ChangeHeader{
			EntityName:      "Account",
			RecordIDs:       slices.Clone(ids),
			ChangeType:      changeType,
			ChangeOrigin:    origin,
			TransactionKey:  uuid.NewString(),
			SequenceNumber:  1,
			CommitTimestamp: at.UnixMilli(),
			CommitNumber:    s.commit,
			CommitUser:      user,
			ChangedFields:   changed,
			NulledFields:    nulled,
		},
		Fields:    body,
		Published: at,
	})
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Store) lookupLocked(id string) (map[string]any, error) {
	id18, err := sfid.To18(id)
	if err != nil {
		return nil, &NotFoundError{ID: id, Malformed: true}
	}
	rec, ok := s.records[id18]
	if !ok {
		return nil, &NotFoundError{ID: id}
	}
	if rec["IsDeleted"] == true {
		return nil, &NotFoundError{ID: id, Deleted: true}
	}
	return rec, nil
}

// NotFoundError reports a write to an Account that does not exist, was
// deleted, or whose id is malformed.
type NotFoundError struct {
	ID        string
	Deleted   bool
	Malformed bool
}

func (e *NotFoundError) Error() string {
	switch {
	case e.Malformed:
		return "malformed id " + e.ID
	case e.Deleted:
		return "entity is deleted"
	}
	return "The requested resource does not exist"
}

// recordTime returns the value a record's datetime fields get for a write
// at t. NOTE: Salesforce keeps whole seconds in CreatedDate,
// LastModifiedDate and SystemModstamp as far as REST output shows (the
// milliseconds always read .000), so writes within one second share a
// SystemModstamp, as a bulk update's records do.
func recordTime(t time.Time) time.Time { return t.Truncate(time.Second) }

// SetClock replaces the clock that stamps writes, so tests can make a
// write commit with an earlier or later time. Nil restores the real clock.
func (s *Store) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now == nil {
		now = time.Now
	}
	s.now = now
}

func (o WriteOptions) userOrDefault() string {
	if o.User == "" {
		return DefaultUserID
	}
	return o.User
}

func sameValue(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// FieldNames returns the names of all fields set on any Account, deleted
// or not, sorted.
func (s *Store) FieldNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for _, rec := range s.records {
		for k := range rec {
			seen[k] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}
