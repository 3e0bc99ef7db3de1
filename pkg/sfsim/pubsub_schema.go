package sfsim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sfsap/sfsap/pkg/account"
)

// avroNamespace is the namespace of Salesforce's event schemas.
const avroNamespace = "com.sforce.eventbus"

// schemaField is one top-level field of the AccountChangeEvent schema after
// the ChangeEventHeader.
type schemaField struct {
	name string
	// avroType is a primitive Avro type, or "Address" for a compound
	// address field.
	avroType string
	// doc is Salesforce's field description, "<kind>:<data type>" with the
	// field definition id appended for custom fields.
	doc string
}

// standardEventFields are the standard Account fields of a change event in
// the order Salesforce's schema lists them, for an org without record
// types and person accounts. With that order the changedFields bitmap of a
// Fax change is 0x400080 (bits 7 and 22, Fax and LastModifiedDate), as in
// Salesforce's documented example. Fields that change events never carry,
// such as SystemModstamp, IsDeleted and PhotoUrl, are left out.
var standardEventFields = []schemaField{
	{"Name", "string", "Data:Text"},
	{"Type", "string", "Data:DynamicEnum"},
	{"ParentId", "string", "ForeignKey:EntityId"},
	{"BillingAddress", "Address", "Data:Address"},
	{"ShippingAddress", "Address", "Data:Address"},
	{"Phone", "string", "Data:Phone"},
	{"Fax", "string", "Data:Phone"},
	{"AccountNumber", "string", "Data:Text"},
	{"Website", "string", "Data:Url"},
	{"Sic", "string", "Data:Text"},
	{"Industry", "string", "Data:DynamicEnum"},
	{"AnnualRevenue", "double", "Data:Currency"},
	{"NumberOfEmployees", "int", "Data:Integer"},
	{"Ownership", "string", "Data:DynamicEnum"},
	{"TickerSymbol", "string", "Data:Text"},
	{"Description", "string", "Data:StringPlusClob"},
	{"Rating", "string", "Data:DynamicEnum"},
	{"Site", "string", "Data:Text"},
	{"OwnerId", "string", "ForeignKey:EntityId"},
	{"CreatedDate", "long", "CreatedDate:DateTime"},
	{"CreatedById", "string", "ForeignKey:EntityId"},
	{"LastModifiedDate", "long", "Data:DateTime"},
	{"LastModifiedById", "string", "ForeignKey:EntityId"},
	{"Jigsaw", "string", "Data:Text"},
	{"JigsawCompanyId", "string", "ExternalForeignKey:ExternalId"},
	{"CleanStatus", "string", "Data:StaticEnum"},
	{"AccountSource", "string", "Data:DynamicEnum"},
	{"DunsNumber", "string", "Data:Text"},
	{"Tradestyle", "string", "Data:Text"},
	{"NaicsCode", "string", "Data:Text"},
	{"NaicsDesc", "string", "Data:Text"},
	{"YearStarted", "string", "Data:Text"},
	{"SicDesc", "string", "Data:Text"},
	{"DandbCompanyId", "string", "ForeignKey:EntityId"},
	{"OperatingHoursId", "string", "ForeignKey:EntityId"},
}

// addressComponents are the fields of the Address record in schema order,
// with their Avro types.
var addressComponents = []struct{ name, avroType string }{
	{"Street", "string"}, {"City", "string"}, {"State", "string"},
	{"PostalCode", "string"}, {"Country", "string"}, {"StateCode", "string"},
	{"CountryCode", "string"}, {"Latitude", "double"}, {"Longitude", "double"},
	{"GeocodeAccuracy", "string"},
}

// headerSchema is the ChangeEventHeader record. Its field order is fixed
// by Salesforce.
var headerSchema = map[string]any{
	"type": "record",
	"name": "ChangeEventHeader",
	"fields": []any{
		map[string]any{"name": "entityName", "type": "string"},
		map[string]any{"name": "recordIds", "type": map[string]any{"type": "array", "items": "string"}},
		map[string]any{"name": "changeType", "type": map[string]any{
			"type": "enum", "name": "ChangeType",
			"symbols": []string{"CREATE", "UPDATE", "DELETE", "UNDELETE", "GAP_CREATE", "GAP_UPDATE", "GAP_DELETE", "GAP_UNDELETE", "GAP_OVERFLOW", "SNAPSHOT"},
		}},
		map[string]any{"name": "changeOrigin", "type": "string"},
		map[string]any{"name": "transactionKey", "type": "string"},
		map[string]any{"name": "sequenceNumber", "type": "int"},
		map[string]any{"name": "commitTimestamp", "type": "long"},
		map[string]any{"name": "commitNumber", "type": "long"},
		map[string]any{"name": "commitUser", "type": "string"},
		map[string]any{"name": "nulledFields", "type": map[string]any{"type": "array", "items": "string"}},
		map[string]any{"name": "diffFields", "type": map[string]any{"type": "array", "items": "string"}},
		map[string]any{"name": "changedFields", "type": map[string]any{"type": "array", "items": "string"}},
	},
}

// eventSchema is the simulator's AccountChangeEvent schema and the lookup
// tables that encoding needs.
type eventSchema struct {
	id     string
	json   string
	avro   avro.Schema
	fields []schemaField
	// positions maps a flat Account field (BillingCity) and its event name
	// (BillingAddress.City) to its place in the schema.
	positions map[string]fieldPosition
}

// fieldPosition is a field's index among the top-level schema fields, where
// ChangeEventHeader is 0. For an address component, nested is its index in
// the Address record, and -1 for any other field.
type fieldPosition struct {
	top, nested int
}

// newEventSchema builds the schema: header, standard fields, the custom
// fields sfsap uses by default, then extra custom fields, all typed string.
// Custom fields come after all standard fields, as in Salesforce's schemas.
func newEventSchema(extra []string) (*eventSchema, error) {
	fields := slices.Clone(standardEventFields)
	d := account.DefaultFields()
	custom := append(d.Custom(), extra...)
	for i, name := range custom {
		if slices.ContainsFunc(fields, func(f schemaField) bool { return f.name == name }) {
			continue
		}
		// The suffix imitates the 15-character id of the custom field's
		// definition that Salesforce appends.
		typ, kind := "string", "Text"
		switch name {
		case d.SyncAttempts:
			typ, kind = "double", "Double"
		case d.LastSync:
			typ, kind = "long", "DateTime"
		}
		fields = append(fields, schemaField{name, typ, fmt.Sprintf("Data:%s:00NHx00000S%04d", kind, i)})
	}

	doc := map[string]any{
		"type":      "record",
		"name":      "AccountChangeEvent",
		"namespace": avroNamespace,
		"fields":    schemaFieldsJSON(fields),
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encoding AccountChangeEvent schema: %w", err)
	}
	parsed, err := avro.ParseBytesWithCache(raw, "", &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("parsing AccountChangeEvent schema: %w", err)
	}

	s := &eventSchema{
		id:        schemaID(parsed),
		json:      string(raw),
		avro:      parsed,
		fields:    fields,
		positions: map[string]fieldPosition{},
	}
	for i, f := range fields {
		top := i + 1
		if f.avroType != "Address" {
			s.positions[f.name] = fieldPosition{top, -1}
			continue
		}
		prefix := strings.TrimSuffix(f.name, "Address")
		for j, c := range addressComponents {
			s.positions[prefix+c.name] = fieldPosition{top, j}
			s.positions[f.name+"."+c.name] = fieldPosition{top, j}
		}
		s.positions[f.name] = fieldPosition{top, -1}
	}
	return s, nil
}

// schemaFieldsJSON returns the schema's field list: the header, then every
// field as a union with null that defaults to null. The Address record is
// defined at its first use and referenced by name afterwards.
func schemaFieldsJSON(fields []schemaField) []any {
	out := []any{map[string]any{"name": "ChangeEventHeader", "type": headerSchema, "doc": "Data:ComplexValueType"}}
	addressDefined := false
	for _, f := range fields {
		var typ any = f.avroType
		if f.avroType == "Address" && !addressDefined {
			components := make([]any, len(addressComponents))
			for i, c := range addressComponents {
				components[i] = map[string]any{"name": c.name, "type": []string{"null", c.avroType}, "default": nil}
			}
			typ = map[string]any{"type": "record", "name": "Address", "fields": components}
			addressDefined = true
		}
		out = append(out, map[string]any{"name": f.name, "type": []any{"null", typ}, "doc": f.doc, "default": nil})
	}
	return out
}

// schemaID returns the schema's fingerprint as Salesforce-style id: the
// first 16 bytes of the SHA-256 of the schema's canonical form, base64url
// encoded without padding.
// NOTE: Salesforce does not document how it derives schema ids; clients
// only need it to be stable per schema.
func schemaID(s avro.Schema) string {
	sum := sha256.Sum256([]byte(s.String()))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// encode returns the Avro binary encoding of ev. Every schema field is
// present: fields the event does not carry are null, and an address is a
// record when at least one of its components is in the event.
func (s *eventSchema) encode(ev ChangeEvent, omitParentBit bool) ([]byte, error) {
	h := ev.Header
	record := map[string]any{
		"ChangeEventHeader": map[string]any{
			"entityName":      h.EntityName,
			"recordIds":       stringsToAny(h.RecordIDs),
			"changeType":      h.ChangeType,
			"changeOrigin":    h.ChangeOrigin,
			"transactionKey":  h.TransactionKey,
			"sequenceNumber":  h.SequenceNumber,
			"commitTimestamp": h.CommitTimestamp,
			"commitNumber":    h.CommitNumber,
			"commitUser":      h.CommitUser,
			"nulledFields":    stringsToAny(s.bitmap(h.NulledFields, omitParentBit)),
			"diffFields":      []any{},
			"changedFields":   stringsToAny(s.bitmap(h.ChangedFields, omitParentBit)),
		},
	}
	for _, f := range s.fields {
		value, err := s.fieldValue(f, ev.Fields)
		if err != nil {
			return nil, fmt.Errorf("encoding field %s of change event %d: %w", f.name, ev.ReplayID, err)
		}
		record[f.name] = value
	}
	data, err := avro.Marshal(s.avro, record)
	if err != nil {
		return nil, fmt.Errorf("encoding change event %d as Avro: %w", ev.ReplayID, err)
	}
	return data, nil
}

// fieldValue returns the union value of one top-level field: nil, or a
// single-entry map from the branch name to the value.
func (s *eventSchema) fieldValue(f schemaField, values map[string]any) (any, error) {
	if f.avroType != "Address" {
		v, ok := values[f.name]
		if !ok || v == nil {
			return nil, nil
		}
		converted, err := avroValue(f.avroType, v)
		if err != nil {
			return nil, err
		}
		return map[string]any{f.avroType: converted}, nil
	}

	prefix := strings.TrimSuffix(f.name, "Address")
	address := map[string]any{}
	present := false
	for _, c := range addressComponents {
		v, ok := values[prefix+c.name]
		present = present || ok
		if !ok || v == nil {
			address[c.name] = nil
			continue
		}
		converted, err := avroValue(c.avroType, v)
		if err != nil {
			return nil, fmt.Errorf("component %s: %w", c.name, err)
		}
		address[c.name] = map[string]any{c.avroType: converted}
	}
	if !present {
		return nil, nil
	}
	return map[string]any{avroNamespace + ".Address": address}, nil
}

// avroValue converts a store value to the Go type that hamba/avro encodes
// as the primitive Avro type. Store values come from JSON (string, bool,
// json.Number) or from Go callers (numbers, time.Time).
func avroValue(avroType string, v any) (any, error) {
	switch avroType {
	case "string":
		switch v := v.(type) {
		case string:
			return v, nil
		case json.Number:
			return v.String(), nil
		}
	case "boolean":
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case "double":
		if f, ok := avroFloat(v); ok {
			return f, nil
		}
	case "int":
		if f, ok := avroFloat(v); ok && f == math.Trunc(f) && f >= math.MinInt32 && f <= math.MaxInt32 {
			return int(f), nil
		}
	case "long":
		// Datetime fields: milliseconds since the Unix epoch.
		switch v := v.(type) {
		case time.Time:
			return v.UnixMilli(), nil
		case string:
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return nil, fmt.Errorf("invalid datetime %q: %w", v, err)
			}
			return t.UnixMilli(), nil
		}
		if f, ok := avroFloat(v); ok && f == math.Trunc(f) {
			return int64(f), nil
		}
	}
	return nil, fmt.Errorf("value %v of type %T does not fit Avro type %s", v, v, avroType)
}

func avroFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case int:
		return float64(v), true
	case int32:
		return float64(v), true
	case int64:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

// bitmap encodes field names as Salesforce's changedFields and
// nulledFields do. Element 0 is "0x" and the upper-case hex of a bitmap in
// which bit i is top-level field i. Each compound field with changed
// components adds "<i>-0x<hex>", with bit j for its j-th component. Names
// outside the schema are left out.
func (s *eventSchema) bitmap(names []string, omitParentBit bool) []string {
	if len(names) == 0 {
		return []string{}
	}
	top := new(big.Int)
	nested := map[int]*big.Int{}
	for _, name := range names {
		pos, ok := s.positions[name]
		if !ok {
			continue
		}
		if pos.nested < 0 {
			top.SetBit(top, pos.top, 1)
			continue
		}
		if !omitParentBit {
			top.SetBit(top, pos.top, 1)
		}
		bits := nested[pos.top]
		if bits == nil {
			bits = new(big.Int)
			nested[pos.top] = bits
		}
		bits.SetBit(bits, pos.nested, 1)
	}
	out := []string{hexBitmap(top)}
	for _, parent := range slices.Sorted(maps.Keys(nested)) {
		out = append(out, fmt.Sprintf("%d-%s", parent, hexBitmap(nested[parent])))
	}
	return out
}

// hexBitmap writes b as "0x" followed by whole bytes in upper-case hex,
// "0x00" for an empty bitmap.
func hexBitmap(b *big.Int) string {
	raw := b.Bytes()
	if len(raw) == 0 {
		raw = []byte{0}
	}
	return fmt.Sprintf("0x%X", raw)
}

func stringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
