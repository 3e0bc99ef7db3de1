package pubsub_test

import (
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sfsap/sfsap/pkg/pubsub"
	"github.com/sfsap/sfsap/pkg/sfsim"
)

// benchSchema returns the Salesforce simulator's AccountChangeEvent schema,
// parsed for decoding and for encoding.
func benchSchema(b *testing.B) (*pubsub.Schema, *avro.RecordSchema) {
	b.Helper()
	ps, err := sfsim.NewPubSub(sfsim.NewStore(), sfsim.PubSubOptions{})
	if err != nil {
		b.Fatalf("NewPubSub() error = %v", err)
	}
	schema, err := pubsub.ParseSchema(ps.SchemaID(), ps.SchemaJSON())
	if err != nil {
		b.Fatalf("ParseSchema() error = %v", err)
	}
	parsed, err := avro.ParseWithCache(ps.SchemaJSON(), "", &avro.SchemaCache{})
	if err != nil {
		b.Fatalf("parsing the schema for encoding: %v", err)
	}
	return schema, parsed.(*avro.RecordSchema)
}

// benchPayload encodes a change event of one Account: the header with a
// changedFields bitmap of the named fields, and the given field values.
// Each value is a string, an int64 for a datetime, or a map of address
// components.
func benchPayload(b *testing.B, schema *avro.RecordSchema, changeType string, changed []string, values map[string]any) []byte {
	b.Helper()
	bitmap := new(big.Int)
	record := map[string]any{}
	for i, f := range schema.Fields() {
		if f.Name() == "ChangeEventHeader" {
			continue
		}
		for _, name := range changed {
			if name == f.Name() {
				bitmap.SetBit(bitmap, i, 1)
			}
		}
		v, ok := values[f.Name()]
		if !ok {
			record[f.Name()] = nil
			continue
		}
		record[f.Name()] = unionValue(b, f.Type(), v)
	}
	changedFields := []any{}
	if len(changed) > 0 {
		changedFields = append(changedFields, fmt.Sprintf("0x%X", bitmap.Bytes()))
	}
	record["ChangeEventHeader"] = map[string]any{
		"entityName": "Account", "recordIds": []any{"001Hx0000000042IAA"}, "changeType": changeType,
		"changeOrigin": "", "transactionKey": "5a0e6c1e-53c4-4c38-9a51-0a3e4b0f6c11", "sequenceNumber": 1,
		"commitTimestamp": int64(1764866400123), "commitNumber": int64(4000000294), "commitUser": "005Hx00000SimUsIAJ",
		"nulledFields": []any{}, "diffFields": []any{}, "changedFields": changedFields,
	}
	payload, err := avro.Marshal(schema, record)
	if err != nil {
		b.Fatalf("encoding the benchmark event: %v", err)
	}
	return payload
}

// unionValue wraps v for a ["null", T] field: a single-entry map from the
// branch name to the value, with address components wrapped the same way.
func unionValue(b *testing.B, t avro.Schema, v any) any {
	b.Helper()
	union, ok := t.(*avro.UnionSchema)
	if !ok {
		return v
	}
	for _, branch := range union.Types() {
		if branch.Type() == avro.Null {
			continue
		}
		if ref, ok := branch.(*avro.RefSchema); ok {
			branch = ref.Schema()
		}
		rec, isRecord := branch.(*avro.RecordSchema)
		if !isRecord {
			return map[string]any{string(branch.Type()): v}
		}
		components := v.(map[string]any)
		inner := map[string]any{}
		for _, f := range rec.Fields() {
			if c, ok := components[f.Name()]; ok {
				inner[f.Name()] = unionValue(b, f.Type(), c)
			} else {
				inner[f.Name()] = nil
			}
		}
		return map[string]any{rec.FullName(): inner}
	}
	b.Fatalf("union %s has no branch besides null", union)
	return nil
}

// BenchmarkDecodeEvent decodes an Avro change event to account changes,
// bitmaps included, as the listener does for each Pub/Sub event.
func BenchmarkDecodeEvent(b *testing.B) {
	schema, record := benchSchema(b)
	modified := time.Date(2025, 12, 4, 16, 40, 0, 0, time.UTC).UnixMilli()
	events := []struct {
		name    string
		payload []byte
	}{
		{"update Type", benchPayload(b, record, "UPDATE", []string{"Type", "LastModifiedDate"}, map[string]any{
			"Type": "Customer - Direct", "LastModifiedDate": modified,
		})},
		{"create with address", benchPayload(b, record, "CREATE", nil, map[string]any{
			"Name": "Brennerei Alpenglück GmbH & Co. KG", "Type": "Prospect", "Phone": "+49 8821 730 55",
			"BillingAddress": map[string]any{
				"Street": "Talstraße 7", "City": "Garmisch-Partenkirchen", "State": "Bayern",
				"PostalCode": "82467", "Country": "Deutschland",
			},
			"OwnerId": "005Hx00000SimUsIAJ", "CreatedDate": modified, "CreatedById": "005Hx00000SimUsIAJ",
			"LastModifiedDate": modified, "LastModifiedById": "005Hx00000SimUsIAJ",
		})},
	}
	for _, ev := range events {
		b.Run(ev.name, func(b *testing.B) {
			b.SetBytes(int64(len(ev.payload)))
			b.ReportAllocs()
			for b.Loop() {
				decoded, err := schema.DecodeEvent(ev.payload)
				if err != nil {
					b.Fatalf("DecodeEvent(%s) error = %v", ev.name, err)
				}
				changes, err := decoded.AccountChanges()
				if err != nil || len(changes) != 1 {
					b.Fatalf("AccountChanges(%s) = %d changes, error %v; want 1 change", ev.name, len(changes), err)
				}
			}
		})
	}
}

// BenchmarkDecodeBitmap turns a changedFields bitmap with a nested address
// entry into field names.
func BenchmarkDecodeBitmap(b *testing.B) {
	schema, record := benchSchema(b)
	top, address := new(big.Int), -1
	for i, f := range record.Fields() {
		switch f.Name() {
		case "Type", "LastModifiedDate":
			top.SetBit(top, i, 1)
		case "BillingAddress":
			top.SetBit(top, i, 1)
			address = i
		}
	}
	entries := []string{fmt.Sprintf("0x%X", top.Bytes()), fmt.Sprintf("%d-0x06", address)}
	b.ReportAllocs()
	for b.Loop() {
		names, err := schema.DecodeBitmap(entries)
		if err != nil || len(names) != 4 {
			b.Fatalf("DecodeBitmap(%v) = %v, error %v; want 4 names", entries, names, err)
		}
	}
}
