// Package cases runs the reported Salesforce failure cases against the
// whole pipeline: both simulators over their real protocols and a real
// NATS server.
package cases

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sapsim"
	"github.com/sfsap/sfsap/pkg/sfsim"
	"github.com/sfsap/sfsap/services/allinone"
)

// waitLimit bounds how long a test waits for an outcome before it fails
// instead of hanging. It is a guard, not a latency requirement.
const waitLimit = 60 * time.Second

// SAP simulator credentials of these tests.
const (
	sapUser     = "SFSAP_TEST"
	sapPassword = "test-only"
)

// salesRep is the user of edits made in the Salesforce UI.
const salesRep = "005Hx00000RepUsIAA"

// org is the two simulators and the pipeline between them.
type org struct {
	sf       *sfsim.Server
	sap      *sapsim.Server
	faults   *sfsim.CometDFaults
	pipeline *allinone.Pipeline
	cfg      config.Config
	// beforeRun, if set, runs after the pipeline is built and before its
	// services start, for example to store a checkpoint.
	beforeRun func(p *allinone.Pipeline)
}

// newOrg starts both simulators and builds the pipeline; start runs it.
// tweak changes the configuration first, and sfOpts the Salesforce
// simulator's options.
func newOrg(t *testing.T, sfOpts sfsim.Options, tweak func(*config.Config)) *org {
	t.Helper()
	o := &org{faults: &sfsim.CometDFaults{}}
	o.sf = sfsim.New(sfOpts)
	o.sf.Handle("/cometd/", sfsim.NewCometD(o.sf.Store(), sfsim.CometDOptions{
		ConnectTimeout: 2 * time.Second,
		Faults:         o.faults,
		Authorize: func(r *http.Request) error {
			_, err := o.sf.CheckToken(r)
			return err
		},
	}))
	if err := o.sf.Start(""); err != nil {
		t.Fatalf("starting Salesforce simulator: %v", err)
	}
	t.Cleanup(o.sf.Close)
	o.sap = sapsim.New(sapsim.Options{User: sapUser, Password: sapPassword})
	if err := o.sap.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("starting SAP simulator: %v", err)
	}
	t.Cleanup(func() { _ = o.sap.Close() })

	cfg, err := config.Load("", []string{"X=1"})
	if err != nil {
		t.Fatalf("loading default config: %v", err)
	}
	cfg.Salesforce.LoginURL = o.sf.URL()
	cfg.Salesforce.Flow = "client_credentials"
	cfg.Salesforce.ClientID, cfg.Salesforce.ClientSecret = "sfsim-client", "sfsim-secret"
	cfg.Salesforce.ReplayPreset = "earliest"
	// These cases exercise the Streaming API; the Pub/Sub API has its own
	// tests in pkg/pubsub and test/e2e.
	cfg.Salesforce.Transport = config.TransportCometD
	cfg.Listener.Checkpoint = "cometd.AccountChangeEvent"
	cfg.SAP.URL, cfg.SAP.User, cfg.SAP.Password, cfg.SAP.Client = o.sap.URL(), sapUser, sapPassword, "100"
	cfg.NATS.StoreDir = t.TempDir()
	cfg.SAPWorker.Settle = time.Second
	// A short AckWait keeps redeliveries of unacknowledged messages quick.
	cfg.Topology.AckWait = time.Second
	cfg.Writeback.RetryBase = 100 * time.Millisecond
	cfg.Listener.LeaseTTL = 2 * time.Second
	cfg.Listener.Poll.Interval = 100 * time.Millisecond
	if tweak != nil {
		tweak(&cfg)
	}
	o.cfg = cfg
	return o
}

func (o *org) start(t *testing.T) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	p, err := allinone.Start(ctx, o.cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("starting pipeline: %v", err)
	}
	o.pipeline = p
	if o.beforeRun != nil {
		o.beforeRun(p)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.Run(ctx); err != nil {
			t.Errorf("pipeline stopped with error: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		p.Close()
	})
}

// prospect creates an Account with a valid billing address as a sales
// rep would.
func (o *org) prospect(t *testing.T, name string, extra map[string]any) string {
	t.Helper()
	fields := map[string]any{
		"Name": name, "Type": "Prospect", "BillingStreet": "14 Quayside Road",
		"BillingCity": "Southampton", "BillingPostalCode": "SO14 3AB", "BillingCountry": "GB",
		"Phone": "+44 23 8055 0142",
	}
	for k, v := range extra {
		fields[k] = v
	}
	id, err := o.sf.Store().Create(fields, sfsim.WriteOptions{User: salesRep})
	if err != nil {
		t.Fatalf("Store.Create: %v", err)
	}
	return id
}

func (o *org) convert(t *testing.T, id string) {
	t.Helper()
	if err := o.sf.Store().Update(id, map[string]any{"Type": "Customer - Direct"}, sfsim.WriteOptions{User: salesRep}); err != nil {
		t.Fatalf("Store.Update(%s): %v", id, err)
	}
}

// result waits for the first sync outcome of an Account.
func (o *org) result(t *testing.T, id string) msg.Result {
	t.Helper()
	var r msg.Result
	eventually(t, "an outcome for "+id, func() bool {
		for _, res := range o.results(t) {
			if res.AccountID == id {
				r = res
				return true
			}
		}
		return false
	})
	return r
}

func (o *org) results(t *testing.T) []msg.Result {
	t.Helper()
	var out []msg.Result
	for _, m := range streamMessages(t, o.pipeline.JS, bus.StreamResults) {
		var r msg.Result
		if err := json.Unmarshal(m.Data, &r); err != nil {
			t.Fatalf("decoding result: %v", err)
		}
		out = append(out, r)
	}
	return out
}

func (o *org) deadLetters(t *testing.T) []msg.DeadLetter {
	t.Helper()
	var out []msg.DeadLetter
	for _, m := range streamMessages(t, o.pipeline.JS, bus.StreamDLQ) {
		var d msg.DeadLetter
		if err := json.Unmarshal(m.Data, &d); err != nil {
			t.Fatalf("decoding dead letter: %v", err)
		}
		out = append(out, d)
	}
	return out
}

// field returns a field of the Account in the simulated org.
func (o *org) field(t *testing.T, id, name string) any {
	t.Helper()
	rec, ok := o.sf.Store().Get(id)
	if !ok {
		t.Fatalf("Account %s not found", id)
	}
	return rec[name]
}

// synced waits until the Account has its SAP number and checks that SAP
// holds exactly one customer for it.
func (o *org) synced(t *testing.T, id string) string {
	t.Helper()
	eventually(t, "the SAP number on "+id, func() bool { return o.field(t, id, "SAP_ID__c") != nil })
	if n := o.sap.CountByExternalRef(id); n != 1 {
		t.Errorf("SAP customers for %s = %d, want 1", id, n)
	}
	no, _ := o.field(t, id, "SAP_ID__c").(string)
	return no
}

func streamMessages(t *testing.T, js jetstream.JetStream, stream string) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("opening stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("stream %s info: %v", stream, err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		if m, err := s.GetMsg(ctx, seq); err == nil {
			out = append(out, m)
		}
	}
	return out
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
