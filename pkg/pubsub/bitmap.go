package pubsub

import (
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/hamba/avro/v2"
)

// DecodeBitmap turns the changedFields, nulledFields or diffFields entries
// of a Pub/Sub change event header into field names, using the field order
// of the writer schema s.
//
// An entry "0x<hex>" is a bitmap of top-level fields: bit i (the least
// significant bit is 0) stands for the schema's field i, where field 0 is
// ChangeEventHeader. An entry "<i>-0x<hex>" is a bitmap of the components
// of the compound field at top-level index i, such as an address, and
// bit j yields "<Field>.<Component>" (BillingAddress.City) for the
// record's field j. A compound field with an entry of its own is reported
// by its components only, whether or not its top-level bit is set. Names
// come out in schema order.
//
// DecodeBitmap returns an error for a malformed entry, or a bit with no
// field at its index, which means the schema is not the one the event was
// written with.
func (s *Schema) DecodeBitmap(entries []string) ([]string, error) {
	fields := s.record.Fields()
	top := map[int]bool{}
	nested := map[int][]int{}

	for _, entry := range entries {
		if prefix, hexPart, ok := strings.Cut(entry, "-"); ok {
			parent, err := strconv.Atoi(prefix)
			if err != nil || parent < 0 || parent >= len(fields) {
				return nil, fmt.Errorf("invalid bitmap entry %q: %q is not a field index of schema %s, which has %d fields", entry, prefix, s.ID, len(fields))
			}
			components, err := recordFields(fields[parent].Type())
			if err != nil {
				return nil, fmt.Errorf("invalid bitmap entry %q: field %d (%s) of schema %s: %w", entry, parent, fields[parent].Name(), s.ID, err)
			}
			bits, err := bitmapBits(hexPart, len(components))
			if err != nil {
				return nil, fmt.Errorf("invalid bitmap entry %q for %s in schema %s: %w", entry, fields[parent].Name(), s.ID, err)
			}
			nested[parent] = append(nested[parent], bits...)
			continue
		}
		bits, err := bitmapBits(entry, len(fields))
		if err != nil {
			return nil, fmt.Errorf("invalid bitmap entry %q in schema %s: %w", entry, s.ID, err)
		}
		for _, i := range bits {
			top[i] = true
		}
	}

	indexes := slices.Sorted(maps.Keys(top))
	for parent := range nested {
		if !top[parent] {
			indexes = append(indexes, parent)
		}
	}
	slices.Sort(indexes)

	names := []string{}
	for _, i := range indexes {
		children, ok := nested[i]
		if !ok {
			names = append(names, fields[i].Name())
			continue
		}
		components, _ := recordFields(fields[i].Type())
		slices.Sort(children)
		for _, j := range slices.Compact(children) {
			names = append(names, fields[i].Name()+"."+components[j].Name())
		}
	}
	return names, nil
}

// bitmapBits returns the indexes of the set bits of "0x<hex>", each below
// limit.
func bitmapBits(entry string, limit int) ([]int, error) {
	digits, ok := strings.CutPrefix(entry, "0x")
	if !ok {
		digits, ok = strings.CutPrefix(entry, "0X")
	}
	if !ok || digits == "" {
		return nil, fmt.Errorf("want 0x followed by hex digits")
	}
	n, ok := new(big.Int).SetString(digits, 16)
	if !ok {
		return nil, fmt.Errorf("%q is not hexadecimal", digits)
	}
	var bits []int
	for i := range n.BitLen() {
		if n.Bit(i) == 0 {
			continue
		}
		if i >= limit {
			return nil, fmt.Errorf("bit %d is set but there are only %d fields", i, limit)
		}
		bits = append(bits, i)
	}
	return bits, nil
}

// recordFields returns the fields of the record inside a compound field's
// type: the type itself, or the record branch of a union such as
// ["null", Address] or ["null", "string", Switchable_PersonName].
func recordFields(t avro.Schema) ([]*avro.Field, error) {
	t = deref(t)
	if u, ok := t.(*avro.UnionSchema); ok {
		for _, branch := range u.Types() {
			if r, ok := deref(branch).(*avro.RecordSchema); ok {
				return r.Fields(), nil
			}
		}
		return nil, fmt.Errorf("type %s has no record branch, so it has no components", u.String())
	}
	if r, ok := t.(*avro.RecordSchema); ok {
		return r.Fields(), nil
	}
	return nil, fmt.Errorf("type %s is not a record, so it has no components", t.Type())
}
