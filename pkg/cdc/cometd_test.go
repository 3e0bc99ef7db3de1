package cdc_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/cdc"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sfid"
	"github.com/sfsap/sfsap/test/fixtures"
)

// fixtureData returns the "data" member of a CometD fixture, with the
// given header fields added to its ChangeEventHeader (the documentation
// examples stop before some of them).
func fixtureData(t *testing.T, name string, extraHeader map[string]any) json.RawMessage {
	t.Helper()
	var file struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(fixtures.Read(t, "fixtures/salesforce/"+name), &file); err != nil {
		t.Fatalf("parsing fixture %s: %v", name, err)
	}
	payload, ok := file.Data["payload"].(map[string]any)
	if !ok {
		t.Fatalf("fixture %s has no data.payload object", name)
	}
	header, ok := payload["ChangeEventHeader"].(map[string]any)
	if !ok {
		t.Fatalf("fixture %s has no ChangeEventHeader object", name)
	}
	for k, v := range extraHeader {
		header[k] = v
	}
	data, err := json.Marshal(file.Data)
	if err != nil {
		t.Fatalf("encoding fixture %s: %v", name, err)
	}
	return data
}

func TestDecodeCometDEnrichedUpdate(t *testing.T) {
	t.Parallel()
	data := fixtureData(t, "cometd-cdc-update-account-enriched.partial.json", map[string]any{
		"recordIds":       []string{"001ZM000001QkdO"},
		"transactionKey":  "00097360-44a0-7c2e-a172-97381ae22f82",
		"commitTimestamp": 1652286059000,
	})

	got, err := cdc.DecodeCometD(data)
	if err != nil {
		t.Fatalf("DecodeCometD(enriched update) error = %v", err)
	}
	want := []msg.AccountChange{{
		Schema:        msg.SchemaAccountChange,
		AccountID:     "001ZM000001QkdOYAS",
		ChangeType:    msg.ChangeUpdate,
		ChangedFields: []string{"Fax", "LastModifiedDate"},
		Fields: map[string]any{
			"LastModifiedDate":          "2022-05-11T16:20:59.000Z",
			"External_Account_ID__c":    "1ABC",
			"BillingAddress.State":      "CA",
			"BillingAddress.Street":     "415 Mission Street",
			"BillingAddress.PostalCode": "94105",
			"BillingAddress.Country":    "USA",
			"BillingAddress.City":       "San Francisco",
			"Industry":                  "Biotechnology",
		},
		TransactionKey:  "00097360-44a0-7c2e-a172-97381ae22f82",
		SequenceNumber:  1,
		CommitTimestamp: time.Date(2022, 5, 11, 16, 20, 59, 0, time.UTC),
		CommitUser:      "005RM0000026DG5YAM",
		ChangeOrigin:    "com/salesforce/api/soap/55.0;client=SfdcInternalAPI/",
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DecodeCometD(enriched update) mismatch (-want +got):\n%s", diff)
	}
}

func TestDecodeCometDGapUpdate(t *testing.T) {
	t.Parallel()
	data := fixtureData(t, "cometd-cdc-gap-update.partial.json", nil)

	got, err := cdc.DecodeCometD(data)
	if err != nil {
		t.Fatalf("DecodeCometD(gap update) error = %v", err)
	}
	want := []msg.AccountChange{{
		Schema:          msg.SchemaAccountChange,
		AccountID:       "00Uxx000000fvRQEAY",
		ChangeType:      msg.ChangeGapUpdate,
		ChangedFields:   []string{},
		TransactionKey:  "0Mcxx000000000B",
		SequenceNumber:  1,
		CommitTimestamp: time.UnixMilli(1509502088161).UTC(),
		CommitUser:      "005xx000001TT96AAG",
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DecodeCometD(gap update) mismatch (-want +got):\n%s", diff)
	}
}

func TestDecodeCometDLargeCommitNumber(t *testing.T) {
	t.Parallel()
	var file struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(fixtures.Read(t, "fixtures/salesforce/cometd-cdc-update-serviceappointment.json"), &file); err != nil {
		t.Fatalf("parsing fixture: %v", err)
	}

	got, err := cdc.DecodeCometD(file.Data)
	if err != nil {
		t.Fatalf("DecodeCometD(service appointment) error = %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("DecodeCometD(service appointment) returned %d changes, want 1", len(got))
	}
	if got[0].AccountID != "08pRj000005kYAHIA2" {
		t.Errorf("AccountID = %q, want %q", got[0].AccountID, "08pRj000005kYAHIA2")
	}
	if v := got[0].Fields["ActualDuration"]; v != 0.0 {
		t.Errorf("Fields[ActualDuration] = %#v, want float64 0", v)
	}
	if v := got[0].Fields["ActualStartTime"]; v != "2024-09-03T09:54:00.000Z" {
		t.Errorf("Fields[ActualStartTime] = %#v, want the ISO string unchanged", v)
	}
	if n := len(got[0].ChangedFields); n != 11 {
		t.Errorf("len(ChangedFields) = %d, want 11", n)
	}
}

// cometdData builds the data member of a CometD change event.
func cometdData(t *testing.T, header map[string]any, fields map[string]any) json.RawMessage {
	t.Helper()
	payload := map[string]any{"ChangeEventHeader": header}
	for k, v := range fields {
		payload[k] = v
	}
	data, err := json.Marshal(map[string]any{
		"schema":  "sfsapTestSchema",
		"payload": payload,
		"event":   map[string]any{"replayId": 4711},
	})
	if err != nil {
		t.Fatalf("encoding test event: %v", err)
	}
	return data
}

func header(changeType string, ids []string, changed []string) map[string]any {
	return map[string]any{
		"entityName":      "Account",
		"recordIds":       ids,
		"changeType":      changeType,
		"changeOrigin":    "",
		"transactionKey":  "0001a2b3-c4d5-e6f7-0809-0a0b0c0d0e0f",
		"sequenceNumber":  2,
		"commitTimestamp": 1741852800000,
		"commitNumber":    1725357365187780609,
		"commitUser":      "005Hx00000IntUsIAJ",
		"changedFields":   changed,
	}
}

func TestDecodeCometDMergedEvent(t *testing.T) {
	t.Parallel()
	ids := []string{"001Hx00000ABcDeIAL", "001Hx00000ABcDE", "001Hx00000QrStUiav"}
	data := cometdData(t, header(msg.ChangeUpdate, ids, []string{"Type", "LastModifiedDate"}), map[string]any{
		"Type":             "Customer",
		"LastModifiedDate": "2025-03-13T08:00:00.000Z",
	})

	got, err := cdc.DecodeCometD(data)
	if err != nil {
		t.Fatalf("DecodeCometD(merged) error = %v", err)
	}
	wantIDs := []string{"001Hx00000ABcDeIAL", "001Hx00000ABcDEIA1", "001Hx00000QrStUIAV"}
	if len(got) != len(wantIDs) {
		t.Fatalf("DecodeCometD(merged) returned %d changes, want %d", len(got), len(wantIDs))
	}
	for i, change := range got {
		want := msg.AccountChange{
			Schema:        msg.SchemaAccountChange,
			AccountID:     wantIDs[i],
			ChangeType:    msg.ChangeUpdate,
			ChangedFields: []string{"LastModifiedDate", "Type"},
			Fields: map[string]any{
				"Type":             "Customer",
				"LastModifiedDate": "2025-03-13T08:00:00.000Z",
			},
			TransactionKey:  "0001a2b3-c4d5-e6f7-0809-0a0b0c0d0e0f",
			SequenceNumber:  2,
			CommitTimestamp: time.Date(2025, 3, 13, 8, 0, 0, 0, time.UTC),
			CommitUser:      "005Hx00000IntUsIAJ",
		}
		if diff := cmp.Diff(want, change); diff != "" {
			t.Errorf("change %d mismatch (-want +got):\n%s", i, diff)
		}
	}

	dedup := map[string]bool{}
	for _, change := range got {
		dedup[change.DedupID()] = true
	}
	if len(dedup) != len(wantIDs) {
		t.Errorf("merged event has %d distinct DedupIDs, want %d", len(dedup), len(wantIDs))
	}

	// Each change owns its maps and slices: changing one leaves the others.
	got[0].Fields["Type"] = "Prospect"
	got[0].ChangedFields[0] = "Name"
	if got[1].Fields["Type"] != "Customer" || got[1].ChangedFields[0] != "LastModifiedDate" {
		t.Errorf("changes share Fields or ChangedFields: change 1 = %+v", got[1])
	}
}

func TestDecodeCometDCompoundFields(t *testing.T) {
	t.Parallel()
	changed := []string{"BillingAddress.City", "BillingAddress.Street", "LastModifiedDate", "ShippingAddress.Latitude"}
	data := cometdData(t, header(msg.ChangeUpdate, []string{"001Hx00000ABcDeIAL"}, changed), map[string]any{
		"BillingAddress": map[string]any{
			"Street":     "Hauptstr. 1\nHinterhaus",
			"City":       "Eastbrook",
			"PostalCode": nil,
		},
		"ShippingAddress": map[string]any{
			"Latitude": 48.1374,
		},
		"NumberOfEmployees": 250,
		"LastModifiedDate":  "2025-03-13T08:00:00.000Z",
	})

	got, err := cdc.DecodeCometD(data)
	if err != nil {
		t.Fatalf("DecodeCometD(compound) error = %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("DecodeCometD(compound) returned %d changes, want 1", len(got))
	}
	wantFields := map[string]any{
		"BillingAddress.Street":    "Hauptstr. 1\nHinterhaus",
		"BillingAddress.City":      "Eastbrook",
		"ShippingAddress.Latitude": 48.1374,
		"NumberOfEmployees":        250.0,
		"LastModifiedDate":         "2025-03-13T08:00:00.000Z",
	}
	if diff := cmp.Diff(wantFields, got[0].Fields); diff != "" {
		t.Errorf("Fields mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(changed, got[0].ChangedFields); diff != "" {
		t.Errorf("ChangedFields mismatch (-want +got):\n%s", diff)
	}
}

func TestDecodeCometDOverflowAndWildcard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		changeType string
		id         string
	}{
		{"overflow", msg.ChangeGapOverflow, sfid.EmptyID},
		{"key prefix wildcard", msg.ChangeGapUpdate, "001*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := header(tt.changeType, []string{tt.id}, []string{})
			data := cometdData(t, h, map[string]any{"Type": "Customer"})

			got, err := cdc.DecodeCometD(data)
			if err != nil {
				t.Fatalf("DecodeCometD(%s) error = %v", tt.id, err)
			}
			if len(got) != 1 {
				t.Fatalf("DecodeCometD(%s) returned %d changes, want 1", tt.id, len(got))
			}
			if got[0].AccountID != sfid.EmptyID {
				t.Errorf("AccountID = %q, want %q", got[0].AccountID, sfid.EmptyID)
			}
			if got[0].ChangeType != tt.changeType {
				t.Errorf("ChangeType = %q, want %q", got[0].ChangeType, tt.changeType)
			}
			if got[0].Fields != nil {
				t.Errorf("Fields = %v, want none for a gap event", got[0].Fields)
			}
		})
	}
}

func TestDecodeCometDErrors(t *testing.T) {
	t.Parallel()
	valid := func() map[string]any {
		return header(msg.ChangeUpdate, []string{"001Hx00000ABcDeIAL"}, []string{"Type"})
	}
	tests := []struct {
		name    string
		data    func(t *testing.T) json.RawMessage
		wantErr string
	}{
		{"malformed id", func(t *testing.T) json.RawMessage {
			h := valid()
			h["recordIds"] = []string{"001Hx00000ABcDeIAL", "001Hx00000AB-De"}
			return cometdData(t, h, nil)
		}, `"001Hx00000AB-De"`},
		{"short id", func(t *testing.T) json.RawMessage {
			h := valid()
			h["recordIds"] = []string{"001Hx00000ABcD"}
			return cometdData(t, h, nil)
		}, `"001Hx00000ABcD"`},
		{"no record ids", func(t *testing.T) json.RawMessage {
			h := valid()
			delete(h, "recordIds")
			return cometdData(t, h, nil)
		}, "no recordIds"},
		{"no transaction key", func(t *testing.T) json.RawMessage {
			h := valid()
			delete(h, "transactionKey")
			return cometdData(t, h, nil)
		}, "no transactionKey"},
		{"no change type", func(t *testing.T) json.RawMessage {
			h := valid()
			delete(h, "changeType")
			return cometdData(t, h, nil)
		}, "no changeType"},
		{"no header", func(t *testing.T) json.RawMessage {
			return json.RawMessage(`{"payload":{"Type":"Customer"}}`)
		}, "no ChangeEventHeader"},
		{"no payload", func(t *testing.T) json.RawMessage {
			return json.RawMessage(`{"schema":"x","event":{"replayId":1}}`)
		}, "no payload"},
		{"not json", func(t *testing.T) json.RawMessage {
			return json.RawMessage(`{"payload":`)
		}, "decoding CometD change event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := cdc.DecodeCometD(tt.data(t))
			if err == nil {
				t.Fatalf("DecodeCometD() = %v, want error containing %q", got, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("DecodeCometD() error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestDecodeCometDDiffField(t *testing.T) {
	t.Parallel()
	h := header(msg.ChangeUpdate, []string{"001Hx00000ABcDeIAL"}, []string{"Description", "LastModifiedDate"})
	data := cometdData(t, h, map[string]any{
		"Description":      map[string]any{"diff": "--- \n+++ 3f1c\n@@ -1 +1 @@\n-old\n+new\n"},
		"LastModifiedDate": "2025-03-13T08:00:00.000Z",
	})

	got, err := cdc.DecodeCometD(data)
	if err != nil {
		t.Fatalf("DecodeCometD(diff) error = %v", err)
	}
	want := map[string]any{"LastModifiedDate": "2025-03-13T08:00:00.000Z"}
	if diff := cmp.Diff(want, got[0].Fields); diff != "" {
		t.Errorf("Fields mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Description", "LastModifiedDate"}, got[0].ChangedFields); diff != "" {
		t.Errorf("ChangedFields mismatch (-want +got):\n%s", diff)
	}
}

func TestDecodeCometDLargeInteger(t *testing.T) {
	t.Parallel()
	h := header(msg.ChangeUpdate, []string{"001Hx00000ABcDeIAL"}, []string{"Big__c"})
	data := cometdData(t, h, nil)
	// Splice the number in by hand, because encoding it through float64
	// would already round it.
	data = json.RawMessage(strings.Replace(string(data), `"payload":{`, `"payload":{"Big__c":123456789012345678,`, 1))

	got, err := cdc.DecodeCometD(data)
	if err != nil {
		t.Fatalf("DecodeCometD(large integer) error = %v", err)
	}
	if v := got[0].Fields["Big__c"]; v != json.Number("123456789012345678") {
		t.Errorf("Fields[Big__c] = %#v, want json.Number with the exact digits", v)
	}
}

func TestDecodeCometDJSONRoundTrip(t *testing.T) {
	t.Parallel()
	h := header(msg.ChangeCreate, []string{"001Hx00000ABcDeIAL"}, []string{})
	data := cometdData(t, h, map[string]any{
		"Name":              "Larchfield Tools Ltd",
		"AnnualRevenue":     1.25e6,
		"NumberOfEmployees": 12,
		"IsPartner__c":      true,
		"BillingAddress":    map[string]any{"City": "Eastbrook", "CountryCode": "GB"},
		"CreatedDate":       "2025-03-13T08:00:00.000Z",
	})

	got, err := cdc.DecodeCometD(data)
	if err != nil {
		t.Fatalf("DecodeCometD(create) error = %v", err)
	}
	encoded, err := json.Marshal(got[0])
	if err != nil {
		t.Fatalf("encoding change: %v", err)
	}
	var back msg.AccountChange
	if err := json.Unmarshal(encoded, &back); err != nil {
		t.Fatalf("decoding change: %v", err)
	}
	if diff := cmp.Diff(got[0], back); diff != "" {
		t.Errorf("JSON round trip changed the message (-decoded +round trip):\n%s", diff)
	}
	if !strings.Contains(string(encoded), `"changed_fields":[]`) {
		t.Errorf("encoded change = %s, want \"changed_fields\":[]", encoded)
	}
}
