package sfclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/test/fixtures"
)

func TestParseErrorFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file   string
		status int
		want   sfclient.APIError
	}{
		{"rest-error-entity-is-deleted.json", 404, sfclient.APIError{Status: 404, ErrorCode: "ENTITY_IS_DELETED", Message: "entity is deleted", Fields: []string{}}},
		{"rest-error-invalid-field-soql.json", 400, sfclient.APIError{Status: 400, ErrorCode: "INVALID_FIELD",
			Message: "SELECT Id, FullName FROM Account\n                ^\nERROR: No such column 'FullName' on entity 'Account'"}},
		{"rest-error-invalid-session.json", 401, sfclient.APIError{Status: 401, ErrorCode: "INVALID_SESSION_ID", Message: "Session expired or invalid"}},
		{"rest-error-malformed-id.json", 400, sfclient.APIError{Status: 400, ErrorCode: "MALFORMED_ID", Message: "Related To ID: id value of incorrect type: 006B000002nBrQ", Fields: []string{"WhatId"}}},
		{"rest-error-unable-to-lock-row.json", 400, sfclient.APIError{Status: 400, ErrorCode: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access to this record or 1 records: 0035cFAKEIDAQBGAA4", Fields: []string{}}},
		{"rest-error-validation-rule.json", 400, sfclient.APIError{Status: 400, ErrorCode: "FIELD_CUSTOM_VALIDATION_EXCEPTION", Message: "Please contact your administrator.", Fields: []string{"Amount"}}},
		{"oauth-error-invalid-grant.json", 400, sfclient.APIError{Status: 400, ErrorCode: "invalid_grant", Message: "authentication failure"}},
		{"soap-login-fault.xml", 500, sfclient.APIError{Status: 500, ErrorCode: "INVALID_LOGIN", Message: "INVALID_LOGIN: Invalid username, password, security token; or user locked out."}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			body := fixtures.Read(t, "fixtures/salesforce/"+tt.file)
			got := sfclient.ParseError(tt.status, body)
			if diff := cmp.Diff(&tt.want, got); diff != "" {
				t.Fatalf("ParseError mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseErrorCompositeFixture checks that the statusCode errors inside
// sObject collection results parse like errorCode errors.
func TestParseErrorCompositeFixture(t *testing.T) {
	t.Parallel()
	var results []struct {
		Errors json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(fixtures.Read(t, "fixtures/salesforce/composite-sobjects-allornone-failure.json"), &results); err != nil {
		t.Fatalf("decoding fixture: %v", err)
	}
	want := []sfclient.APIError{
		{Status: 200, ErrorCode: "DUPLICATES_DETECTED", Message: "Use one of these records?", Fields: []string{}},
		{Status: 200, ErrorCode: "ALL_OR_NONE_OPERATION_ROLLED_BACK", Message: "Record rolled back because not all records were valid and the request was using AllOrNone header", Fields: []string{}},
	}
	if len(results) != len(want) {
		t.Fatalf("fixture has %d results, want %d", len(results), len(want))
	}
	for i, r := range results {
		got := sfclient.ParseError(200, r.Errors)
		if diff := cmp.Diff(&want[i], got); diff != "" {
			t.Fatalf("result %d mismatch (-want +got):\n%s", i, diff)
		}
	}
}

func TestParseErrorShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   sfclient.APIError
	}{
		{"empty array", 400, "[]", sfclient.APIError{Status: 400, Message: "Bad Request (no error details in the response)"}},
		{"empty array with spaces", 401, " [ ] ", sfclient.APIError{Status: 401, Message: "Unauthorized (no error details in the response)"}},
		{"empty body", 503, "", sfclient.APIError{Status: 503, Message: "Service Unavailable (no error details in the response)"}},
		{"single object", 400, `{"errorCode":"INVALID_FIELD","message":"bad"}`, sfclient.APIError{Status: 400, ErrorCode: "INVALID_FIELD", Message: "bad"}},
		{"oauth without description", 400, `{"error":"invalid_client_id"}`, sfclient.APIError{Status: 400, ErrorCode: "invalid_client_id"}},
		{"html page", 502, "<html><body>Bad gateway</body></html>", sfclient.APIError{Status: 502, Message: "<html><body>Bad gateway</body></html>"}},
		{"plain text", 403, "Bad_OAuth_Token", sfclient.APIError{Status: 403, Message: "Bad_OAuth_Token"}},
		{"broken json", 400, `[{"errorCode":`, sfclient.APIError{Status: 400, Message: `[{"errorCode":`}},
		{"long body", 500, strings.Repeat("ü", 150), sfclient.APIError{Status: 500, Message: strings.Repeat("ü", 100) + "..."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := sfclient.ParseError(tt.status, []byte(tt.body))
			if diff := cmp.Diff(&tt.want, got); diff != "" {
				t.Fatalf("ParseError(%d, %q) mismatch (-want +got):\n%s", tt.status, tt.body, diff)
			}
		})
	}
}

func TestAPIErrorMessage(t *testing.T) {
	t.Parallel()
	err := &sfclient.APIError{Status: 400, ErrorCode: "FIELD_CUSTOM_VALIDATION_EXCEPTION", Message: "VAT number is required", Fields: []string{"VAT__c"},
		More: []sfclient.APIError{{ErrorCode: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [Name]"}}}
	want := "salesforce: 400 FIELD_CUSTOM_VALIDATION_EXCEPTION: VAT number is required (fields VAT__c); REQUIRED_FIELD_MISSING: Required fields are missing: [Name]"
	if got := err.Error(); got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func TestPermanent(t *testing.T) {
	t.Parallel()
	apiErr := func(status int, code string) error {
		return fmt.Errorf("updating Account: %w", &sfclient.APIError{Status: status, ErrorCode: code})
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"validation rule", apiErr(400, "FIELD_CUSTOM_VALIDATION_EXCEPTION"), true},
		{"deleted", apiErr(404, "ENTITY_IS_DELETED"), true},
		{"malformed id", apiErr(400, "MALFORMED_ID"), true},
		{"invalid field", apiErr(400, "INVALID_FIELD"), true},
		{"read-only field", apiErr(400, "INVALID_FIELD_FOR_INSERT_UPDATE"), true},
		{"record-level duplicate", apiErr(0, "DUPLICATES_DETECTED"), true},
		{"record-level unknown code", apiErr(0, "SOMETHING_NEW"), true},
		{"lock 400", apiErr(400, "UNABLE_TO_LOCK_ROW"), false},
		{"lock 500", apiErr(500, "UNABLE_TO_LOCK_ROW"), false},
		{"rolled back", apiErr(0, "ALL_OR_NONE_OPERATION_ROLLED_BACK"), false},
		{"limit", apiErr(403, "REQUEST_LIMIT_EXCEEDED"), false},
		{"session", apiErr(401, "INVALID_SESSION_ID"), false},
		{"401 without code", apiErr(401, ""), false},
		{"429", apiErr(429, ""), false},
		{"500", apiErr(500, ""), false},
		{"503 unknown code", apiErr(503, "SOMETHING_NEW"), false},
		{"400 without code", apiErr(400, ""), true},
		{"bad login", apiErr(500, "INVALID_LOGIN"), false},
		{"oauth invalid_grant", apiErr(400, "invalid_grant"), false},
		{"deadline", fmt.Errorf("sending PATCH: %w", context.DeadlineExceeded), false},
		{"network", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, false},
		{"other", errors.New("something"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := sfclient.Permanent(tt.err); got != tt.want {
				t.Fatalf("Permanent(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestPredicates(t *testing.T) {
	t.Parallel()
	wrap := func(e *sfclient.APIError) error { return fmt.Errorf("calling: %w", e) }
	tests := []struct {
		name                           string
		err                            error
		lock, session, limit, notFound bool
	}{
		{"lock", wrap(&sfclient.APIError{Status: 400, ErrorCode: "UNABLE_TO_LOCK_ROW"}), true, false, false, false},
		{"session", wrap(&sfclient.APIError{Status: 401, ErrorCode: "INVALID_SESSION_ID"}), false, true, false, false},
		{"401 without code", wrap(&sfclient.APIError{Status: 401}), false, true, false, false},
		{"limit", wrap(&sfclient.APIError{Status: 403, ErrorCode: "REQUEST_LIMIT_EXCEEDED"}), false, false, true, false},
		{"not found", wrap(&sfclient.APIError{Status: 404, ErrorCode: "NOT_FOUND"}), false, false, false, true},
		{"deleted", wrap(&sfclient.APIError{Status: 404, ErrorCode: "ENTITY_IS_DELETED"}), false, false, false, true},
		{"404 without code", wrap(&sfclient.APIError{Status: 404}), false, false, false, true},
		{"plain error", errors.New("UNABLE_TO_LOCK_ROW"), false, false, false, false},
		{"nil", nil, false, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := sfclient.IsLockError(tt.err); got != tt.lock {
				t.Fatalf("IsLockError(%v) = %v, want %v", tt.err, got, tt.lock)
			}
			if got := sfclient.IsSessionError(tt.err); got != tt.session {
				t.Fatalf("IsSessionError(%v) = %v, want %v", tt.err, got, tt.session)
			}
			if got := sfclient.IsLimitError(tt.err); got != tt.limit {
				t.Fatalf("IsLimitError(%v) = %v, want %v", tt.err, got, tt.limit)
			}
			if got := sfclient.IsNotFound(tt.err); got != tt.notFound {
				t.Fatalf("IsNotFound(%v) = %v, want %v", tt.err, got, tt.notFound)
			}
		})
	}
}
