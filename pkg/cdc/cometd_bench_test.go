package cdc_test

import (
	"encoding/json"
	"testing"

	"github.com/sfsap/sfsap/pkg/cdc"
)

// cometdBenchEvents are data members of CometD change events in the form
// the Salesforce simulator delivers: a conversion that changes only Type,
// and the create of an Account with a full billing address.
var cometdBenchEvents = []struct{ name, data string }{
	{"update Type", `{"schema":"sfsimAccountChangeEvent1","event":{"replayId":1042},"payload":{
		"ChangeEventHeader":{"entityName":"Account","recordIds":["001Hx0000000042IAA"],"changeType":"UPDATE",
		"changeOrigin":"","transactionKey":"5a0e6c1e-53c4-4c38-9a51-0a3e4b0f6c11","sequenceNumber":1,
		"commitTimestamp":1764866400123,"commitNumber":4000000294,"commitUser":"005Hx00000SimUsIAJ",
		"changedFields":["LastModifiedDate","Type"]},
		"Type":"Customer - Direct","LastModifiedDate":"2025-12-04T16:40:00.000Z"}}`},
	{"create with address", `{"schema":"sfsimAccountChangeEvent1","event":{"replayId":1001},"payload":{
		"ChangeEventHeader":{"entityName":"Account","recordIds":["001Hx0000000042IAA"],"changeType":"CREATE",
		"changeOrigin":"com/salesforce/api/rest/60.0;client=dataloader","transactionKey":"8f0f5d2a-0c55-4d7e-9b3e-2d6f1c3b9a07",
		"sequenceNumber":1,"commitTimestamp":1764866300456,"commitNumber":4000000007,"commitUser":"005Hx00000SimUsIAJ",
		"changedFields":[]},
		"Name":"Brennerei Alpenglück GmbH & Co. KG","Type":"Prospect","Phone":"+49 8821 730 55",
		"BillingAddress":{"Street":"Talstraße 7","City":"Garmisch-Partenkirchen","State":"Bayern",
		"PostalCode":"82467","Country":"Deutschland"},
		"OwnerId":"005Hx00000SimUsIAJ","CreatedDate":"2025-12-04T16:38:20.000Z","CreatedById":"005Hx00000SimUsIAJ",
		"LastModifiedDate":"2025-12-04T16:38:20.000Z","LastModifiedById":"005Hx00000SimUsIAJ"}}`},
}

func BenchmarkDecodeCometD(b *testing.B) {
	for _, ev := range cometdBenchEvents {
		raw := json.RawMessage(ev.data)
		b.Run(ev.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				changes, err := cdc.DecodeCometD(raw)
				if err != nil || len(changes) != 1 {
					b.Fatalf("DecodeCometD(%s) = %d changes, error %v; want 1 change", ev.name, len(changes), err)
				}
			}
		})
	}
}
