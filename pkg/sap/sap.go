// Package sap defines the SAP customer that sfsap creates and the adapter
// interface that each SAP access path implements.
package sap

import (
	"context"
	"strings"
)

// Customer is the SAP customer master data sfsap sends, already mapped
// and validated. Country is an ISO 3166-1 alpha-2 code and Language an
// ISO 639-1 code; adapters convert them to what their API expects.
type Customer struct {
	// Names holds NAME1..NAME4, each at most 35 characters.
	Names      []string `json:"names"`
	Street     string   `json:"street,omitempty"`
	HouseNo    string   `json:"house_no,omitempty"`
	PostalCode string   `json:"postal_code,omitempty"`
	City       string   `json:"city"`
	Country    string   `json:"country"`
	Region     string   `json:"region,omitempty"`
	Language   string   `json:"language"`
	Phone      string   `json:"phone,omitempty"`
	Fax        string   `json:"fax,omitempty"`
	Email      string   `json:"email,omitempty"`
	Currency   string   `json:"currency,omitempty"`

	CompanyCode         string `json:"company_code,omitempty"`
	SalesOrg            string `json:"sales_org"`
	DistributionChannel string `json:"distribution_channel"`
	Division            string `json:"division"`
	ReferenceCustomer   string `json:"reference_customer"`

	// ExternalRef is the 18-character Salesforce Account id, stored in SAP
	// so that the customer can be found again before any create.
	ExternalRef string `json:"external_ref"`
}

// Message is one SAP message, as in a BAPI RETURN structure or an OData
// error detail.
type Message struct {
	Type    string `json:"type"` // S, E, W, I or A
	ID      string `json:"id,omitempty"`
	Number  string `json:"number,omitempty"`
	Message string `json:"message"`
}

// String formats the message as SAP shows it: "E F2 156: text".
func (m Message) String() string {
	var b strings.Builder
	b.WriteString(m.Type)
	if m.ID != "" {
		b.WriteString(" " + m.ID)
	}
	if m.Number != "" {
		b.WriteString(" " + m.Number)
	}
	b.WriteString(": " + m.Message)
	return b.String()
}

// CreateResult is the outcome of a successful create.
type CreateResult struct {
	CustomerNo string    `json:"customer_no"`
	Messages   []Message `json:"messages,omitempty"`
}

// Adapter creates and finds customers in one SAP system.
type Adapter interface {
	// FindByExternalRef returns the number of the customer whose external
	// reference is ref, and found=false when there is none.
	FindByExternalRef(ctx context.Context, ref string) (customerNo string, found bool, err error)
	// Create creates the customer and commits it. It returns an *Error
	// whose Kind decides whether the caller retries, gives up, or looks the
	// customer up because the outcome is unknown.
	Create(ctx context.Context, c Customer) (CreateResult, error)
}

// NormalizeCustomerNo returns the internal form of an SAP customer number:
// numeric numbers right-aligned to 10 digits with leading zeros, others
// trimmed, as the ALPHA conversion stores them.
func NormalizeCustomerNo(no string) string {
	no = strings.TrimSpace(no)
	if no == "" || len(no) > 10 {
		return no
	}
	for _, c := range no {
		if c < '0' || c > '9' {
			return no
		}
	}
	return strings.Repeat("0", 10-len(no)) + no
}
