package pubsub_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/pubsub"
	"github.com/sfsap/sfsap/pkg/sfsim"
	"github.com/sfsap/sfsap/test/fixtures"
)

// minimalSchema has the field order [ChangeEventHeader, Name, Type,
// BillingAddress{Street, City, PostalCode, State, Country}, SAP_ID__c].
const minimalSchema = `{"type": "record", "name": "AccountChangeEvent", "namespace": "com.sforce.eventbus", "fields": [
 {"name": "ChangeEventHeader", "type": {"type": "record", "name": "ChangeEventHeader", "fields": [
   {"name": "entityName", "type": "string"}]}},
 {"name": "Name", "type": ["null", "string"], "default": null},
 {"name": "Type", "type": ["null", "string"], "default": null},
 {"name": "BillingAddress", "type": ["null", {"type": "record", "name": "Address", "fields": [
   {"name": "Street", "type": ["null", "string"], "default": null},
   {"name": "City", "type": ["null", "string"], "default": null},
   {"name": "PostalCode", "type": ["null", "string"], "default": null},
   {"name": "State", "type": ["null", "string"], "default": null},
   {"name": "Country", "type": ["null", "string"], "default": null}]}], "default": null},
 {"name": "SAP_ID__c", "type": ["null", "string"], "default": null}]}`

func parseSchema(t *testing.T, id, schemaJSON string) *pubsub.Schema {
	t.Helper()
	s, err := pubsub.ParseSchema(id, schemaJSON)
	if err != nil {
		t.Fatalf("ParseSchema(%s): %v", id, err)
	}
	return s
}

func TestDecodeBitmap(t *testing.T) {
	t.Parallel()
	real := parseSchema(t, "real", string(fixtures.Read(t, "fixtures/salesforce/AccountChangeEvent.avsc")))
	minimal := parseSchema(t, "minimal", minimalSchema)
	sim, err := sfsim.NewPubSub(sfsim.NewStore(), sfsim.PubSubOptions{})
	if err != nil {
		t.Fatalf("NewPubSub: %v", err)
	}
	simulated := parseSchema(t, "simulator", sim.SchemaJSON())

	tests := []struct {
		name    string
		schema  *pubsub.Schema
		entries []string
		want    []string
	}{
		// The real schema lists RecordTypeId and person account fields:
		// Name 1, Type 2, BillingAddress 5 (City is its component 1),
		// Fax 8, LastModifiedDate 23, CustomerPriority__c 60.
		{"real: type and city with parent bit", real, []string{"0x24", "5-0x02"}, []string{"Type", "BillingAddress.City"}},
		{"real: type and city without parent bit", real, []string{"0x04", "5-0x02"}, []string{"Type", "BillingAddress.City"}},
		{"real: whole address bit", real, []string{"0x20"}, []string{"BillingAddress"}},
		{"real: fax and last modified", real, []string{"0x800100"}, []string{"Fax", "LastModifiedDate"}},
		{"real: person name components", real, []string{"0x02", "1-0x06"}, []string{"Name.FirstName", "Name.LastName"}},
		{"real: shipping and billing components", real, []string{"0x60", "6-0x01", "5-0x18"}, []string{"BillingAddress.PostalCode", "BillingAddress.Country", "ShippingAddress.Street"}},
		{"real: custom field", real, []string{"0x1000000000000000"}, []string{"CustomerPriority__c"}},
		{"real: lower-case hex", real, []string{"0x0c"}, []string{"Type", "RecordTypeId"}},
		{"real: odd number of digits", real, []string{"0x4"}, []string{"Type"}},
		{"real: empty", real, []string{}, []string{}},
		{"minimal: type and city", minimal, []string{"0x0C", "3-0x02"}, []string{"Type", "BillingAddress.City"}},
		{"minimal: SAP id", minimal, []string{"0x10"}, []string{"SAP_ID__c"}},
		// Salesforce's documented example for an org without record types.
		{"simulator: fax and last modified", simulated, []string{"0x400080"}, []string{"Fax", "LastModifiedDate"}},
		{"simulator: billing city", simulated, []string{"0x400010", "4-0x02"}, []string{"BillingAddress.City", "LastModifiedDate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.schema.DecodeBitmap(tt.entries)
			if err != nil {
				t.Fatalf("DecodeBitmap(%q) error: %v", tt.entries, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecodeBitmap(%q) (-want +got):\n%s", tt.entries, diff)
			}
		})
	}
}

func TestDecodeBitmapErrors(t *testing.T) {
	t.Parallel()
	real := parseSchema(t, "real", string(fixtures.Read(t, "fixtures/salesforce/AccountChangeEvent.avsc")))
	tests := []struct {
		name    string
		entries []string
	}{
		{"field name instead of bitmap", []string{"Type"}},
		{"no digits", []string{"0x"}},
		{"not hex", []string{"0xZZ"}},
		{"bit past the last field", []string{"0x800000000000000000000000"}},
		{"nested index not a number", []string{"x-0x01"}},
		{"nested index past the last field", []string{"99-0x01"}},
		// Salesforce's documented example comes from an org whose field 4
		// is an address; in the real schema field 4 is ParentId.
		{"nested bitmap of a plain field", []string{"0x650004E0", "4-0x10", "7-0x06"}},
		{"component past the last one", []string{"5-0x0400"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, err := real.DecodeBitmap(tt.entries); err == nil {
				t.Fatalf("DecodeBitmap(%q) = %q, want an error", tt.entries, got)
			}
		})
	}
}
