package mapping

import "fmt"

// Region returns the SAP region code (REGIO) for a state or province in a
// country. The lookup key is the pair, because region codes are unique only
// within a country. country may be anything [Pack.Country] accepts. state
// may be a code or a name from the country's region table, compared as
// Country compares names.
//
// An empty state returns "" and no error unless the country requires a
// region. The error is a *[Problem] wrapping ErrMissing (country or
// required region empty), ErrUnknownCountry, ErrUnknownRegion (the state is
// not in the table) or ErrNoRegionTable (the pack has no table for the
// country, so the state cannot be sent).
func (p *Pack) Region(country, state string) (string, error) {
	code, problem := p.resolveCountry(FieldBillingCountry, country)
	if problem != nil {
		return "", problem
	}
	return p.region(code, FieldBillingState, state)
}

// region looks state up in the table of an already resolved country code.
// field names the Account field the state came from, for the problem.
func (p *Pack) region(country, field, state string) (string, error) {
	state = collapseSpace(state)
	info := p.countries[country]
	table := p.regions[country]
	label := fieldLabels[field]

	if state == "" {
		if info != nil && info.regionRequired {
			return "", &Problem{
				Field: field,
				Message: fmt.Sprintf("%s is empty but SAP needs a region for %s: enter %s",
					label, p.countryLabel(country), table.hintOrDefault(p.CountryName(country))),
				Err: ErrMissing,
			}
		}
		return "", nil
	}

	if table == nil {
		return "", &Problem{
			Field: field,
			Value: state,
			Message: fmt.Sprintf("%s %q cannot be sent to SAP because sfsap has no region table for %s",
				label, state, p.countryLabel(country)),
			Err: ErrNoRegionTable,
		}
	}
	if region, ok := table.keys[lookupKey(state)]; ok {
		return region, nil
	}
	return "", &Problem{
		Field: field,
		Value: state,
		Message: fmt.Sprintf("%s %q is not a region of %s: use %s",
			label, state, p.countryLabel(country), table.hintOrDefault(p.CountryName(country))),
		Err: ErrUnknownRegion,
	}
}

// hintOrDefault completes "use ..." or "enter ..." in messages about a
// region. It works on a nil table.
func (t *regionTable) hintOrDefault(countryName string) string {
	if t != nil && t.hint != "" {
		return t.hint
	}
	return "a region name or code of " + countryName
}
