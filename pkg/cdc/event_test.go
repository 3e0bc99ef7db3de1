package cdc_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/cdc"
	"github.com/sfsap/sfsap/pkg/msg"
)

// TestAccountChangesMatchesCometD builds an Event the way a Pub/Sub (Avro)
// decoder would: every schema field present, nulls for unchanged fields,
// native Go types, and the compound parent listed as changed. The test
// checks that it yields the same message as the CometD form of the change.
func TestAccountChangesMatchesCometD(t *testing.T) {
	t.Parallel()
	committed := time.Date(2025, 3, 13, 8, 0, 0, 0, time.UTC)
	avroLike := cdc.Event{
		Header: cdc.Header{
			EntityName:      "Account",
			RecordIDs:       []string{"001Hx00000ABcDe"},
			ChangeType:      msg.ChangeUpdate,
			TransactionKey:  "0001a2b3-c4d5-e6f7-0809-0a0b0c0d0e0f",
			SequenceNumber:  2,
			CommitTimestamp: committed.UnixMilli(),
			CommitNumber:    1725357365187780609,
			CommitUser:      "005Hx00000IntUsIAJ",
			ChangedFields:   []string{"Type", "BillingAddress", "BillingAddress.City", "LastModifiedDate", "NumberOfEmployees"},
		},
		Fields: map[string]any{
			"Name": nil,
			"Type": "Customer",
			"BillingAddress": map[string]any{
				"Street": nil,
				"City":   "Eastbrook",
			},
			"ShippingAddress":   nil,
			"NumberOfEmployees": int32(250),
			"AnnualRevenue":     nil,
			"LastModifiedDate":  committed,
			"SAP_ID__c":         nil,
		},
	}
	fromAvro, err := avroLike.AccountChanges()
	if err != nil {
		t.Fatalf("AccountChanges() error = %v", err)
	}

	h := header(msg.ChangeUpdate, []string{"001Hx00000ABcDeIAL"}, []string{"LastModifiedDate", "BillingAddress.City", "NumberOfEmployees", "Type"})
	data := cometdData(t, h, map[string]any{
		"Type":              "Customer",
		"BillingAddress":    map[string]any{"City": "Eastbrook"},
		"NumberOfEmployees": 250,
		"LastModifiedDate":  "2025-03-13T08:00:00.000Z",
	})
	fromCometD, err := cdc.DecodeCometD(data)
	if err != nil {
		t.Fatalf("DecodeCometD() error = %v", err)
	}

	if diff := cmp.Diff(fromCometD, fromAvro); diff != "" {
		t.Errorf("transports disagree (-CometD +Avro-like):\n%s", diff)
	}
}

func TestAccountChangesNulledFields(t *testing.T) {
	t.Parallel()
	ev := cdc.Event{
		Header: cdc.Header{
			RecordIDs:      []string{"001Hx00000ABcDeIAL"},
			ChangeType:     msg.ChangeUpdate,
			TransactionKey: "tx",
			ChangedFields:  []string{"Phone", "LastModifiedDate", "Phone"},
			NulledFields:   []string{"Phone"},
		},
		Fields: map[string]any{"Phone": nil, "LastModifiedDate": "2025-03-13T08:00:00.000Z"},
	}

	got, err := ev.AccountChanges()
	if err != nil {
		t.Fatalf("AccountChanges() error = %v", err)
	}
	if diff := cmp.Diff([]string{"LastModifiedDate", "Phone"}, got[0].ChangedFields); diff != "" {
		t.Errorf("ChangedFields mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Phone"}, got[0].NulledFields); diff != "" {
		t.Errorf("NulledFields mismatch (-want +got):\n%s", diff)
	}
	if _, ok := got[0].Fields["Phone"]; ok {
		t.Errorf("Fields[Phone] present, want a nulled field left out")
	}
}

func TestAccountChangesValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		value any
		want  any
	}{
		{"int", 7, 7.0},
		{"int64", int64(-3), -3.0},
		{"float32", float32(0.5), 0.5},
		{"large int64", int64(1) << 60, "1152921504606846976"},
		{"time in another zone", time.Date(2025, 3, 13, 9, 0, 0, 5e8, time.FixedZone("CET", 3600)), "2025-03-13T08:00:00.500Z"},
		{"list", []any{"a", int32(2)}, []any{"a", 2.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := cdc.Event{
				Header: cdc.Header{RecordIDs: []string{"001Hx00000ABcDeIAL"}, ChangeType: msg.ChangeUpdate, TransactionKey: "tx"},
				Fields: map[string]any{"F": tt.value},
			}
			got, err := ev.AccountChanges()
			if err != nil {
				t.Fatalf("AccountChanges(F=%#v) error = %v", tt.value, err)
			}
			value := got[0].Fields["F"]
			if n, ok := value.(interface{ String() string }); ok {
				value = n.String()
			}
			if diff := cmp.Diff(tt.want, value); diff != "" {
				t.Errorf("AccountChanges(F=%#v) value mismatch (-want +got):\n%s", tt.value, diff)
			}
		})
	}
}

func TestAccountChangesUnsupportedValue(t *testing.T) {
	t.Parallel()
	ev := cdc.Event{
		Header: cdc.Header{RecordIDs: []string{"001Hx00000ABcDeIAL"}, ChangeType: msg.ChangeUpdate, TransactionKey: "tx"},
		Fields: map[string]any{"Logo": []byte{1, 2}},
	}
	got, err := ev.AccountChanges()
	if err == nil {
		t.Fatalf("AccountChanges(Logo=[]byte) = %v, want an error naming the field", got)
	}
	if !strings.Contains(err.Error(), "Logo") {
		t.Errorf("AccountChanges(Logo=[]byte) error = %q, want it to name the field Logo", err)
	}
}
