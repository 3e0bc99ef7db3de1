// Package account defines the Salesforce Account fields that sfsap uses,
// and the names of the Salesforce fields that sfsap reads and writes.
package account

import "time"

// Account is a snapshot of the Account fields sfsap uses, read from the
// current record in Salesforce. Custom fields are kept under fixed Go
// names, and [Fields] maps them to the org's Salesforce API names.
type Account struct {
	ID                  string    `json:"id"`
	Name                string    `json:"name"`
	Type                string    `json:"type,omitempty"`
	SAPID               string    `json:"sap_id,omitempty"`
	BillingStreet       string    `json:"billing_street,omitempty"`
	BillingCity         string    `json:"billing_city,omitempty"`
	BillingState        string    `json:"billing_state,omitempty"`
	BillingStateCode    string    `json:"billing_state_code,omitempty"`
	BillingPostalCode   string    `json:"billing_postal_code,omitempty"`
	BillingCountry      string    `json:"billing_country,omitempty"`
	BillingCountryCode  string    `json:"billing_country_code,omitempty"`
	Phone               string    `json:"phone,omitempty"`
	Fax                 string    `json:"fax,omitempty"`
	Website             string    `json:"website,omitempty"`
	Language            string    `json:"language,omitempty"`
	Currency            string    `json:"currency,omitempty"`
	CompanyCode         string    `json:"company_code,omitempty"`
	SalesOrg            string    `json:"sales_org,omitempty"`
	DistributionChannel string    `json:"distribution_channel,omitempty"`
	Division            string    `json:"division,omitempty"`
	LastModifiedBy      string    `json:"last_modified_by,omitempty"`
	SystemModstamp      time.Time `json:"system_modstamp,omitzero"`
}

// Fields maps sfsap's account attributes to Salesforce field API names.
// Standard fields are fixed by Salesforce; the custom ones differ per org.
type Fields struct {
	// SAPID holds the SAP customer number. Defaults to SAP_ID__c.
	SAPID string `yaml:"sap_id"`
	// SyncStatus holds sfsap's sync status (Synced, Failed, Pending).
	// Defaults to SAP_Sync_Status__c.
	SyncStatus string `yaml:"sync_status"`
	// SyncError holds the reason of the last failure, readable by a sales
	// rep. Defaults to SAP_Sync_Error__c.
	SyncError string `yaml:"sync_error"`
	// SyncAttempts holds the number of SAP create attempts of the last
	// sync (a Number field). Defaults to SAP_Sync_Attempts__c.
	SyncAttempts string `yaml:"sync_attempts"`
	// LastSync holds the time sfsap last wrote a sync outcome (a DateTime
	// field). Defaults to SAP_Last_Sync__c.
	LastSync string `yaml:"last_sync"`
	// CorrelationID holds the id that ties the sync's messages, ledger
	// entry and audit trail together, so support can trace it. Defaults to
	// SAP_Correlation_Id__c.
	CorrelationID string `yaml:"correlation_id"`
	// CompanyCode, SalesOrg, DistributionChannel and Division hold the SAP
	// organisational data for the customer. Empty means the mapping's
	// default applies. Default to SAP_Company_Code__c, SAP_Sales_Org__c,
	// SAP_Distribution_Channel__c and SAP_Division__c.
	CompanyCode         string `yaml:"company_code"`
	SalesOrg            string `yaml:"sales_org"`
	DistributionChannel string `yaml:"distribution_channel"`
	Division            string `yaml:"division"`
	// Language holds the customer's correspondence language as an ISO 639-1
	// code. Empty means the mapping's default. Defaults to empty (no field).
	Language string `yaml:"language"`
}

// DefaultFields returns the field names sfsap uses when none are configured.
func DefaultFields() Fields {
	return Fields{
		SAPID:               "SAP_ID__c",
		SyncStatus:          "SAP_Sync_Status__c",
		SyncError:           "SAP_Sync_Error__c",
		SyncAttempts:        "SAP_Sync_Attempts__c",
		LastSync:            "SAP_Last_Sync__c",
		CorrelationID:       "SAP_Correlation_Id__c",
		CompanyCode:         "SAP_Company_Code__c",
		SalesOrg:            "SAP_Sales_Org__c",
		DistributionChannel: "SAP_Distribution_Channel__c",
		Division:            "SAP_Division__c",
	}
}

// Disabled is the field name that turns off an optional sync field
// (SyncAttempts, LastSync or CorrelationID) for orgs that lack it.
const Disabled = "-"

// WithDefaults returns f with every empty name replaced by its default,
// except Language, which has no default field.
func (f Fields) WithDefaults() Fields {
	d := DefaultFields()
	set := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
	}
	set(&f.SAPID, d.SAPID)
	set(&f.SyncStatus, d.SyncStatus)
	set(&f.SyncError, d.SyncError)
	set(&f.SyncAttempts, d.SyncAttempts)
	set(&f.LastSync, d.LastSync)
	set(&f.CorrelationID, d.CorrelationID)
	set(&f.CompanyCode, d.CompanyCode)
	set(&f.SalesOrg, d.SalesOrg)
	set(&f.DistributionChannel, d.DistributionChannel)
	set(&f.Division, d.Division)
	return f
}

// Custom returns the custom field names in use: every set name except
// Disabled ones, in declaration order.
func (f Fields) Custom() []string {
	var out []string
	for _, name := range []string{
		f.SAPID, f.SyncStatus, f.SyncError, f.SyncAttempts, f.LastSync, f.CorrelationID,
		f.CompanyCode, f.SalesOrg, f.DistributionChannel, f.Division, f.Language,
	} {
		if name != "" && name != Disabled {
			out = append(out, name)
		}
	}
	return out
}

// Enabled reports whether an optional field name is set and not Disabled.
func Enabled(name string) bool { return name != "" && name != Disabled }

// Sync statuses written to the status field.
const (
	StatusSynced  = "Synced"
	StatusFailed  = "Failed"
	StatusPending = "Pending"
)

// DefaultCustomerTypes are the Type values that mark an Account as a
// customer unless configured otherwise. The standard picklist has the two
// "Customer - " values; many orgs add plain "Customer".
var DefaultCustomerTypes = []string{"Customer", "Customer - Direct", "Customer - Channel"}

// DefaultProspectTypes are the Type values a conversion may start from.
// An Account whose previous Type is unknown also counts as a prospect.
var DefaultProspectTypes = []string{"Prospect", ""}
