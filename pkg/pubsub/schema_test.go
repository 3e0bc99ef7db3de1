package pubsub_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hamba/avro/v2"

	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/pubsub"
	"github.com/sfsap/sfsap/test/fixtures"
)

// avroFromJSON converts a decoded event as Salesforce's documentation
// prints it (JSON, with null for every unset field) to the value
// hamba/avro encodes with schema. Fields missing from the JSON are null.
func avroFromJSON(t *testing.T, schema avro.Schema, v any) any {
	t.Helper()
	if ref, ok := schema.(*avro.RefSchema); ok {
		schema = ref.Schema()
	}
	switch s := schema.(type) {
	case *avro.UnionSchema:
		if v == nil {
			return nil
		}
		for _, branch := range s.Types() {
			if branch.Type() == avro.Null {
				continue
			}
			inner := branch
			if ref, ok := inner.(*avro.RefSchema); ok {
				inner = ref.Schema()
			}
			_, isMap := v.(map[string]any)
			_, isRecord := inner.(*avro.RecordSchema)
			if isMap != isRecord {
				continue
			}
			name := string(inner.Type())
			if named, ok := inner.(avro.NamedSchema); ok {
				name = named.FullName()
			}
			return map[string]any{name: avroFromJSON(t, inner, v)}
		}
		t.Fatalf("value %v fits no branch of %s", v, s)
	case *avro.RecordSchema:
		m, _ := v.(map[string]any)
		out := map[string]any{}
		for _, f := range s.Fields() {
			out[f.Name()] = avroFromJSON(t, f.Type(), m[f.Name()])
		}
		return out
	case *avro.ArraySchema:
		items, _ := v.([]any)
		out := make([]any, len(items))
		for i, item := range items {
			out[i] = avroFromJSON(t, s.Items(), item)
		}
		return out
	case *avro.EnumSchema:
		return v
	case *avro.PrimitiveSchema:
		n, ok := v.(json.Number)
		if !ok {
			return v
		}
		switch s.Type() {
		case avro.Int:
			i, _ := n.Int64()
			return int(i)
		case avro.Long:
			i, _ := n.Int64()
			return i
		case avro.Double:
			f, _ := n.Float64()
			return f
		}
	}
	return v
}

// encodeFixture encodes a documented Pub/Sub event with schemaJSON.
func encodeFixture(t *testing.T, schemaJSON string, fixture []byte) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(fixture))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("decoding fixture: %v", err)
	}
	delete(doc, "_note")
	schema, err := avro.ParseWithCache(schemaJSON, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatalf("parsing schema: %v", err)
	}
	payload, err := avro.Marshal(schema, avroFromJSON(t, schema, doc))
	if err != nil {
		t.Fatalf("encoding fixture as Avro: %v", err)
	}
	return payload
}

// withoutField returns the schema JSON with one top-level field removed.
func withoutField(t *testing.T, schemaJSON []byte, name string) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(schemaJSON, &doc); err != nil {
		t.Fatalf("decoding schema: %v", err)
	}
	var kept []any
	for _, f := range doc["fields"].([]any) {
		if f.(map[string]any)["name"] != name {
			kept = append(kept, f)
		}
	}
	doc["fields"] = kept
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("encoding schema: %v", err)
	}
	return string(out)
}

func TestDecodeDocumentedEvents(t *testing.T) {
	t.Parallel()
	realSchema := fixtures.Read(t, "fixtures/salesforce/AccountChangeEvent.avsc")
	address := map[string]any{
		"BillingAddress.Street": "415 Mission Street", "BillingAddress.City": "San Francisco",
		"BillingAddress.State": "CA", "BillingAddress.PostalCode": "94105", "BillingAddress.Country": "United States",
	}
	tests := []struct {
		name    string
		fixture string
		// schema is the writer schema: the real one, or the real one
		// without RecordTypeId for the documentation org, which has no
		// record types (its LastModifiedDate is field 22).
		schema string
		want   msg.AccountChange
	}{
		{
			name:    "create with address",
			fixture: "fixtures/salesforce/pubsub-cdc-create-account-compound.partial.json",
			schema:  string(realSchema),
			want: msg.AccountChange{
				Schema: msg.SchemaAccountChange, AccountID: "0015f00002JUXA8AAP", ChangeType: "CREATE",
				ChangedFields:  []string{},
				Fields:         mergeMaps(map[string]any{"Name": "Acme"}, address),
				TransactionKey: "00006bec-ce66-0611-9018-30a98446c9f2", SequenceNumber: 1,
				CommitTimestamp: time.UnixMilli(1714156685000).UTC(), CommitUser: "0055f000005mc66AAA",
				ChangeOrigin: "com/salesforce/api/soap/60.0;client=SfdcInternalAPI/",
			},
		},
		{
			name:    "enriched update",
			fixture: "fixtures/salesforce/pubsub-cdc-update-account-enriched.partial.json",
			schema:  withoutField(t, realSchema, "RecordTypeId"),
			want: msg.AccountChange{
				Schema: msg.SchemaAccountChange, AccountID: "001ZM000001QkdOYAS", ChangeType: "UPDATE",
				ChangedFields:  []string{"Fax", "LastModifiedDate"},
				Fields:         address,
				TransactionKey: "00097360-44a0-7c2e-a172-97381ae22f82", SequenceNumber: 1,
				CommitTimestamp: time.UnixMilli(1714172795000).UTC(), CommitUser: "005ZM000000M6o1YAC",
				ChangeOrigin: "com/salesforce/api/soap/61.0;client=SfdcInternalAPI/",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			schema := parseSchema(t, "fixture", tt.schema)
			payload := encodeFixture(t, tt.schema, fixtures.Read(t, tt.fixture))

			ev, err := schema.DecodeEvent(payload)
			if err != nil {
				t.Fatalf("DecodeEvent: %v", err)
			}
			changes, err := ev.AccountChanges()
			if err != nil {
				t.Fatalf("AccountChanges: %v", err)
			}
			if diff := cmp.Diff([]msg.AccountChange{tt.want}, changes); diff != "" {
				t.Errorf("decoded %s (-want +got):\n%s", tt.fixture, diff)
			}
		})
	}
}

func mergeMaps(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// temporalSchema has one field of each Salesforce date and time type.
const temporalSchema = `{"type": "record", "name": "TestChangeEvent", "namespace": "com.sforce.eventbus", "fields": [
 {"name": "ChangeEventHeader", "type": {"type": "record", "name": "ChangeEventHeader", "fields": [
   {"name": "changedFields", "type": {"type": "array", "items": "string"}}]}},
 {"name": "CreatedDate", "type": ["null", "long"], "doc": "CreatedDate:DateTime", "default": null},
 {"name": "Due__c", "type": ["null", "long"], "doc": "Data:DateOnly:00NDp00000BbvCb", "default": null},
 {"name": "Opens__c", "type": ["null", "long"], "doc": "Data:TimeOnly:00NDp000009RrA1", "default": null},
 {"name": "Seats__c", "type": ["null", "long"], "doc": "Data:Double:00NDp000009Rr9S", "default": null},
 {"name": "Active__c", "type": ["null", "boolean"], "doc": "Data:Boolean:00NDp000009Sipx", "default": null}]}`

func TestDecodeEventValueTypes(t *testing.T) {
	t.Parallel()
	schema := parseSchema(t, "temporal", temporalSchema)
	created := time.Date(2025, 3, 1, 8, 0, 0, 123e6, time.UTC)
	record := map[string]any{
		"ChangeEventHeader": map[string]any{"changedFields": []any{"0x06"}},
		"CreatedDate":       map[string]any{"long": created.UnixMilli()},
		"Due__c":            map[string]any{"long": time.Date(2025, 4, 30, 0, 0, 0, 0, time.UTC).UnixMilli()},
		"Opens__c":          map[string]any{"long": int64((9*3600 + 30*60) * 1000)},
		"Seats__c":          map[string]any{"long": int64(1) << 60},
		"Active__c":         map[string]any{"boolean": true},
	}
	avroSchema, err := avro.ParseWithCache(temporalSchema, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatalf("parsing schema: %v", err)
	}
	payload, err := avro.Marshal(avroSchema, record)
	if err != nil {
		t.Fatalf("encoding: %v", err)
	}

	ev, err := schema.DecodeEvent(payload)
	if err != nil {
		t.Fatalf("DecodeEvent: %v", err)
	}
	want := map[string]any{
		"CreatedDate": created,
		"Due__c":      "2025-04-30",
		"Opens__c":    "09:30:00.000Z",
		"Seats__c":    int64(1) << 60,
		"Active__c":   true,
	}
	if diff := cmp.Diff(want, ev.Fields); diff != "" {
		t.Errorf("DecodeEvent fields (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"CreatedDate", "Due__c"}, ev.Header.ChangedFields); diff != "" {
		t.Errorf("DecodeEvent changed fields (-want +got):\n%s", diff)
	}

	if _, err := schema.DecodeEvent(payload[:len(payload)-3]); err == nil {
		t.Errorf("DecodeEvent of a truncated payload = nil error, want an error")
	}
	if _, err := schema.DecodeEvent(append(payload, 0)); err == nil {
		t.Errorf("DecodeEvent of a payload with a trailing byte = nil error, want an error")
	}
}

func TestParseSchemaRejectsNonRecord(t *testing.T) {
	t.Parallel()
	for _, schemaJSON := range []string{`"string"`, `{"type": "record"`, `{"type": "array", "items": "string"}`} {
		if _, err := pubsub.ParseSchema("x", schemaJSON); err == nil {
			t.Errorf("ParseSchema(%s) = nil error, want an error", schemaJSON)
		}
	}
}
