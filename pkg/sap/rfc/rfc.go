// Package rfc is the seam between sfsap's SAP adapters and the transport
// that calls RFC-enabled function modules.
//
// A Caller has the shape of gorfc's Connection.Call: a function module
// name and its parameters go in, the export, changing and table
// parameters come out, both as nested maps:
//
//   - a scalar (CHAR, NUMC, DATS, ...) is a string;
//   - a structure is a map[string]any keyed by field name;
//   - a table is a []map[string]any, one map per row.
//
// Names are the ABAP names in upper case, such as PI_COMPANYDATA. The
// package soaprfc implements Caller over SAP's SOAP-RFC HTTP handler. A
// backend on gorfc and the SAP NW RFC SDK can implement the same
// interfaces behind a build tag. It needs cgo and the SDK, so none ships
// here. Such a backend would convert gorfc's typed scalars to the shapes
// above. Its tables ([]interface{} of maps) can stay as they are, because
// the accessors in this package accept them.
package rfc

import (
	"context"
	"fmt"
	"strconv"
)

// Caller calls RFC-enabled function modules.
type Caller interface {
	// Call runs function module fm with params and returns its export,
	// changing and table parameters. Errors that come from the transport
	// are *sap.Error values whose Kind reports whether the call may have
	// run.
	Call(ctx context.Context, fm string, params map[string]any) (map[string]any, error)
}

// SessionCaller is a Caller that can also keep an ABAP session open
// across calls, so that a BAPI and BAPI_TRANSACTION_COMMIT run in the same
// logical unit of work.
type SessionCaller interface {
	Caller
	// Session returns a Caller whose calls all run in one ABAP session,
	// and a function that ends the session. Calling the Caller after
	// close returns an error. Work that was not committed before close is
	// lost.
	Session(ctx context.Context) (session Caller, close func(), err error)
}

// String returns the scalar params[name] as a string. It returns "" when
// the parameter is absent or is a structure or table. Numbers, as a gorfc
// backend returns them, are formatted in decimal.
func String(params map[string]any, name string) string {
	switch v := params[name].(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case int:
		return strconv.Itoa(v)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case fmt.Stringer:
		return v.String()
	}
	return ""
}

// Struct returns the structure params[name]. It returns nil when the
// parameter is absent or empty, because an empty structure and an empty
// scalar look the same on the wire.
func Struct(params map[string]any, name string) map[string]any {
	switch v := params[name].(type) {
	case map[string]any:
		return v
	case map[string]string:
		m := make(map[string]any, len(v))
		for k, s := range v {
			m[k] = s
		}
		return m
	}
	return nil
}

// Table returns the rows of the table params[name]. It returns nil when
// the table is absent or empty. A table given as []any keeps only the rows
// that are maps.
func Table(params map[string]any, name string) []map[string]any {
	switch v := params[name].(type) {
	case []map[string]any:
		return v
	case []any:
		rows := make([]map[string]any, 0, len(v))
		for _, item := range v {
			if row, ok := item.(map[string]any); ok {
				rows = append(rows, row)
			}
		}
		return rows
	}
	return nil
}
