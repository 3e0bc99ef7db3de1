package sapworker

import (
	"errors"
	"strings"

	"github.com/sfsap/sfsap/pkg/mapping"
)

// loggable returns err in a form fit for logs. Mapping problems quote the
// Account's values for the sales rep, such as a postal code or a name, so
// logs get only the names of the fields at fault.
func loggable(err error) any {
	var list *mapping.Problems
	if errors.As(err, &list) {
		return "the account breaks SAP's rules in fields: " + strings.Join(list.Fields(), ", ")
	}
	var one *mapping.Problem
	if errors.As(err, &one) {
		return "the account breaks SAP's rules in field: " + one.Field
	}
	return err
}
