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

// redact returns err with the text that loggable gives it. The result
// wraps err, so errors.Is and errors.As still find the cause. The consumer
// loop puts a terminated message's error into the JetStream advisory and
// the handler's span, which are as public as logs.
func redact(err error) error {
	if text, ok := loggable(err).(string); ok {
		return &redactedError{text: text, err: err}
	}
	return err
}

type redactedError struct {
	text string
	err  error
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }
