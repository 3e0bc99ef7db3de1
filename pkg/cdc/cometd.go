package cdc

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/sfsap/sfsap/pkg/msg"
)

// DecodeCometD decodes the data member of a change event delivered over
// CometD, {"schema": ..., "payload": {...}, "event": {"replayId": N}}, into
// one msg.AccountChange per record id, as [Event.AccountChanges] describes.
//
// The payload holds the ChangeEventHeader and the changed fields with
// non-null values. Compound fields arrive nested ("BillingAddress":
// {"City": ...}) and come out flattened ("BillingAddress.City"). A large
// text field sent as {"diff": "..."} is left out of Fields, because the
// new text is not in the event. DecodeCometD does not check entityName:
// the caller subscribes to an Account channel.
func DecodeCometD(data json.RawMessage) ([]msg.AccountChange, error) {
	ev, err := parseCometD(data)
	if err != nil {
		return nil, err
	}
	return ev.AccountChanges()
}

// cometdHeader is the JSON form of the ChangeEventHeader. Its fields match
// Header one to one, so it converts to Header. CometD sends no
// nulledFields or diffFields, but they are read if present.
type cometdHeader struct {
	EntityName      string   `json:"entityName"`
	RecordIDs       []string `json:"recordIds"`
	ChangeType      string   `json:"changeType"`
	ChangeOrigin    string   `json:"changeOrigin"`
	TransactionKey  string   `json:"transactionKey"`
	SequenceNumber  int      `json:"sequenceNumber"`
	CommitTimestamp int64    `json:"commitTimestamp"`
	CommitNumber    int64    `json:"commitNumber"`
	CommitUser      string   `json:"commitUser"`
	ChangedFields   []string `json:"changedFields"`
	NulledFields    []string `json:"nulledFields"`
	DiffFields      []string `json:"diffFields"`
}

const headerKey = "ChangeEventHeader"

func parseCometD(data json.RawMessage) (Event, error) {
	var envelope struct {
		Payload map[string]json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(data, &envelope); err != nil {
		return Event{}, fmt.Errorf("decoding CometD change event: %w", err)
	}
	if envelope.Payload == nil {
		return Event{}, fmt.Errorf("decoding CometD change event: data has no payload object")
	}
	rawHeader, ok := envelope.Payload[headerKey]
	if !ok {
		return Event{}, fmt.Errorf("decoding CometD change event: payload has no %s", headerKey)
	}
	var h cometdHeader
	if err := json.Unmarshal(rawHeader, &h); err != nil {
		return Event{}, fmt.Errorf("decoding CometD change event: %s: %w", headerKey, err)
	}

	ev := Event{
		Header: Header(h),
		Fields: map[string]any{},
	}
	for name, raw := range envelope.Payload {
		if name == headerKey {
			continue
		}
		value, err := decodeJSONValue(raw)
		if err != nil {
			return Event{}, fmt.Errorf("decoding CometD change event %s: field %s: %w", h.TransactionKey, name, err)
		}
		if isDiff(value) {
			ev.Header.DiffFields = append(ev.Header.DiffFields, name)
			continue
		}
		ev.Fields[name] = value
	}
	return ev, nil
}

// decodeJSONValue decodes raw keeping numbers as json.Number, so that
// integers too large for float64 keep their digits.
func decodeJSONValue(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// isDiff reports whether value is the {"diff": "..."} object that CometD
// sends in place of a long text field's new value.
func isDiff(value any) bool {
	obj, ok := value.(map[string]any)
	if !ok || len(obj) != 1 {
		return false
	}
	_, ok = obj["diff"].(string)
	return ok
}
