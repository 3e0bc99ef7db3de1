package mapping_test

import (
	"errors"
	"fmt"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/mapping"
)

func ExamplePack_Map() {
	p := mapping.Default()
	c, err := p.Map(account.Account{
		ID:            "001Dp00000ABCdeIAH",
		Name:          "GenePoint",
		BillingStreet: "345 Shoreline Park\nMountain View, CA 94043\nUSA",
		Phone:         "(650) 867-3450",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Names, c.Street, c.PostalCode, c.City, c.Region, c.Country, c.Phone)
	// Output: [GenePoint] 345 Shoreline Park 94043 Mountain View CA US 650 867-3450
}

func ExamplePack_Map_problems() {
	p := mapping.Default()
	_, err := p.Map(account.Account{
		ID:           "001Dp00000ABCdeIAH",
		Name:         "Atlantis Trading",
		BillingCity:  "Poseidonia",
		BillingState: "Atlantis",
	})

	var problems *mapping.Problems
	if errors.As(err, &problems) {
		fmt.Println(problems.Fields())
		fmt.Println(err)
	}
	// Output:
	// [BillingCountry]
	// Billing Country is empty: enter a country such as DE or United States, because SAP needs one and sfsap never guesses it
}

func ExamplePack_Country() {
	p := mapping.Default()
	for _, s := range []string{"U.K.", "Deutschland", " us ", "Atlantis"} {
		code, ok := p.Country(s)
		fmt.Printf("%q %q %v\n", s, code, ok)
	}
	// Output:
	// "U.K." "GB" true
	// "Deutschland" "DE" true
	// " us " "US" true
	// "Atlantis" "" false
}

func ExamplePack_Region() {
	p := mapping.Default()
	region, _ := p.Region("DE", "Bavaria")
	fmt.Println(region)

	_, err := p.Region("DE", "Atlantis")
	fmt.Println(err)
	// Output:
	// 09
	// Billing State "Atlantis" is not a region of Germany (DE): use a German state name such as Bavaria or its code BY
}
