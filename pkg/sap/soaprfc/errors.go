package soaprfc

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sfsap/sfsap/pkg/sap"
)

var (
	// ErrInvalidOption is wrapped by the errors that New returns for a bad
	// option value or base URL.
	ErrInvalidOption = errors.New("invalid option")
	// ErrUnauthorized is wrapped in the *sap.Error of a call that SAP
	// rejected with HTTP 401 because the logon failed.
	ErrUnauthorized = errors.New("SAP logon failed")
	// ErrForbidden is wrapped in the *sap.Error of a call that SAP rejected
	// with HTTP 403 because the user may not call the handler or the
	// function.
	ErrForbidden = errors.New("SAP denied access")
	// ErrSessionClosed is returned by calls on a session after its close
	// function ran.
	ErrSessionClosed = errors.New("SAP session closed")
	// ErrInvalidResponse is wrapped in the *sap.Error of a call whose
	// response is not a SOAP envelope with a response or fault body.
	ErrInvalidResponse = errors.New("invalid SOAP-RFC response")
)

// Fault is a SOAP 1.1 fault returned by the SOAP-RFC handler, normally
// with HTTP 500. It arrives wrapped in a *sap.Error, so use errors.As to
// get it.
type Fault struct {
	// FaultCode is the faultcode as sent, such as "SOAP-ENV:Server".
	FaultCode string
	// FaultString is the human-readable reason, in the logon language.
	FaultString string
	// FaultActor is the faultactor, often empty.
	FaultActor string
	// Detail is the inner XML of the detail element, empty when absent.
	Detail string
	// Exception is the ABAP exception name that the detail carries, such
	// as FU_NOT_FOUND, and empty when it carries none.
	Exception string
}

func (f *Fault) Error() string {
	var b strings.Builder
	b.WriteString("SOAP fault " + f.FaultCode)
	if f.Exception != "" {
		b.WriteString(" (" + f.Exception + ")")
	}
	b.WriteString(": " + f.FaultString)
	return b.String()
}

// IsClient reports whether the faultcode blames the request, which means
// sending it again fails the same way.
func (f *Fault) IsClient() bool {
	code := f.FaultCode
	if i := strings.LastIndexByte(code, ':'); i >= 0 {
		code = code[i+1:]
	}
	return code == "Client" || strings.HasPrefix(code, "Client.")
}

// faultError wraps f in a *sap.Error. A client fault is permanent. A
// server fault is an ABAP exception or a system error inside SAP, which
// rolls back the work of the call, so it is transient.
func faultError(fm string, status int, f *Fault) error {
	kind := sap.Transient
	if f.IsClient() {
		kind = sap.Permanent
	}
	return &sap.Error{Kind: kind, Op: fm, HTTPStatus: status, Err: f}
}

// statusError returns the *sap.Error for an HTTP status other than 200 that
// came without a SOAP fault. snippet is the start of the response body.
func statusError(fm string, status int, snippet string) error {
	e := &sap.Error{Op: fm, HTTPStatus: status}
	switch {
	case status == http.StatusUnauthorized:
		e.Kind = sap.Permanent
		e.Err = fmt.Errorf("%w: check the user, the password and the sap-client", ErrUnauthorized)
	case status == http.StatusForbidden:
		e.Kind = sap.Permanent
		e.Err = fmt.Errorf("%w: check that the user has authorization S_RFC for %s", ErrForbidden, fm)
	case status == http.StatusNotFound:
		e.Kind = sap.Permanent
		e.Err = fmt.Errorf("%w: no handler at the URL: check the base URL and that service /sap/bc/soap/rfc is active in SICF", ErrInvalidResponse)
	case status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests:
		// The server did not take the request on, so nothing ran.
		e.Kind = sap.Transient
		e.Err = fmt.Errorf("SAP is unavailable: %s", snippet)
	case status >= 500:
		// A gateway timeout or a server error page may come after the
		// function ran.
		e.Kind = sap.Unknown
		e.Err = fmt.Errorf("%w: server error: %s", ErrInvalidResponse, snippet)
	case status >= 300 && status < 400:
		e.Kind = sap.Permanent
		e.Err = fmt.Errorf("%w: redirect, which is not followed: check the base URL", ErrInvalidResponse)
	default:
		e.Kind = sap.Permanent
		e.Err = fmt.Errorf("%w: unexpected status: %s", ErrInvalidResponse, snippet)
	}
	return e
}
