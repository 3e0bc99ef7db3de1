package mapping

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitStreet(t *testing.T) {
	t.Parallel()
	p := Default()

	tests := []struct {
		name    string
		raw     string
		country string
		want    pastedAddress
	}{
		{
			name: "single line",
			raw:  "525 S. Lexington Ave",
			want: pastedAddress{street: "525 S. Lexington Ave"},
		},
		{
			name: "us city state zip and country",
			raw:  "345 Shoreline Park\nMountain View, CA 94043\nUSA",
			want: pastedAddress{
				street: "345 Shoreline Park", city: "Mountain View", state: "CA", postalCode: "94043", country: "US",
				localityLine: "Mountain View, CA 94043", countryLine: "USA",
			},
		},
		{
			name:    "account country decides the postal rule",
			raw:     "312 Constitution Place\r\nAustin, TX 78767",
			country: "US",
			want: pastedAddress{
				street: "312 Constitution Place", city: "Austin", state: "TX", postalCode: "78767",
				localityLine: "Austin, TX 78767",
			},
		},
		{
			name: "gb county and postcode",
			raw:  "Kings Park, 17th Avenue, Team Valley Trading Estate,\nGateshead, Tyne and Wear NE26 3HS\nUnited Kingdom",
			want: pastedAddress{
				street: "Kings Park, 17th Avenue, Team Valley Trading Estate", city: "Gateshead", state: "Tyne and Wear",
				postalCode: "NE26 3HS", country: "GB",
				localityLine: "Gateshead, Tyne and Wear NE26 3HS", countryLine: "United Kingdom",
			},
		},
		{
			name: "country at the end of the locality line",
			raw:  "2334 N. Michigan Avenue, Suite 1500\nChicago, IL 60601, USA",
			want: pastedAddress{
				street: "2334 N. Michigan Avenue, Suite 1500", city: "Chicago", state: "IL", postalCode: "60601", country: "US",
				localityLine: "Chicago, IL 60601, USA", countryLine: "Chicago, IL 60601, USA",
			},
		},
		{
			name: "two street lines and blank lines",
			raw:  "888 N Euclid \nHallis Center, Room 501\n\nTucson, AZ 85721\n\nUnited States\n",
			want: pastedAddress{
				street: "888 N Euclid, Hallis Center, Room 501", city: "Tucson", state: "AZ", postalCode: "85721", country: "US",
				localityLine: "Tucson, AZ 85721", countryLine: "United States",
			},
		},
		{
			name: "state name without comma",
			raw:  "620 SW 5th Avenue Suite 400\nPortland Oregon 97204\nUnited States",
			want: pastedAddress{
				street: "620 SW 5th Avenue Suite 400", city: "Portland", state: "Oregon", postalCode: "97204", country: "US",
				localityLine: "Portland Oregon 97204", countryLine: "United States",
			},
		},
		{
			name: "city of several words and state code",
			raw:  "1 Main St\nSalt Lake City UT 84101-1234\nUSA",
			want: pastedAddress{
				street: "1 Main St", city: "Salt Lake City", state: "UT", postalCode: "84101-1234", country: "US",
				localityLine: "Salt Lake City UT 84101-1234", countryLine: "USA",
			},
		},
		{
			name: "german postcode first",
			raw:  "Leopoldstraße 244\n80807 München\nDeutschland",
			want: pastedAddress{
				street: "Leopoldstraße 244", city: "München", postalCode: "80807", country: "DE",
				localityLine: "80807 München", countryLine: "Deutschland",
			},
		},
		{
			name: "dutch postcode of two tokens",
			raw:  "Damrak 1\n1012 LG Amsterdam\nNederland",
			want: pastedAddress{
				street: "Damrak 1", city: "Amsterdam", postalCode: "1012 LG", country: "NL",
				localityLine: "1012 LG Amsterdam", countryLine: "Nederland",
			},
		},
		{
			name: "singapore city and state",
			raw:  "9 Tagore Lane\nSingapore, Singapore 787472\nSingapore",
			want: pastedAddress{
				street: "9 Tagore Lane", city: "Singapore", state: "Singapore", postalCode: "787472", country: "SG",
				localityLine: "Singapore, Singapore 787472", countryLine: "Singapore",
			},
		},
		{
			name:    "city and state without postal code",
			raw:     "345 Shoreline Park\nMountain View, CA",
			country: "US",
			want: pastedAddress{
				street: "345 Shoreline Park", city: "Mountain View", state: "CA",
				localityLine: "Mountain View, CA",
			},
		},
		{
			name:    "suite line stays in the street",
			raw:     "1301 Avenue of the Americas\nSuite 200",
			country: "US",
			want:    pastedAddress{street: "1301 Avenue of the Americas, Suite 200"},
		},
		{
			name: "suite line without a country stays in the street",
			raw:  "1301 Avenue of the Americas\nSuite 200",
			want: pastedAddress{street: "1301 Avenue of the Americas, Suite 200"},
		},
		{
			name:    "street with a five-digit number stays in the street",
			raw:     "Attn. Purchasing\n12345 Main Street",
			country: "US",
			want:    pastedAddress{street: "Attn. Purchasing, 12345 Main Street"},
		},
		{
			name:    "german street line stays in the street",
			raw:     "Gebäude 4\n80331 Leopoldstr.",
			country: "DE",
			want:    pastedAddress{street: "Gebäude 4, 80331 Leopoldstr."},
		},
		{
			name: "country line only",
			raw:  "2 Place Jussieu\nFrance",
			want: pastedAddress{street: "2 Place Jussieu", country: "FR", countryLine: "France"},
		},
		{
			name:    "postal code breaking the country rule stays in the street",
			raw:     "Main Road 5\nSpringfield, IL 627",
			country: "US",
			want:    pastedAddress{street: "Main Road 5, Springfield, IL 627"},
		},
		{
			name: "empty",
			raw:  " \n \n",
			want: pastedAddress{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := p.splitStreet(tt.raw, tt.country)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(pastedAddress{})); diff != "" {
				t.Errorf("splitStreet(%q, %q) mismatch (-want +got):\n%s", tt.raw, tt.country, diff)
			}
		})
	}
}
