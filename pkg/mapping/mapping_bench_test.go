package mapping

import (
	"errors"
	"testing"

	"github.com/sfsap/sfsap/pkg/account"
)

// BenchmarkMapInvalid maps Accounts that fail validation, so Map collects
// every problem and builds the error a sales rep reads.
func BenchmarkMapInvalid(b *testing.B) {
	p := Default()
	accounts := []account.Account{
		{
			ID:                testID(b, 20),
			Name:              "Rheinland Kunststofftechnik AG",
			BillingStreet:     "Industriering 44",
			BillingCity:       "Köln",
			BillingState:      "NRW",
			BillingPostalCode: "5067",
			BillingCountry:    "Germany",
		},
		{
			ID:             testID(b, 21),
			Name:           "Blue Lagoon Traders",
			BillingStreet:  "12 Harbour Walk",
			BillingCity:    "Port Vila",
			BillingCountry: "Atlantis",
			Phone:          "call the office",
		},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, err := p.Map(accounts[i%len(accounts)])
		var problems *Problems
		if !errors.As(err, &problems) {
			b.Fatalf("Map(%s) error = %v, want *Problems", accounts[i%len(accounts)].Name, err)
		}
	}
}
