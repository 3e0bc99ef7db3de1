package pubsub_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/cdc"
	"github.com/sfsap/sfsap/pkg/cometd"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/pubsub"
	"github.com/sfsap/sfsap/pkg/sfid"
	"github.com/sfsap/sfsap/pkg/sfsim"
)

// writeScenario makes the org's store emit one event of each kind the
// listener handles and returns how many events it emitted.
func writeScenario(t *testing.T, store *sfsim.Store) int {
	t.Helper()
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("writing scenario: %v", err)
		}
	}
	a, err := store.Create(map[string]any{
		"Name": "Larchfield Tools Ltd", "Type": "Prospect", "Phone": "+44 20 7946 0000",
		"BillingStreet": "12 Mill Lane\nUnit 4", "BillingCity": "Westbrook", "BillingPostalCode": "WB1 2CD",
		"BillingCountry": "United Kingdom", "NumberOfEmployees": 42, "AnnualRevenue": 1.5e6,
	}, sfsim.WriteOptions{})
	check(err)
	b, err := store.Create(map[string]any{"Name": "Edge Communications", "Type": "Prospect"}, sfsim.WriteOptions{})
	check(err)
	// The conversion: Type and an address component change together.
	check(store.Update(a, map[string]any{"Type": "Customer", "BillingCity": "Eastbrook"}, sfsim.WriteOptions{}))
	// A field set to null.
	check(store.Update(a, map[string]any{"Phone": nil}, sfsim.WriteOptions{}))
	// One change to two records in one transaction, delivered merged.
	check(store.UpdateMany([]string{a, b}, map[string]any{"Industry": "Manufacturing"}, sfsim.WriteOptions{}))
	// The write-back of the SAP number through the REST API.
	check(store.Update(a, map[string]any{"SAP_ID__c": "0000104711"}, sfsim.WriteOptions{
		User: sfsim.DefaultIntegrationUserID, Origin: "com/salesforce/api/rest/60.0;client=sfsap",
	}))
	store.EmitGap(msg.ChangeGapUpdate, []string{a})
	store.EmitGap(msg.ChangeGapOverflow, []string{sfid.EmptyID})
	check(store.Delete(b, sfsim.WriteOptions{}))
	return 9
}

// TestTransportsAgree checks that the same changes read over CometD and
// over the Pub/Sub API give equal account-change messages. The only
// difference allowed is NulledFields, which CometD does not carry.
func TestTransportsAgree(t *testing.T) {
	t.Parallel()
	org := startOrg(t, sfsim.PubSubOptions{})
	events := writeScenario(t, org.store)

	// Pub/Sub API.
	ps := newCollector()
	subscribeInBackground(t, org.client(t, nil), nil, pubsub.ReplayEarliest, ps.handle)
	var viaPubSub [][]msg.AccountChange
	for i, ev := range ps.waitChanges(t, events) {
		if ev.DecodeErr != nil {
			t.Fatalf("Pub/Sub event %d: %v", i, ev.DecodeErr)
		}
		changes, err := ev.Change.AccountChanges()
		if err != nil {
			t.Fatalf("Pub/Sub event %d: AccountChanges: %v", i, err)
		}
		viaPubSub = append(viaPubSub, changes)
	}

	// CometD.
	cometdClient, err := cometd.New(cometd.Config{BaseURL: org.sf.URL(), TokenSource: org.tokens.Token, TokenRejected: org.tokens.Rejected, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("cometd.New: %v", err)
	}
	var mu sync.Mutex
	var viaCometD [][]msg.AccountChange
	all := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- cometdClient.Subscribe(ctx, -2, func(_ context.Context, ev cometd.Event) error {
			changes, err := cdc.DecodeCometD(ev.Data)
			if err != nil {
				t.Errorf("CometD event %d: %v", ev.ReplayID, err)
			}
			mu.Lock()
			defer mu.Unlock()
			viaCometD = append(viaCometD, changes)
			if len(viaCometD) == events {
				close(all)
			}
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	waitUntil(t, "CometD delivered every event", func() bool {
		select {
		case <-all:
			return true
		default:
			return false
		}
	})
	mu.Lock()
	defer mu.Unlock()

	// Only the Phone update reports a nulled field, and only over Pub/Sub.
	const nulledEvent = 3
	for i, changes := range viaPubSub {
		for j := range changes {
			var want []string
			if i == nulledEvent {
				want = []string{"Phone"}
			}
			if diff := cmp.Diff(want, changes[j].NulledFields); diff != "" {
				t.Errorf("Pub/Sub event %d NulledFields (-want +got):\n%s", i, diff)
			}
			changes[j].NulledFields = nil
		}
	}
	if diff := cmp.Diff(viaCometD, viaPubSub); diff != "" {
		t.Errorf("account changes differ between transports (-CometD +Pub/Sub):\n%s", diff)
	}

	// The conversion names the address component, not the flat field.
	conversion := viaPubSub[2][0]
	if diff := cmp.Diff([]string{"BillingAddress.City", "LastModifiedDate", "Type"}, conversion.ChangedFields); diff != "" {
		t.Errorf("conversion ChangedFields (-want +got):\n%s", diff)
	}
	if got := conversion.Fields["BillingAddress.City"]; got != "Eastbrook" {
		t.Errorf("conversion BillingAddress.City = %v, want Eastbrook", got)
	}
	if got := len(viaPubSub[4]); got != 2 {
		t.Errorf("merged event gave %d changes, want 2", got)
	}
}
