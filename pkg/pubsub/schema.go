package pubsub

import (
	"fmt"
	"strings"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sfsap/sfsap/pkg/cdc"
)

// headerField is the name of the ChangeEventHeader field in change event
// schemas.
const headerField = "ChangeEventHeader"

// Schema is the Avro schema of a topic's events.
type Schema struct {
	ID     string
	JSON   string
	record *avro.RecordSchema
}

// ParseSchema parses an event schema as GetSchema returns it. It returns
// an error when the JSON is not an Avro record schema.
func ParseSchema(id, schemaJSON string) (*Schema, error) {
	// Each schema gets its own cache of named types, so that two schemas
	// that define a record of the same name differently do not mix.
	parsed, err := avro.ParseWithCache(schemaJSON, "", &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("parsing Avro schema %s: %w", id, err)
	}
	record, ok := parsed.(*avro.RecordSchema)
	if !ok {
		return nil, fmt.Errorf("parsing Avro schema %s: got a %s schema, want a record", id, parsed.Type())
	}
	return &Schema{ID: id, JSON: schemaJSON, record: record}, nil
}

// DecodeEvent decodes one event payload, the Avro binary encoding of a
// single record written with s, into a cdc.Event.
//
// Header bitmaps become field names (see DecodeBitmap). Fields whose value
// is null are left out, so Fields holds what the change set; NulledFields
// names the fields set to null. Address and other compound fields become
// nested maps. Datetime fields (Avro long, "DateTime" in the field's doc)
// become time.Time, date fields ("DateOnly") "2006-01-02" strings and time
// fields ("TimeOnly") "15:04:05.000Z" strings, so that values match the
// CometD form after cdc.Event.AccountChanges.
func (s *Schema) DecodeEvent(payload []byte) (cdc.Event, error) {
	raw, err := s.unmarshal(payload)
	if err != nil {
		return cdc.Event{}, fmt.Errorf("decoding Avro payload with schema %s: %w", s.ID, err)
	}

	headerMap, ok := raw[headerField].(map[string]any)
	if !ok {
		return cdc.Event{}, fmt.Errorf("decoding event with schema %s: the record has no %s", s.ID, headerField)
	}
	header, err := s.decodeHeader(headerMap)
	if err != nil {
		return cdc.Event{}, fmt.Errorf("decoding %s with schema %s: %w", headerField, s.ID, err)
	}

	fields := map[string]any{}
	for _, f := range s.record.Fields() {
		if f.Name() == headerField {
			continue
		}
		value, err := nativeValue(f.Type(), raw[f.Name()], dataType(f.Doc()))
		if err != nil {
			return cdc.Event{}, fmt.Errorf("decoding field %s with schema %s: %w", f.Name(), s.ID, err)
		}
		if value != nil {
			fields[f.Name()] = value
		}
	}
	return cdc.Event{Header: header, Fields: fields}, nil
}

// unmarshal decodes one record that must fill payload exactly.
// avro.Unmarshal cannot be used, because it ignores a payload that ends
// early (hamba/avro v2.31.0 drops io.EOF) and one with bytes left over.
func (s *Schema) unmarshal(payload []byte) (map[string]any, error) {
	reader := avro.NewReader(nil, 0).Reset(payload)
	var raw map[string]any
	reader.ReadVal(s.record, &raw)
	if reader.Error != nil {
		return nil, fmt.Errorf("payload of %d bytes is truncated or invalid: %w", len(payload), reader.Error)
	}
	var extra [1]byte
	reader.Read(extra[:])
	if reader.Error == nil {
		return nil, fmt.Errorf("payload of %d bytes has data after the record; is the schema the writer's?", len(payload))
	}
	return raw, nil
}

func (s *Schema) decodeHeader(m map[string]any) (cdc.Header, error) {
	var h cdc.Header
	var err error
	str := func(key string) string {
		v, _ := m[key].(string)
		return v
	}
	h.EntityName = str("entityName")
	h.ChangeType = str("changeType")
	h.ChangeOrigin = str("changeOrigin")
	h.TransactionKey = str("transactionKey")
	h.CommitUser = str("commitUser")
	if h.RecordIDs, err = stringList(m["recordIds"]); err != nil {
		return h, fmt.Errorf("recordIds: %w", err)
	}
	seq, err := headerInt(m, "sequenceNumber")
	if err != nil {
		return h, err
	}
	h.SequenceNumber = int(seq)
	if h.CommitTimestamp, err = headerInt(m, "commitTimestamp"); err != nil {
		return h, err
	}
	if h.CommitNumber, err = headerInt(m, "commitNumber"); err != nil {
		return h, err
	}

	for _, list := range []struct {
		key string
		out *[]string
	}{
		{"changedFields", &h.ChangedFields},
		{"nulledFields", &h.NulledFields},
		{"diffFields", &h.DiffFields},
	} {
		entries, err := stringList(m[list.key])
		if err != nil {
			return h, fmt.Errorf("%s: %w", list.key, err)
		}
		names, err := s.DecodeBitmap(entries)
		if err != nil {
			return h, fmt.Errorf("%s: %w", list.key, err)
		}
		*list.out = names
	}
	return h, nil
}

// headerInt returns an integer header field, or 0 when the schema has no
// such field.
func headerInt(m map[string]any, key string) (int64, error) {
	v, ok := m[key]
	if !ok {
		return 0, nil
	}
	n, err := toInt64(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return n, nil
}

// dataType returns the Salesforce data type from a field's doc, such as
// "DateTime" from "Data:DateTime" or "CreatedDate:DateTime", and
// "DateOnly" from "Data:DateOnly:00NDp00000BbvCb".
func dataType(doc string) string {
	parts := strings.Split(doc, ":")
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}

// nativeValue converts a value that hamba/avro decoded into an interface
// to the form cdc.Event expects, guided by the writer schema.
func nativeValue(schema avro.Schema, v any, sfType string) (any, error) {
	if v == nil {
		return nil, nil
	}
	schema = deref(schema)
	switch schema := schema.(type) {
	case *avro.UnionSchema:
		branch, inner, err := unionBranch(schema, v)
		if err != nil {
			return nil, err
		}
		return nativeValue(branch, inner, sfType)
	case *avro.RecordSchema:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("got %T for record %s, want a map", v, schema.FullName())
		}
		out := make(map[string]any, len(schema.Fields()))
		for _, f := range schema.Fields() {
			value, err := nativeValue(f.Type(), m[f.Name()], dataType(f.Doc()))
			if err != nil {
				return nil, fmt.Errorf("component %s: %w", f.Name(), err)
			}
			if value != nil {
				out[f.Name()] = value
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	case *avro.ArraySchema:
		items, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("got %T for an array, want []any", v)
		}
		out := make([]any, len(items))
		for i, item := range items {
			value, err := nativeValue(schema.Items(), item, "")
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out[i] = value
		}
		return out, nil
	case *avro.PrimitiveSchema:
		if schema.Type() == avro.Long || schema.Type() == avro.Int {
			return temporalValue(v, sfType)
		}
	}
	return v, nil
}

// temporalValue converts the epoch-millisecond long of a Salesforce date,
// time or datetime field, and returns other integers as they are.
// NOTE: Salesforce documents only that these fields are longs. Dates are
// read as milliseconds at UTC midnight and times as milliseconds since
// midnight, which no captured payload confirms yet.
func temporalValue(v any, sfType string) (any, error) {
	switch sfType {
	case "DateTime", "DateOnly", "TimeOnly":
	default:
		return v, nil
	}
	ms, err := toInt64(v)
	if err != nil {
		return nil, err
	}
	t := time.UnixMilli(ms).UTC()
	switch sfType {
	case "DateOnly":
		return t.Format(time.DateOnly), nil
	case "TimeOnly":
		return t.Format("15:04:05.000Z"), nil
	}
	return t, nil
}

// unionBranch returns the branch of a union that v belongs to, and the
// value inside it. hamba/avro returns a value of a named or ambiguous
// branch wrapped in a one-entry map keyed by the branch name, and a value
// of a union of null and one type as it is.
func unionBranch(u *avro.UnionSchema, v any) (avro.Schema, any, error) {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for name, inner := range m {
			for _, branch := range u.Types() {
				if branchName(branch) == name {
					return branch, inner, nil
				}
			}
		}
	}
	var nonNull []avro.Schema
	for _, branch := range u.Types() {
		if branch.Type() != avro.Null {
			nonNull = append(nonNull, branch)
		}
	}
	if len(nonNull) == 1 {
		return nonNull[0], v, nil
	}
	for _, branch := range nonNull {
		if p, ok := deref(branch).(*avro.PrimitiveSchema); ok && primitiveMatches(p.Type(), v) {
			return branch, v, nil
		}
	}
	return nil, nil, fmt.Errorf("value of type %T matches no branch of union %s", v, u.String())
}

func branchName(s avro.Schema) string {
	if named, ok := deref(s).(avro.NamedSchema); ok {
		return named.FullName()
	}
	return string(s.Type())
}

func primitiveMatches(t avro.Type, v any) bool {
	switch v.(type) {
	case string:
		return t == avro.String
	case bool:
		return t == avro.Boolean
	case float64:
		return t == avro.Double
	case float32:
		return t == avro.Float
	case int, int32, int64:
		return t == avro.Int || t == avro.Long
	}
	return false
}

// deref returns the schema a named reference points to.
func deref(s avro.Schema) avro.Schema {
	if ref, ok := s.(*avro.RefSchema); ok {
		return ref.Schema()
	}
	return s
}

func stringList(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	items, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("got %T, want an array of strings", v)
	}
	out := make([]string, len(items))
	for i, item := range items {
		s, ok := item.(string)
		if !ok {
			return nil, fmt.Errorf("item %d is %T, want a string", i, item)
		}
		out[i] = s
	}
	return out, nil
}

func toInt64(v any) (int64, error) {
	switch v := v.(type) {
	case int:
		return int64(v), nil
	case int32:
		return int64(v), nil
	case int64:
		return v, nil
	}
	return 0, fmt.Errorf("got %T, want an integer", v)
}
