package odata

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sfsap/sfsap/pkg/sap"
)

// errorBody is the OData V2 error JSON of SAP Gateway. Only error.code and
// error.message are required. innererror is free-form, and the casing of
// its keys varies between releases (transactionid, transactionId), so it
// is read key by key without regard to case.
type errorBody struct {
	Error *struct {
		Code    string `json:"code"`
		Message struct {
			Lang  string `json:"lang"`
			Value string `json:"value"`
		} `json:"message"`
		InnerError map[string]json.RawMessage `json:"innererror"`
	} `json:"error"`
}

// errorDetail is one entry of innererror.errordetails, and the shape of
// the sap-message header.
type errorDetail struct {
	Code     string        `json:"code"`
	Message  string        `json:"message"`
	Severity string        `json:"severity"`
	Target   string        `json:"target"`
	Details  []errorDetail `json:"details"`
}

// ParseError returns the messages of an OData V2 error body: first the
// error's code and message, then every entry of innererror.errordetails
// that is not a copy of the first. A code such as "CVI_API/003" becomes
// message class CVI_API and number 003. The top-level message has type
// E. A detail's type follows its severity (error E, warning W, info I,
// success S, abort A), and a detail without one has type E. It returns an
// error wrapping ErrInvalidResponse when data is not such a body.
func ParseError(data []byte) ([]sap.Message, error) {
	var body errorBody
	if err := json.Unmarshal(data, &body); err != nil {
		return nil, fmt.Errorf("%w: the error body is not JSON: %v", ErrInvalidResponse, err)
	}
	if body.Error == nil || body.Error.Code == "" && body.Error.Message.Value == "" {
		return nil, fmt.Errorf(`%w: the body has no "error" object with a code or message`, ErrInvalidResponse)
	}

	first := newMessage("E", body.Error.Code, body.Error.Message.Value)
	msgs := []sap.Message{first}
	for _, d := range errorDetails(body.Error.InnerError) {
		m := newMessage(severityType(d.Severity, "E"), d.Code, d.Message)
		if m == first {
			continue
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// errorDetails returns innererror.errordetails, whatever the key's case.
func errorDetails(inner map[string]json.RawMessage) []errorDetail {
	for key, raw := range inner {
		if !strings.EqualFold(key, "errordetails") {
			continue
		}
		var details []errorDetail
		if err := json.Unmarshal(raw, &details); err != nil {
			return nil
		}
		return details
	}
	return nil
}

// parseMessageHeader returns the messages of a sap-message response
// header, which SAP Gateway uses to return the messages of a successful
// request: a JSON object with code, message and severity, whose details
// hold further messages of the same shape. A header that is not such an
// object becomes one message of type I with the header as its text.
//
// NOTE: no captured sap-message header was at hand. Its shape here is
// assumed to match the entries of innererror.errordetails, plus details.
func parseMessageHeader(header string) []sap.Message {
	header = strings.TrimSpace(header)
	if header == "" {
		return nil
	}
	var top errorDetail
	if err := json.Unmarshal([]byte(header), &top); err != nil {
		return []sap.Message{{Type: "I", Message: header}}
	}
	msgs := []sap.Message{newMessage(severityType(top.Severity, "I"), top.Code, top.Message)}
	for _, d := range top.Details {
		msgs = append(msgs, newMessage(severityType(d.Severity, "I"), d.Code, d.Message))
	}
	return msgs
}

// newMessage returns a message of type typ whose class and number come
// from code.
func newMessage(typ, code, text string) sap.Message {
	id, number := splitCode(code)
	return sap.Message{Type: typ, ID: id, Number: number, Message: strings.TrimSpace(text)}
}

// splitCode splits an OData message code "<class>/<number>" at its last
// slash. Classes may hold slashes themselves, as in
// /IWFND/CM_CONSUMER/101. A code that does not end in a number of one to
// three digits is returned whole as the class.
func splitCode(code string) (id, number string) {
	code = strings.TrimSpace(code)
	i := strings.LastIndex(code, "/")
	if i <= 0 {
		return code, ""
	}
	number = code[i+1:]
	if len(number) == 0 || len(number) > 3 || strings.Trim(number, "0123456789") != "" {
		return code, ""
	}
	return code[:i], number
}

// severityType returns the SAP message type of an OData severity, and def
// for an empty or unknown one.
func severityType(severity, def string) string {
	switch strings.ToLower(strings.TrimSpace(severity)) {
	case "error":
		return "E"
	case "warning":
		return "W"
	case "info", "information":
		return "I"
	case "success":
		return "S"
	case "abort":
		return "A"
	}
	return def
}
