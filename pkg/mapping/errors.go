package mapping

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// Sentinel errors that a [Problem] wraps, so callers can branch with
// errors.Is on a single problem or on a whole [Problems] list.
var (
	// ErrMissing marks a value that SAP needs but the Account leaves empty.
	ErrMissing = errors.New("value missing")
	// ErrUnknownCountry marks a country that no code or alias matches.
	ErrUnknownCountry = errors.New("unknown country")
	// ErrUnknownRegion marks a state that is not in the country's region
	// table.
	ErrUnknownRegion = errors.New("unknown region")
	// ErrNoRegionTable marks a state given for a country that has no region
	// table. [Pack.Map] leaves such a state out instead of failing.
	ErrNoRegionTable = errors.New("no region table for country")
	// ErrInvalidFormat marks a value whose form SAP rejects, such as a
	// postal code that breaks the country's rule.
	ErrInvalidFormat = errors.New("invalid format")
	// ErrTooLong marks a value longer than its SAP field.
	ErrTooLong = errors.New("value too long")
	// ErrSalesAreaNotAllowed marks organisational data that the pack does
	// not allow, or a sales area without a reference customer.
	ErrSalesAreaNotAllowed = errors.New("sales area not allowed")
	// ErrInvalidPack marks a mapping pack file that cannot be used.
	ErrInvalidPack = errors.New("invalid mapping pack")
)

// Problem is one reason why an Account cannot become an SAP customer. Its
// message is written for the sales rep who has to fix the Account.
type Problem struct {
	// Field is the Account field at fault, one of the Field constants such
	// as FieldBillingCountry.
	Field string
	// Value is the offending input as the Account contains it, or "" when the
	// field is empty.
	Value string
	// Message is a full sentence that names the Salesforce field and
	// explains the fix.
	Message string
	// Err is one of the sentinel errors of this package.
	Err error
}

// Error returns the message for the sales rep.
func (p *Problem) Error() string { return p.Message }

// Unwrap returns the sentinel error.
func (p *Problem) Unwrap() error { return p.Err }

// Problems lists every problem found in one Account. Every problem is
// permanent: retrying cannot help until someone edits the Account in
// Salesforce, so callers dead-letter the work and write Error back.
//
// NOTE: sap.KindOf treats errors that are not *sap.Error as transient, so
// callers must check for *Problems (or [IsPermanent]) before asking
// sap.KindOf.
type Problems struct {
	// AccountID is the Salesforce id of the Account, as given to Map.
	AccountID string
	List      []Problem
}

// Error returns one line per problem.
func (p *Problems) Error() string {
	lines := make([]string, len(p.List))
	for i, pr := range p.List {
		lines[i] = pr.Message
	}
	return strings.Join(lines, "\n")
}

// Fields returns the distinct fields at fault, in the order their first
// problem was found.
func (p *Problems) Fields() []string {
	var fields []string
	seen := make(map[string]bool)
	for _, pr := range p.List {
		if !seen[pr.Field] {
			seen[pr.Field] = true
			fields = append(fields, pr.Field)
		}
	}
	return fields
}

// Unwrap returns each problem, so errors.Is(err, ErrUnknownCountry) reports
// whether any problem in the list is of that kind.
func (p *Problems) Unwrap() []error {
	errs := make([]error, len(p.List))
	for i := range p.List {
		errs[i] = &p.List[i]
	}
	return errs
}

// Permanent returns true, because a retry fails the same way until someone
// edits the Account.
func (p *Problems) Permanent() bool { return true }

// IsPermanent reports whether err contains a mapping [Problems] list or a
// single [Problem], both of which need a fix in Salesforce before a retry.
func IsPermanent(err error) bool {
	var list *Problems
	var one *Problem
	return errors.As(err, &list) || errors.As(err, &one)
}

func (p *Problems) add(field, value, message string, err error) {
	p.List = append(p.List, Problem{Field: field, Value: value, Message: shortenQuoted(message), Err: err})
}

func (p *Problems) addProblem(pr *Problem) {
	pr.Message = shortenQuoted(pr.Message)
	p.List = append(p.List, *pr)
}

// quoteMax is the maximum number of characters of a bad value that a
// message quotes.
const quoteMax = 80

// quoted matches a Go-quoted string in a message.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// shortenQuoted shortens every quoted value in message longer than
// quoteMax characters, so that the fix that follows it survives the length
// limit of the Salesforce error field.
func shortenQuoted(message string) string {
	return quoted.ReplaceAllStringFunc(message, func(q string) string {
		v, err := strconv.Unquote(q)
		if err != nil {
			return q
		}
		r := []rune(v)
		if len(r) <= quoteMax {
			return q
		}
		return strconv.Quote(string(r[:quoteMax-1]) + "…")
	})
}
