package cases

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sfid"
	"github.com/sfsap/sfsap/pkg/sfsim"
	"github.com/sfsap/sfsap/services/allinone"
	"github.com/sfsap/sfsap/test/fixtures"
)

func TestExpiredReplayIDSweeps(t *testing.T) {
	t.Parallel()
	o := newOrg(t, sfsim.Options{}, nil)
	// While sfsap was down for days, a rep converted an Account and its
	// events left the retention window.
	id := o.prospect(t, "Harbourline Freight Services Ltd", nil)
	o.convert(t, id)
	stale := o.sf.Store().LatestReplayID()
	o.sf.Store().Purge(time.Now().Add(time.Hour))

	o.beforeRun = func(p *allinone.Pipeline) {
		cp, _ := json.Marshal(map[string]any{"position": []byte(strconv.FormatInt(stale, 10)), "saved_at": time.Now().Add(-80 * time.Hour).UTC()})
		kv, err := p.JS.KeyValue(context.Background(), bus.BucketCheckpoint)
		if err != nil {
			t.Fatalf("opening checkpoint bucket: %v", err)
		}
		if _, err := kv.Put(context.Background(), o.cfg.Listener.Checkpoint, cp); err != nil {
			t.Fatalf("storing checkpoint: %v", err)
		}
	}
	o.start(t)
	o.synced(t, id)
	if r := o.result(t, id); r.Outcome != msg.OutcomeSynced {
		t.Errorf("outcome = %s, want %s", r.Outcome, msg.OutcomeSynced)
	}
}

func TestGapOverflowAndMergedEvents(t *testing.T) {
	t.Parallel()
	o := newOrg(t, sfsim.Options{}, nil)
	store := o.sf.Store()
	var ids []string
	for _, name := range []string{"Gap Ltd", "Overflow Ltd", "Merged One Ltd", "Merged Two Ltd"} {
		ids = append(ids, o.prospect(t, name, nil))
	}
	gap, overflow, merged := ids[0], ids[1], ids[2:]
	if err := store.Update(gap, map[string]any{"Type": "Customer"}, sfsim.WriteOptions{User: salesRep, Event: sfsim.EventGap}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := store.Update(overflow, map[string]any{"Type": "Customer"}, sfsim.WriteOptions{User: salesRep, Event: sfsim.EventNone}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	store.EmitGap("GAP_OVERFLOW", []string{sfid.EmptyID})
	if err := store.UpdateMany(append(slices.Clone(merged), gap), map[string]any{"Type": "Customer"}, sfsim.WriteOptions{User: salesRep}); err != nil {
		t.Fatalf("UpdateMany: %v", err)
	}
	o.start(t)

	for _, id := range ids {
		o.synced(t, id)
	}
	if n := len(o.sap.Customers()); n != 4 {
		t.Errorf("SAP customers = %d, want 4", n)
	}
}

func TestUpdateDecidedOnCurrentRecord(t *testing.T) {
	t.Parallel()
	o := newOrg(t, sfsim.Options{}, nil)
	numbered := o.prospect(t, "Larchfield Tools Ltd", map[string]any{"SAP_ID__c": "0000104711"})
	partner := o.prospect(t, "Partner Ltd", map[string]any{"Type": "Partner"})
	control := o.prospect(t, "Control Ltd", nil)
	for _, id := range []string{numbered, partner, control} {
		o.convert(t, id)
	}
	o.start(t)

	o.synced(t, control)
	// The other two were settled by the filter before or with the
	// control, since the filter handles changes in order.
	time.Sleep(time.Second)
	if n := o.sap.CountByExternalRef(numbered); n != 0 {
		t.Errorf("SAP customers for the Account with an SAP number = %d, want 0", n)
	}
	if n := o.sap.CountByExternalRef(partner); n != 0 {
		t.Errorf("SAP customers for the partner = %d, want 0", n)
	}
	if got := o.field(t, numbered, "SAP_ID__c"); got != "0000104711" {
		t.Errorf("SAP_ID__c = %v, want it unchanged", got)
	}
}

func TestUnknownClientResubscribes(t *testing.T) {
	t.Parallel()
	o := newOrg(t, sfsim.Options{}, nil)
	o.start(t)
	first := o.prospect(t, "First Ltd", nil)
	o.convert(t, first)
	o.synced(t, first)

	// Salesforce drops the client (403::Unknown client). The next
	// conversion must still arrive through a new handshake and
	// subscription.
	o.faults.InjectUnknownClient()
	second := o.prospect(t, "Second Ltd", nil)
	o.convert(t, second)
	o.synced(t, second)
}

func TestPollingBoundaryOnce(t *testing.T) {
	t.Parallel()
	o := newOrg(t, sfsim.Options{QueryBatchSize: 2}, func(c *config.Config) {
		c.Salesforce.Transport = config.TransportPoll
		c.Listener.Poll.PageSize = 2
	})
	store := o.sf.Store()
	var ids []string
	for i := range 5 {
		ids = append(ids, o.prospect(t, "Bulk "+strconv.Itoa(i)+" Ltd", nil))
	}
	stamp := time.Date(2025, 4, 2, 10, 15, 7, 0, time.UTC)
	store.SetClock(func() time.Time { return stamp })
	if err := store.UpdateMany(ids, map[string]any{"Type": "Customer"}, sfsim.WriteOptions{User: salesRep}); err != nil {
		t.Fatalf("UpdateMany: %v", err)
	}
	store.SetClock(nil)
	o.start(t)

	for _, id := range ids {
		o.synced(t, id)
	}
	// Later polls read the boundary again through the overlap.
	time.Sleep(time.Second)
	if n := len(o.sap.Customers()); n != 5 {
		t.Errorf("SAP customers = %d, want 5", n)
	}
	for _, id := range ids {
		if n := o.sap.CountByExternalRef(id); n != 1 {
			t.Errorf("SAP customers for %s = %d, want 1", id, n)
		}
	}
}

func TestLockedWritebackRetried(t *testing.T) {
	t.Parallel()
	lock := fixtures.Read(t, "fixtures/salesforce/rest-error-unable-to-lock-row.json")
	var fixture []struct {
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	}
	if err := json.Unmarshal(lock, &fixture); err != nil || len(fixture) == 0 {
		t.Fatalf("decoding lock error fixture: %v", err)
	}
	o := newOrg(t, sfsim.Options{}, nil)
	id := o.prospect(t, "Larchfield Tools Ltd", nil)
	o.sf.Faults().Add(sfsim.Fault{AccountID: id, ErrorCode: fixture[0].ErrorCode, Message: fixture[0].Message, Times: 2})
	o.convert(t, id)
	o.start(t)

	no := o.synced(t, id)
	if r := o.result(t, id); r.Outcome != msg.OutcomeSynced || r.SAPCustomer != no {
		t.Errorf("result = %s %s, want %s %s", r.Outcome, r.SAPCustomer, msg.OutcomeSynced, no)
	}
	if n := o.sf.Faults().Len(); n != 0 {
		t.Errorf("unused lock faults = %d, want 0: both locked attempts were retried", n)
	}
	if dl := o.deadLetters(t); len(dl) != 0 {
		t.Errorf("dead letters = %d, want 0", len(dl))
	}
}

func TestValidationRuleParksWriteback(t *testing.T) {
	t.Parallel()
	o := newOrg(t, sfsim.Options{}, nil)
	id := o.prospect(t, "Larchfield Tools Ltd", nil)
	o.sf.Faults().Add(sfsim.Fault{AccountID: id, ErrorCode: "FIELD_CUSTOM_VALIDATION_EXCEPTION", Message: "VAT number is required for customers", Fields: []string{}})
	o.convert(t, id)
	o.start(t)

	var dl msg.DeadLetter
	eventually(t, "a write-back dead letter", func() bool {
		for _, d := range o.deadLetters(t) {
			if d.Stage == bus.StageWriteback {
				dl = d
				return true
			}
		}
		return false
	})
	if dl.Code != "FIELD_CUSTOM_VALIDATION_EXCEPTION" || dl.SAPCustomer == "" || dl.Attempts != 1 {
		t.Errorf("dead letter = code %q customer %q attempts %d, want the validation code, the SAP number and 1 attempt", dl.Code, dl.SAPCustomer, dl.Attempts)
	}
	if !strings.Contains(dl.Reason, "VAT number is required") {
		t.Errorf("dead letter reason %q, want the Salesforce message", dl.Reason)
	}
	if n := o.sap.CountByExternalRef(id); n != 1 {
		t.Errorf("SAP customers = %d, want 1", n)
	}
	time.Sleep(time.Second)
	if n := o.sap.CountByExternalRef(id); n != 1 {
		t.Errorf("SAP customers after the failure = %d, want still 1", n)
	}
}

func TestOwnWritebackEchoIgnored(t *testing.T) {
	t.Parallel()
	o := newOrg(t, sfsim.Options{}, nil)
	id := o.prospect(t, "Larchfield Tools Ltd", nil)
	o.convert(t, id)
	o.start(t)
	o.synced(t, id)
	if got := o.field(t, id, "SAP_Sync_Status__c"); got != account.StatusSynced {
		t.Errorf("SAP_Sync_Status__c = %v, want %s", got, account.StatusSynced)
	}

	// The write-back came back as a change event. An integration user's
	// edit of other fields, as a flow would make, comes back too.
	if err := o.sf.Store().Update(id, map[string]any{"Phone": "+44 20 7946 0000", "SAP_Sync_Error__c": "note"}, sfsim.WriteOptions{User: sfsim.DefaultIntegrationUserID}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	time.Sleep(2 * time.Second)
	if n := o.sap.CountByExternalRef(id); n != 1 {
		t.Errorf("SAP customers = %d, want 1: echoes must not reach SAP", n)
	}
	synced := 0
	for _, r := range o.results(t) {
		if r.AccountID == id {
			synced++
		}
	}
	if synced != 1 {
		t.Errorf("outcomes for the Account = %d, want 1", synced)
	}
}
