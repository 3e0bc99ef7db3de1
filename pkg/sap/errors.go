package sap

import (
	"errors"
	"fmt"
	"strings"
)

// Kind is how a caller should treat a failed SAP call.
type Kind int

const (
	// Transient failures, such as a lock or an unavailable system, may
	// succeed when retried.
	Transient Kind = iota + 1
	// Permanent failures, such as invalid data or a missing reference
	// customer, fail the same way until someone fixes the data.
	Permanent
	// Unknown means the request may or may not have created the customer,
	// as after a timeout. The caller must look the customer up by its
	// external reference before trying again.
	Unknown
)

func (k Kind) String() string {
	switch k {
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is a failed SAP call with the messages SAP returned.
type Error struct {
	Kind Kind
	// Op names the call, such as BAPI_CUSTOMER_CREATEFROMDATA1.
	Op       string
	Messages []Message
	// HTTPStatus is set when the failure came from the HTTP layer.
	HTTPStatus int
	Err        error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("sap: " + e.Op + " failed (" + e.Kind.String() + ")")
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.HTTPStatus)
	}
	for _, m := range e.Messages {
		b.WriteString(": " + m.String())
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Code returns "ID/NUMBER" of the first error message, or "" when SAP sent
// no message.
func (e *Error) Code() string {
	for _, m := range e.Messages {
		if m.Type == "E" || m.Type == "A" {
			return m.ID + "/" + m.Number
		}
	}
	return ""
}

// KindOf returns the Kind of err: the Kind of an *Error, Permanent for an
// error with a Permanent method that reports true (such as mapping
// problems), Transient for others (network failures before a request was
// sent), and 0 for nil.
func KindOf(err error) Kind {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var p interface{ Permanent() bool }
	if errors.As(err, &p) && p.Permanent() {
		return Permanent
	}
	return Transient
}
