package sfclient

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// APIError is an error response from Salesforce: an element of a REST error
// array, an OAuth error or a SOAP fault.
type APIError struct {
	// Status is the HTTP status. It is 0 for the error of one record in a
	// composite request, whose HTTP status was 200.
	Status int
	// ErrorCode is the Salesforce code, such as UNABLE_TO_LOCK_ROW, the
	// OAuth error, such as invalid_grant, or the SOAP exception code
	// without its sf: prefix, such as INVALID_LOGIN. It is empty when the
	// body carried no code.
	ErrorCode string
	Message   string
	// Fields names the fields the error is about. Often empty.
	Fields []string
	// More contains the further errors of the same response, in order.
	More []APIError
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("salesforce:")
	if e.Status != 0 {
		fmt.Fprintf(&b, " %d", e.Status)
	}
	if e.ErrorCode != "" {
		b.WriteString(" " + e.ErrorCode)
	}
	b.WriteString(": " + e.Message)
	if len(e.Fields) > 0 {
		b.WriteString(" (fields " + strings.Join(e.Fields, ", ") + ")")
	}
	for _, m := range e.More {
		fmt.Fprintf(&b, "; %s: %s", m.ErrorCode, m.Message)
	}
	return b.String()
}

// restError is one element of a REST error array. Composite results use
// statusCode where other resources use errorCode.
type restError struct {
	Message    string   `json:"message"`
	ErrorCode  string   `json:"errorCode"`
	StatusCode string   `json:"statusCode"`
	Fields     []string `json:"fields"`
}

func (r restError) apiError(status int) APIError {
	code := r.ErrorCode
	if code == "" {
		code = r.StatusCode
	}
	return APIError{Status: status, ErrorCode: code, Message: r.Message, Fields: r.Fields}
}

// oauthError is the error body of the OAuth endpoints.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// soapFault is a SOAP 1.1 fault, matched by local element names.
type soapFault struct {
	Code   string `xml:"Body>Fault>faultcode"`
	String string `xml:"Body>Fault>faultstring"`
}

// ParseError turns the body of a failed Salesforce response into an
// *APIError. It accepts REST error arrays (including an empty one),
// OAuth {"error": ...} objects and SOAP faults. Any other body becomes the
// message, cut to 200 bytes.
func ParseError(status int, body []byte) *APIError {
	trimmed := strings.TrimSpace(string(body))
	switch {
	case strings.HasPrefix(trimmed, "["):
		var list []restError
		if err := json.Unmarshal(body, &list); err == nil {
			return fromList(status, list)
		}
	case strings.HasPrefix(trimmed, "{"):
		var o oauthError
		if err := json.Unmarshal(body, &o); err == nil && o.Error != "" {
			return &APIError{Status: status, ErrorCode: o.Error, Message: o.Description}
		}
		var single restError
		if err := json.Unmarshal(body, &single); err == nil && (single.ErrorCode != "" || single.StatusCode != "") {
			e := single.apiError(status)
			return &e
		}
	case strings.HasPrefix(trimmed, "<"):
		var f soapFault
		if err := xml.Unmarshal(body, &f); err == nil && f.Code != "" {
			return &APIError{Status: status, ErrorCode: soapCode(f.Code), Message: f.String}
		}
	}
	return &APIError{Status: status, Message: describeBody(status, trimmed)}
}

func fromList(status int, list []restError) *APIError {
	if len(list) == 0 {
		return &APIError{Status: status, Message: describeBody(status, "")}
	}
	e := list[0].apiError(status)
	for _, more := range list[1:] {
		e.More = append(e.More, more.apiError(status))
	}
	return &e
}

// soapCode strips the namespace prefix of a faultcode such as
// sf:INVALID_LOGIN.
func soapCode(code string) string {
	if _, local, ok := strings.Cut(code, ":"); ok {
		return local
	}
	return code
}

func describeBody(status int, body string) string {
	if body == "" {
		return http.StatusText(status) + " (no error details in the response)"
	}
	if len(body) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(body[cut]) {
			cut--
		}
		body = body[:cut] + "..."
	}
	return body
}

// IsLockError reports whether err is UNABLE_TO_LOCK_ROW: another
// transaction held the record, and a retry after a pause may succeed.
func IsLockError(err error) bool { return hasCode(err, "UNABLE_TO_LOCK_ROW") }

// IsSessionError reports whether err is an invalid or expired session
// (INVALID_SESSION_ID, or a 401 without a code).
func IsSessionError(err error) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	return e.ErrorCode == "INVALID_SESSION_ID" || e.Status == http.StatusUnauthorized && e.ErrorCode == ""
}

// IsLimitError reports whether err is REQUEST_LIMIT_EXCEEDED: the org's
// API request limit is used up.
func IsLimitError(err error) bool { return hasCode(err, "REQUEST_LIMIT_EXCEEDED") }

// IsNotFound reports whether err is the error for a record that does not
// exist or was deleted (NOT_FOUND, ENTITY_IS_DELETED, or a 404 without a code).
func IsNotFound(err error) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	return e.ErrorCode == "NOT_FOUND" || e.ErrorCode == "ENTITY_IS_DELETED" ||
		e.Status == http.StatusNotFound && e.ErrorCode == ""
}

func hasCode(err error, code string) bool {
	var e *APIError
	return errors.As(err, &e) && e.ErrorCode == code
}

// transientCodes may succeed when the same request is sent again later.
// Session and OAuth errors are here too: they come from credentials or the
// org's state, not from the record.
var transientCodes = []string{
	"UNABLE_TO_LOCK_ROW", "REQUEST_LIMIT_EXCEEDED", "INVALID_SESSION_ID", "SERVER_UNAVAILABLE",
	"UNKNOWN_EXCEPTION", "QUERY_TIMEOUT", "ALL_OR_NONE_OPERATION_ROLLED_BACK",
	"API_CURRENTLY_DISABLED", "INVALID_LOGIN",
	"invalid_grant", "invalid_client_id", "invalid_client", "unsupported_grant_type",
}

// permanentCodes fail the same way until someone changes the record, the
// request or the org's rules.
var permanentCodes = []string{
	"FIELD_CUSTOM_VALIDATION_EXCEPTION", "ENTITY_IS_DELETED", "MALFORMED_ID", "INVALID_FIELD",
	"INVALID_FIELD_FOR_INSERT_UPDATE", "REQUIRED_FIELD_MISSING", "DUPLICATE_VALUE",
	"DUPLICATES_DETECTED", "STRING_TOO_LONG", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
	"NOT_FOUND", "INVALID_CROSS_REFERENCE_KEY", "FIELD_INTEGRITY_EXCEPTION",
	"INSUFFICIENT_ACCESS_OR_READONLY", "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
	"INVALID_TYPE", "MALFORMED_QUERY", "JSON_PARSER_ERROR", "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
}

// Permanent reports whether retrying the request cannot help because of
// the record or the request itself, such as a validation rule, a deleted
// record or an unknown field. Lock errors, limits, session and login
// errors, 5xx responses, timeouts and network failures are not permanent.
// An unknown code counts as permanent on a 4xx response (and on a record of
// a composite request), and as transient otherwise.
func Permanent(err error) bool {
	if err == nil {
		return false
	}
	var e *APIError
	if !errors.As(err, &e) {
		// Network failures, timeouts and cancellations carry no response
		// from Salesforce, so the same request may still succeed.
		return false
	}
	switch {
	case slices.Contains(transientCodes, e.ErrorCode):
		return false
	case slices.Contains(permanentCodes, e.ErrorCode):
		return true
	case e.Status == http.StatusUnauthorized, e.Status == http.StatusRequestTimeout, e.Status == http.StatusTooManyRequests:
		return false
	case e.Status == 0:
		return e.ErrorCode != ""
	}
	return e.Status >= 400 && e.Status < 500
}
