package writeback_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sfsim"
	"github.com/sfsap/sfsap/services/writeback"
)

const lockMessage = "unable to obtain exclusive access to this record or 1 records: "

func TestWritebackRetriesLockedRow(t *testing.T) {
	t.Parallel()
	b := setupBundle(t, 5, nil)
	id := b.seed(t, "Larchfield Tools Ltd")
	b.created(t, id, "0000104711")
	// The fault has no path, so it matches a single-record PATCH and the
	// record inside a collections request alike.
	b.sim.Faults().Add(sfsim.Fault{AccountID: id, ErrorCode: "UNABLE_TO_LOCK_ROW", Message: lockMessage + id, Times: 2})
	b.publish(t, msg.WritebackJob{AccountID: id, Status: account.StatusSynced, SAPCustomer: "0000104711", Attempts: 1})
	b.sim.ResetCalls()
	b.run(t)

	eventually(t, "a result", func() bool { return len(results(t, b.nats.JS)) == 1 })
	if n := b.sim.Calls()[sfsim.CallCompositeUpdate]; n != 3 {
		t.Errorf("update requests = %d, want 3 (two locked, one written)", n)
	}
	rec, _ := b.sim.Store().Get(id)
	if rec["SAP_ID__c"] != "0000104711" {
		t.Errorf("SAP_ID__c = %v, want 0000104711", rec["SAP_ID__c"])
	}
	if r := results(t, b.nats.JS)[0]; r.Outcome != msg.OutcomeSynced {
		t.Errorf("result outcome = %s, want %s", r.Outcome, msg.OutcomeSynced)
	}
	if dl := deadLetters(t, b.nats.JS); len(dl) != 0 {
		t.Errorf("dead letters = %d, want 0", len(dl))
	}
}

func TestWritebackLockedUntilMaxDeliver(t *testing.T) {
	t.Parallel()
	b := setupBundle(t, 2, nil)
	id := b.seed(t, "Larchfield Tools Ltd")
	b.created(t, id, "0000104711")
	b.sim.Faults().Add(sfsim.Fault{AccountID: id, ErrorCode: "UNABLE_TO_LOCK_ROW", Message: lockMessage + id})
	b.publish(t, msg.WritebackJob{AccountID: id, Status: account.StatusSynced, SAPCustomer: "0000104711", Attempts: 1})
	b.sim.ResetCalls()
	b.run(t)

	eventually(t, "a dead letter", func() bool { return len(deadLetters(t, b.nats.JS)) == 1 })
	dl := deadLetters(t, b.nats.JS)[0]
	if dl.SAPCustomer != "0000104711" || dl.Code != "UNABLE_TO_LOCK_ROW" || dl.Stage != "writeback" {
		t.Errorf("dead letter = customer %q code %q stage %q, want 0000104711, UNABLE_TO_LOCK_ROW, writeback", dl.SAPCustomer, dl.Code, dl.Stage)
	}
	if dl.Attempts != 4 {
		t.Errorf("dead letter attempts = %d, want 4 (the consumer's MaxDeliver)", dl.Attempts)
	}
	if n := b.sim.Calls()[sfsim.CallCompositeUpdate]; n != 4 {
		t.Errorf("update requests = %d, want 4", n)
	}
	eventually(t, "a result", func() bool { return len(results(t, b.nats.JS)) == 1 })
	r := results(t, b.nats.JS)[0]
	if r.Outcome != msg.OutcomeWritebackFailed || !strings.Contains(r.Reason, "0000104711") {
		t.Errorf("result = %s %q, want %s naming the SAP customer", r.Outcome, r.Reason, msg.OutcomeWritebackFailed)
	}
}

func TestWritebackPermanentErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code    string
		message string
		status  int
		delete  bool
	}{
		{code: "FIELD_CUSTOM_VALIDATION_EXCEPTION", message: "VAT number is required for customers", status: http.StatusBadRequest},
		{code: "ENTITY_IS_DELETED", message: "entity is deleted", delete: true},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			b := setupBundle(t, 5, nil)
			id := b.seed(t, "Larchfield Tools Ltd")
			b.created(t, id, "0000104711")
			if tt.delete {
				if err := b.sim.Store().Delete(id, sfsim.WriteOptions{}); err != nil {
					t.Fatalf("Store.Delete: %v", err)
				}
			} else {
				b.sim.Faults().Add(sfsim.Fault{AccountID: id, Status: tt.status, ErrorCode: tt.code, Message: tt.message})
			}
			b.publish(t, msg.WritebackJob{AccountID: id, Status: account.StatusSynced, SAPCustomer: "0000104711", Attempts: 1})
			b.sim.ResetCalls()
			b.run(t)

			eventually(t, "a dead letter", func() bool { return len(deadLetters(t, b.nats.JS)) == 1 })
			dl := deadLetters(t, b.nats.JS)[0]
			if dl.Code != tt.code || dl.SAPCustomer != "0000104711" {
				t.Errorf("dead letter code %q customer %q, want %s and 0000104711", dl.Code, dl.SAPCustomer, tt.code)
			}
			if !strings.Contains(dl.Reason, tt.message) || !strings.Contains(dl.Reason, "0000104711") {
				t.Errorf("dead letter reason %q, want the Salesforce message %q and the SAP number", dl.Reason, tt.message)
			}
			if dl.Attempts != 1 {
				t.Errorf("dead letter attempts = %d, want 1: permanent errors are not retried", dl.Attempts)
			}
			if n := b.sim.Calls()[sfsim.CallCompositeUpdate]; n != 1 {
				t.Errorf("update requests = %d, want 1", n)
			}
		})
	}
}

func TestWritebackPausesAtLimit(t *testing.T) {
	t.Parallel()
	b := setupBundle(t, 1, func(c *writeback.Config) { c.LimitPause = 300 * time.Millisecond })
	id := b.seed(t, "Larchfield Tools Ltd")
	b.created(t, id, "0000104711")
	_, limit := b.sim.APIUsage()
	b.sim.SetAPIUsage(limit)
	b.publish(t, msg.WritebackJob{AccountID: id, Status: account.StatusSynced, SAPCustomer: "0000104711", Attempts: 1})
	b.sim.ResetCalls()
	b.run(t)

	// With MaxDeliver 2 on the consumer, a job naked on every limit error
	// would be gone after two tries; held in progress it stays.
	// Each attempt first reads the Account's SAP number, which the limit
	// rejects as well, so rejected reads count too.
	eventually(t, "three rejected requests", func() bool {
		calls := b.sim.Calls()
		return calls[sfsim.CallQuery]+calls[sfsim.CallCompositeUpdate] >= 3
	})
	if dl := deadLetters(t, b.nats.JS); len(dl) != 0 {
		t.Fatalf("dead letters = %d, want 0 while the limit is exceeded", len(dl))
	}
	b.sim.SetAPIUsage(0)
	eventually(t, "a result", func() bool { return len(results(t, b.nats.JS)) == 1 })
	rec, _ := b.sim.Store().Get(id)
	if rec["SAP_ID__c"] != "0000104711" {
		t.Errorf("SAP_ID__c = %v, want 0000104711 after the pause", rec["SAP_ID__c"])
	}
	if dl := deadLetters(t, b.nats.JS); len(dl) != 0 {
		t.Errorf("dead letters = %d, want 0", len(dl))
	}
}

func TestWritebackDefersStatusNearLimit(t *testing.T) {
	t.Parallel()
	b := setupBundle(t, 5, func(c *writeback.Config) { c.DeferDelay = time.Hour })
	synced := b.seed(t, "Synced Ltd")
	failed := b.seed(t, "Failed Ltd")
	b.created(t, synced, "0000104711")
	_, limit := b.sim.APIUsage()
	b.sim.SetAPIUsage(limit * 95 / 100)
	// One call makes the client see the usage in Sforce-Limit-Info.
	if _, err := b.sf.GetAccount(t.Context(), synced); err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	b.publish(t, msg.WritebackJob{AccountID: failed, Status: account.StatusFailed, Reason: "Country is missing", Attempts: 1})
	b.publish(t, msg.WritebackJob{AccountID: synced, Status: account.StatusSynced, SAPCustomer: "0000104711", Attempts: 1})
	b.run(t)

	eventually(t, "a result", func() bool { return len(results(t, b.nats.JS)) == 1 })
	if r := results(t, b.nats.JS)[0]; r.AccountID != synced {
		t.Errorf("written Account = %s, want the one with an SAP number, %s", r.AccountID, synced)
	}
	rec, _ := b.sim.Store().Get(failed)
	if rec["SAP_Sync_Status__c"] != nil {
		t.Errorf("deferred Account has SAP_Sync_Status__c %v, want it not yet written", rec["SAP_Sync_Status__c"])
	}
	if dl := deadLetters(t, b.nats.JS); len(dl) != 0 {
		t.Errorf("dead letters = %d, want 0", len(dl))
	}
}

func TestWritebackKeepsDifferentSAPNumber(t *testing.T) {
	t.Parallel()
	b := setupBundle(t, 5, nil)
	id := b.seed(t, "Larchfield Tools Ltd")
	b.created(t, id, "0000104711")
	// Someone typed another number into the Account while SAP created.
	if err := b.sim.Store().Update(id, map[string]any{"SAP_ID__c": "0000777777"}, sfsim.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	b.publish(t, msg.WritebackJob{AccountID: id, Status: account.StatusSynced, SAPCustomer: "0000104711", Attempts: 1})
	b.run(t)

	eventually(t, "a dead letter", func() bool { return len(deadLetters(t, b.nats.JS)) == 1 })
	dl := deadLetters(t, b.nats.JS)[0]
	if dl.Code != "CONFLICTING_SAP_ID" {
		t.Errorf("dead letter code = %q, want CONFLICTING_SAP_ID", dl.Code)
	}
	if !strings.Contains(dl.Reason, "0000777777") || !strings.Contains(dl.Reason, "0000104711") {
		t.Errorf("dead letter reason %q, want both numbers", dl.Reason)
	}
	rec, _ := b.sim.Store().Get(id)
	if rec["SAP_ID__c"] != "0000777777" {
		t.Errorf("SAP_ID__c = %v, want the number already there kept", rec["SAP_ID__c"])
	}
}
