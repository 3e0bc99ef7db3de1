package cdc

import "strings"

// FlatField returns the object field name for a field name as change
// events write it. Components of compound fields are written
// "Compound.Component" in events but are separate fields on the object:
//
//   - an address drops "Address" from its name: "BillingAddress.City" is
//     BillingCity, "PersonMailingAddress.Street" is PersonMailingStreet;
//   - a person name uses the component alone: "Name.FirstName" is FirstName;
//   - a custom geolocation gets the "__s" suffix: "Location__c.Latitude" is
//     Location__Latitude__s.
//
// A name without a dot, or with a compound of another kind, is returned
// unchanged.
func FlatField(eventName string) string {
	compound, component, ok := strings.Cut(eventName, ".")
	if !ok || component == "" {
		return eventName
	}
	switch {
	case compound == "Name":
		return component
	case strings.HasSuffix(compound, "Address"):
		return strings.TrimSuffix(compound, "Address") + component
	case strings.HasSuffix(compound, "__c"):
		return strings.TrimSuffix(compound, "__c") + "__" + component + "__s"
	}
	return eventName
}
