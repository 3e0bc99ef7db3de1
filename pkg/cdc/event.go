// Package cdc turns Salesforce Change Data Capture events into
// msg.AccountChange messages, one per record id.
//
// Each transport has its own decoder (DecodeCometD for the Streaming API's
// JSON). A decoder fills an [Event], and [Event.AccountChanges] does the
// rest: it normalises record ids, field names and values the same way for
// every transport, so a change read over CometD and the same change read
// over the Pub/Sub API produce equal messages.
package cdc

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sfid"
)

// DateTimeLayout is the form of datetime values in change events delivered
// over CometD, such as "2022-05-11T16:20:59.000Z". [Event.AccountChanges]
// formats time.Time field values with it.
const DateTimeLayout = "2006-01-02T15:04:05.000Z"

// Header is the ChangeEventHeader of a change event, with field names
// already decoded (the Pub/Sub API sends changedFields, nulledFields and
// diffFields as bitmaps, which its decoder turns into names first).
type Header struct {
	EntityName string
	// RecordIDs are the ids as the event carries them: 15 or 18
	// characters, sfid.EmptyID for an overflow event, or a key-prefix
	// wildcard such as "001*".
	RecordIDs      []string
	ChangeType     string
	ChangeOrigin   string
	TransactionKey string
	SequenceNumber int
	// CommitTimestamp is the commit time in milliseconds since the Unix
	// epoch.
	CommitTimestamp int64
	// CommitNumber can exceed 2^53, so it must be decoded as an integer,
	// never through float64.
	CommitNumber int64
	CommitUser   string
	// ChangedFields, NulledFields and DiffFields name fields as events do,
	// compound components written as "BillingAddress.City".
	ChangedFields []string
	NulledFields  []string
	// DiffFields names text fields whose value is a unified diff rather
	// than the new text. Their values are dropped from the message.
	DiffFields []string
}

// Event is a change event decoded from either transport, before it is
// split per record.
type Event struct {
	Header Header
	// Fields holds the body's field values by event field name. A compound
	// field is either a nested map[string]any ("BillingAddress" with
	// "City") or already flattened ("BillingAddress.City"). Nil values are
	// dropped. Allowed values are string, bool, integer and float kinds,
	// json.Number, time.Time for datetimes, nested maps, and []any of those.
	Fields map[string]any
}

// AccountChanges splits e into one msg.AccountChange per record id.
//
// Record ids are normalised to 18 characters. The empty id of an overflow
// event and a key-prefix wildcard ("001*", sent when a field type change
// touched every record) both become sfid.EmptyID. It means that no single
// record is named, so the filter can schedule a sweep instead. Field names in
// ChangedFields and NulledFields are sorted and deduplicated. A compound
// name such as "BillingAddress" is dropped when one of its components is
// also listed. Fields are flattened, numbers become float64 and times
// become DateTimeLayout strings, so a message equals its own JSON round
// trip. The exception is an integer beyond ±2^53, which stays a
// json.Number to keep its digits. Gap events carry no fields.
//
// AccountChanges returns an error when the header lacks changeType,
// transactionKey or recordIds, when a record id is malformed, or when a
// field value has a type that JSON cannot hold.
func (e Event) AccountChanges() ([]msg.AccountChange, error) {
	h := e.Header
	if h.ChangeType == "" {
		return nil, fmt.Errorf("decoding change event: header has no changeType")
	}
	if h.TransactionKey == "" {
		return nil, fmt.Errorf("decoding %s change event: header has no transactionKey, which the message id needs", h.ChangeType)
	}
	if len(h.RecordIDs) == 0 {
		return nil, fmt.Errorf("decoding %s change event %s: header has no recordIds", h.ChangeType, h.TransactionKey)
	}

	ids := make([]string, len(h.RecordIDs))
	for i, raw := range h.RecordIDs {
		id, err := normalizeRecordID(raw)
		if err != nil {
			return nil, fmt.Errorf("decoding %s change event %s: record id %d of %d: %w", h.ChangeType, h.TransactionKey, i+1, len(h.RecordIDs), err)
		}
		ids[i] = id
	}

	var fields map[string]any
	if !strings.HasPrefix(h.ChangeType, "GAP_") {
		flat, err := flattenFields(e.Fields, h.DiffFields)
		if err != nil {
			return nil, fmt.Errorf("decoding %s change event %s: %w", h.ChangeType, h.TransactionKey, err)
		}
		if len(flat) > 0 {
			fields = flat
		}
	}
	changed := normalizeNames(h.ChangedFields)
	nulled := normalizeNames(h.NulledFields)
	if len(nulled) == 0 {
		nulled = nil
	}

	var committed time.Time
	if h.CommitTimestamp != 0 {
		committed = time.UnixMilli(h.CommitTimestamp).UTC()
	}

	out := make([]msg.AccountChange, len(ids))
	for i, id := range ids {
		out[i] = msg.AccountChange{
			Schema:          msg.SchemaAccountChange,
			AccountID:       id,
			ChangeType:      h.ChangeType,
			ChangedFields:   slices.Clone(changed),
			NulledFields:    slices.Clone(nulled),
			Fields:          maps.Clone(fields),
			TransactionKey:  h.TransactionKey,
			SequenceNumber:  h.SequenceNumber,
			CommitTimestamp: committed,
			CommitUser:      h.CommitUser,
			ChangeOrigin:    h.ChangeOrigin,
		}
	}
	return out, nil
}

// normalizeRecordID returns the 18-character form of id, or sfid.EmptyID
// for a key-prefix wildcard.
func normalizeRecordID(id string) (string, error) {
	if prefix, ok := strings.CutSuffix(id, "*"); ok && len(prefix) == 3 {
		if _, err := sfid.To18(prefix + "000000000000"); err == nil {
			return sfid.EmptyID, nil
		}
	}
	return sfid.To18(id)
}

// normalizeNames returns names sorted and without duplicates, and drops a
// compound name when one of its components is listed too. The result is
// never nil, so the message's JSON holds [] rather than null.
func normalizeNames(names []string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	out = slices.Compact(out)
	out = slices.DeleteFunc(out, func(name string) bool {
		return name == "" || slices.ContainsFunc(out, func(other string) bool {
			return strings.HasPrefix(other, name+".")
		})
	})
	if out == nil {
		out = []string{}
	}
	return out
}

// flattenFields returns fields with nested maps flattened into dotted
// keys, nil values and diff fields dropped, and values normalised.
func flattenFields(fields map[string]any, diffFields []string) (map[string]any, error) {
	out := map[string]any{}
	for name, value := range fields {
		if err := flattenValue(out, name, value); err != nil {
			return nil, err
		}
	}
	for _, name := range diffFields {
		delete(out, name)
	}
	return out, nil
}

func flattenValue(out map[string]any, name string, value any) error {
	if nested, ok := value.(map[string]any); ok {
		for component, v := range nested {
			if err := flattenValue(out, name+"."+component, v); err != nil {
				return err
			}
		}
		return nil
	}
	v, err := normalizeValue(value)
	if err != nil {
		return fmt.Errorf("field %s: %w", name, err)
	}
	if v != nil {
		out[name] = v
	}
	return nil
}

// normalizeValue converts a field value to the type encoding/json produces
// when it decodes the value into an interface: string, bool, float64 or
// []any. An integer beyond ±2^53, which float64 would round, is kept as a
// json.Number with its exact digits instead.
func normalizeValue(value any) (any, error) {
	switch v := value.(type) {
	case nil, string, bool, float64:
		return v, nil
	case float32:
		return float64(v), nil
	case int:
		return intValue(int64(v)), nil
	case int32:
		return intValue(int64(v)), nil
	case int64:
		return intValue(v), nil
	case json.Number:
		return numberValue(v)
	case time.Time:
		return v.UTC().Format(DateTimeLayout), nil
	case []any:
		out := make([]any, len(v))
		for i, elem := range v {
			n, err := normalizeValue(elem)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported value type %T: want string, bool, number, time.Time or a list of those", value)
}

const maxExactInt = 1 << 53

func intValue(n int64) any {
	if n > maxExactInt || n < -maxExactInt {
		return json.Number(strconv.FormatInt(n, 10))
	}
	return float64(n)
}

func numberValue(n json.Number) (any, error) {
	if i, err := n.Int64(); err == nil {
		return intValue(i), nil
	}
	if !strings.ContainsAny(string(n), ".eE") {
		// An integer too long for int64 keeps its digits.
		return n, nil
	}
	f, err := n.Float64()
	if err != nil {
		return nil, fmt.Errorf("invalid number %s: %w", n, err)
	}
	return f, nil
}
