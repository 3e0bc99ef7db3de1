package sapworker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/msg"
)

func TestCorruptLedgerEntryIsParked(t *testing.T) {
	t.Parallel()
	b := setup(t, bus.Topology{SAPAckWait: time.Second, MaxDeliver: 5})
	id := accountID(t, 21)
	kv := b.nats.KV(t, bus.BucketLedger)
	if _, err := kv.Put(context.Background(), id, []byte("garbage{")); err != nil {
		t.Fatal(err)
	}
	b.start(t, fastConfig("w1"))
	b.publishJob(t, validAccount(id), msg.ReasonConversion)

	waitFor(t, "a dead letter", func() bool { return len(b.deadLetters(t, id)) == 1 })
	dl := b.deadLetters(t, id)[0]
	if !strings.Contains(dl.Reason, "cannot be decoded") || !strings.Contains(dl.Reason, id) {
		t.Errorf("dead letter reason %q, want it to name the unreadable entry and the account", dl.Reason)
	}
	if n := b.sim.Calls("Z_SFSAP_CUSTOMER_CREATE"); n != 0 {
		t.Errorf("SAP got %d creates, want none without a readable ledger entry", n)
	}
	waitFor(t, "the job gone from the queue", func() bool { return len(b.messages(t, bus.StreamSAPJobs, "")) == 0 })
}
