// Package mapping turns a Salesforce Account into the SAP customer that
// sfsap creates, and lists in a sales rep's words everything that stops it.
//
// The rules come from a mapping pack: YAML files with country aliases,
// region tables, postal code rules, language and currency defaults per
// country, and the SAP organisational defaults. The built-in files in
// defaults/ are embedded in the binary; [Load] merges site files over them
// so that a team can match its SAP system without a rebuild. A site file
// contains only what it changes, for example
//
//	regions:
//	  DE:
//	    version: PRD client 100
//	    codes:
//	      "09": [Freistaat Bayern]
//	organization:
//	  sales_org: "2000"
//	  company_code: "2000"
//
// [Pack.Map] never guesses a country: an empty or unknown country is a
// problem like any other, returned with all the others in one [Problems]
// error, which callers treat as permanent.
package mapping
