package schemas_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/schemas"
)

const id = "001Hx00000ABcDeIAL"

func TestMessagesMatchSchemas(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		msg  any
	}{
		{"account change", msg.AccountChange{Schema: msg.SchemaAccountChange, AccountID: id, ChangeType: msg.ChangeUpdate,
			ChangedFields: []string{"Type", "LastModifiedDate"}, Fields: map[string]any{"Type": "Customer"},
			TransactionKey: "k", SequenceNumber: 1, CommitTimestamp: now}},
		{"create job", msg.CreateJob{Schema: msg.SchemaCreateJob, AccountID: id, Account: account.Account{ID: id, Name: "Acme"},
			Reason: msg.ReasonConversion, CorrelationID: "c", RequestedAt: now}},
		{"writeback job", msg.WritebackJob{Schema: msg.SchemaWritebackJob, AccountID: id, Status: account.StatusSynced,
			SAPCustomer: "0000100001", CorrelationID: "c", RequestedAt: now}},
		{"result", msg.Result{Schema: msg.SchemaResult, AccountID: id, Outcome: msg.OutcomeSynced, Stage: "writeback", CorrelationID: "c", At: now}},
		{"dead letter", msg.DeadLetter{Schema: msg.SchemaDeadLetter, AccountID: id, Stage: "sapworker", Reason: "r",
			Subject: "sfsap.sap.create." + id, Data: json.RawMessage(`{}`), At: now}},
	}
	for _, tt := range tests {
		data, err := json.Marshal(tt.msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := schemas.Validate(data); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func TestSchemaRejectsBadMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, json, want string
	}{
		{"short id", `{"schema":"sfsap.result.v1","account_id":"001","outcome":"synced","stage":"writeback","correlation_id":"c","at":"2026-12-04T10:00:00Z"}`, "account_id"},
		{"unknown outcome", `{"schema":"sfsap.result.v1","account_id":"001Hx00000ABcDeIAL","outcome":"maybe","stage":"writeback","correlation_id":"c","at":"2026-12-04T10:00:00Z"}`, "outcome"},
		{"synced without number", `{"schema":"sfsap.writeback-job.v1","account_id":"001Hx00000ABcDeIAL","status":"Synced","attempts":1,"correlation_id":"c","requested_at":"2026-12-04T10:00:00Z"}`, "sap_customer"},
		{"unknown schema", `{"schema":"sfsap.other.v9"}`, "unknown schema"},
	}
	for _, tt := range tests {
		err := schemas.Validate([]byte(tt.json))
		if err == nil {
			t.Errorf("%s: Validate = nil, want an error", tt.name)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q does not mention %q", tt.name, err, tt.want)
		}
	}
}
