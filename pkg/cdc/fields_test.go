package cdc_test

import (
	"testing"

	"github.com/sfsap/sfsap/pkg/cdc"
	"github.com/sfsap/sfsap/pkg/sfsim"
)

func TestFlatField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"BillingAddress.City", "BillingCity"},
		{"BillingAddress.Street", "BillingStreet"},
		{"BillingAddress.StateCode", "BillingStateCode"},
		{"BillingAddress.GeocodeAccuracy", "BillingGeocodeAccuracy"},
		{"ShippingAddress.PostalCode", "ShippingPostalCode"},
		{"PersonMailingAddress.Country", "PersonMailingCountry"},
		{"Name.FirstName", "FirstName"},
		{"Location__c.Latitude", "Location__Latitude__s"},
		{"Type", "Type"},
		{"SAP_ID__c", "SAP_ID__c"},
		{"Other.Part", "Other.Part"},
		{"BillingAddress.", "BillingAddress."},
	}
	for _, tt := range tests {
		if got := cdc.FlatField(tt.in); got != tt.want {
			t.Errorf("FlatField(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestFlatFieldInvertsSimulator checks FlatField against the simulator's
// mapping from object fields to event field names.
func TestFlatFieldInvertsSimulator(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"Billing", "Shipping"} {
		for _, part := range []string{"Street", "City", "State", "PostalCode", "Country", "StateCode", "CountryCode"} {
			field := prefix + part
			event := sfsim.EventFieldName(field)
			if event == field {
				t.Errorf("sfsim.EventFieldName(%q) = %q, want a compound name", field, event)
			}
			if got := cdc.FlatField(event); got != field {
				t.Errorf("FlatField(%q) = %q, want %q", event, got, field)
			}
		}
	}
}
