package deploy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/sapsim"
	"github.com/sfsap/sfsap/pkg/sfid"
	"github.com/sfsap/sfsap/pkg/sfsim"
)

// probeAccount and probeAccount2 are the Account ids that permission
// probes use in subjects.
const (
	probeAccount  = "001Hx00000Probe1IAA"
	probeAccount2 = "001Hx00000Probe2IAA"
)

type permCase struct {
	name    string
	user    string
	allowed bool
	action  func(ctx context.Context, c *conn) error
}

func publishTo(subject string) func(context.Context, *conn) error {
	return func(ctx context.Context, c *conn) error {
		_, err := bus.Publish(ctx, c.js, subject, map[string]string{"probe": "permissions"}, "", nil)
		return err
	}
}

func openConsumer(stream, name string) func(context.Context, *conn) error {
	return func(ctx context.Context, c *conn) error {
		cons, err := c.js.Consumer(ctx, stream, name)
		if err != nil {
			return err
		}
		batch, err := cons.FetchNoWait(1)
		if err != nil {
			return err
		}
		for m := range batch.Messages() {
			// Hand the message back untouched for the rightful consumer.
			if err := m.Nak(); err != nil {
				return err
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return err
		}
		return nil
	}
}

func readKey(bucket string) func(context.Context, *conn) error {
	return func(ctx context.Context, c *conn) error {
		kv, err := c.js.KeyValue(ctx, bucket)
		if err != nil {
			return err
		}
		if _, err := kv.Get(ctx, probeAccount); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return err
		}
		return nil
	}
}

func writeKey(bucket string) func(context.Context, *conn) error {
	return func(ctx context.Context, c *conn) error {
		kv, err := c.js.KeyValue(ctx, bucket)
		if err != nil {
			return err
		}
		_, err = kv.PutString(ctx, probeAccount, "probe")
		return err
	}
}

func subscribeTo(subject string) func(context.Context, *conn) error {
	return func(_ context.Context, c *conn) error {
		_, err := c.nc.SubscribeSync(subject)
		return err
	}
}

func createStream(name, subject string) func(context.Context, *conn) error {
	return func(ctx context.Context, c *conn) error {
		_, err := c.js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{subject}})
		return err
	}
}

func deleteStream(name string) func(context.Context, *conn) error {
	return func(ctx context.Context, c *conn) error { return c.js.DeleteStream(ctx, name) }
}

func updateTopologyStream(name string) func(context.Context, *conn) error {
	return func(ctx context.Context, c *conn) error {
		for _, cfg := range (bus.Topology{}).Streams() {
			if cfg.Name == name {
				_, err := c.js.CreateOrUpdateStream(ctx, cfg)
				return err
			}
		}
		return fmt.Errorf("stream %s is not in the topology", name)
	}
}

// TestNATSPermissions connects as each user of deploy/nats/nats-server.conf
// and checks that it may do its own work and is refused the rest.
func TestNATSPermissions(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	h.provision(t)

	cases := []permCase{
		{"listener publishes change events", "listener", true, publishTo(bus.CDCSubject(probeAccount, "UPDATE"))},
		{"listener stores its replay position", "listener", true, writeKey(bus.BucketCheckpoint)},
		// A second account, since the job stream keeps one job per account.
		{"listener sweep queues create jobs", "listener", true, publishTo(bus.CreateJobSubject(probeAccount2))},
		{"listener consumes create jobs", "listener", false, openConsumer(bus.StreamSAPJobs, bus.ConsumerSAPWorker)},
		{"listener subscribes to create jobs", "listener", false, subscribeTo("sfsap.sap.create.>")},
		{"listener reads the ledger", "listener", false, readKey(bus.BucketLedger)},
		{"listener reads last Types", "listener", false, readKey(bus.BucketTypes)},
		{"listener subscribes to every reply", "listener", false, subscribeTo("_INBOX.>")},

		{"filter consumes change events", "filter", true, openConsumer(bus.StreamCDC, bus.ConsumerFilter)},
		{"filter stores last Types", "filter", true, writeKey(bus.BucketTypes)},
		{"filter queues create jobs", "filter", true, publishTo(bus.CreateJobSubject(probeAccount))},
		{"filter dead-letters its own stage", "filter", true, publishTo(bus.DeadLetterSubject(bus.StageFilter, probeAccount))},
		{"filter reads the ledger", "filter", false, readKey(bus.BucketLedger)},
		{"filter publishes change events", "filter", false, publishTo(bus.CDCSubject(probeAccount, "UPDATE"))},
		{"filter dead-letters another stage", "filter", false, publishTo(bus.DeadLetterSubject(bus.StageSAPWorker, probeAccount))},
		{"filter creates a stream", "filter", false, createStream("ROGUE", "rogue.>")},
		{"filter deletes a stream", "filter", false, deleteStream(bus.StreamCDC)},

		{"sapworker consumes create jobs", "sapworker", true, openConsumer(bus.StreamSAPJobs, bus.ConsumerSAPWorker)},
		{"sapworker writes the ledger", "sapworker", true, writeKey(bus.BucketLedger)},
		{"sapworker queues write-back jobs", "sapworker", true, publishTo(bus.WritebackSubject(probeAccount))},
		{"sapworker queues create jobs", "sapworker", false, publishTo(bus.CreateJobSubject(probeAccount))},
		{"sapworker publishes results", "sapworker", false, publishTo(bus.ResultSubject("synced", probeAccount))},
		{"sapworker consumes write-back jobs", "sapworker", false, openConsumer(bus.StreamWriteback, bus.ConsumerWriteback)},
		{"sapworker reads the replay position", "sapworker", false, readKey(bus.BucketCheckpoint)},
		{"sapworker subscribes to writeback replies", "sapworker", false, subscribeTo("_INBOX_writeback.>")},

		{"writeback consumes write-back jobs", "writeback", true, openConsumer(bus.StreamWriteback, bus.ConsumerWriteback)},
		{"writeback reads the ledger", "writeback", true, readKey(bus.BucketLedger)},
		{"writeback publishes results", "writeback", true, publishTo(bus.ResultSubject("synced", probeAccount))},
		{"writeback queues create jobs", "writeback", false, publishTo(bus.CreateJobSubject(probeAccount))},
		{"writeback consumes create jobs", "writeback", false, openConsumer(bus.StreamSAPJobs, bus.ConsumerSAPWorker)},
		{"writeback deletes the dead letters", "writeback", false, deleteStream(bus.StreamDLQ)},

		{"provisioner updates a stream", "provisioner", true, updateTopologyStream(bus.StreamCDC)},
		{"provisioner creates another stream", "provisioner", false, createStream("ROGUE", "rogue.>")},
		{"provisioner deletes a stream", "provisioner", false, deleteStream(bus.StreamCDC)},
		{"provisioner queues create jobs", "provisioner", false, publishTo(bus.CreateJobSubject(probeAccount))},
		{"provisioner reads the ledger", "provisioner", false, readKey(bus.BucketLedger)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := connect(t, h.clientURL, h.tlsDir, tc.user, h.passwords[tc.user], "")
			violation, err := c.try(tc.action)
			if tc.allowed {
				if err != nil || violation != "" {
					t.Fatalf("%s: error %v, violation %q; want it allowed", tc.name, err, violation)
				}
				return
			}
			if violation == "" {
				t.Fatalf("%s: no permission violation (error %v); want it refused", tc.name, err)
			}
		})
	}
}

func TestNATSRejectsWrongLogins(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	tests := []struct {
		name, user, password string
	}{
		{"wrong password", "filter", "not-the-password"},
		{"another user's password", "filter", h.passwords["writeback"]},
		{"unknown user", "admin", h.passwords["filter"]},
		// The leaf node's user exists, but only for leaf node connections
		// with its certificate.
		{"leaf user as a client", "CN=sfsap-leaf", ""},
	}
	for _, tt := range tests {
		nc, err := nats.Connect(h.clientURL, nats.UserInfo(tt.user, tt.password),
			nats.RootCAs(h.tlsDir+"/ca.crt"), nats.MaxReconnects(0))
		if err == nil {
			nc.Close()
			t.Errorf("%s: connecting as %q succeeded, want an authorization error", tt.name, tt.user)
		}
	}
}

// TestNATSUsersRunPipeline runs the four service binaries, each as its own
// NATS user with the topology made by the provisioner, against both
// simulators, and checks that a converted Account gets its SAP number
// without the server refusing anything.
func TestNATSUsersRunPipeline(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	h.provision(t)

	sf := sfsim.New(sfsim.Options{})
	sf.Handle("/cometd/", sfsim.NewCometD(sf.Store(), sfsim.CometDOptions{
		Authorize: func(r *http.Request) error {
			_, err := sf.CheckToken(r)
			return err
		},
	}))
	if err := sf.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sf.Close)
	sapSim := sapsim.New(sapsim.Options{User: "RFC_PIPE", Password: "sap-pw"})
	if err := sapSim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sapSim.Close() })

	secrets := t.TempDir()
	salesforceEnv := []string{
		"SFSAP_SALESFORCE_LOGIN_URL=" + sf.URL(),
		"SFSAP_SALESFORCE_CLIENT_ID=sfsim-client",
		"SFSAP_SALESFORCE_CLIENT_SECRET_FILE=" + writeSecret(t, secrets, "sf-secret", "sfsim-secret"),
	}
	extra := map[string][]string{
		"listener":  append([]string{"SFSAP_SALESFORCE_REPLAY_PRESET=earliest"}, salesforceEnv...),
		"filter":    salesforceEnv,
		"writeback": salesforceEnv,
		"sapworker": {
			"SFSAP_SAP_URL=" + sapSim.URL(),
			"SFSAP_SAP_CLIENT=100",
			"SFSAP_SAP_USER=RFC_PIPE",
			"SFSAP_SAP_PASSWORD_FILE=" + writeSecret(t, secrets, "sap-password", "sap-pw"),
			"SFSAP_SAPWORKER_SETTLE=2s",
		},
	}
	for _, name := range []string{"listener", "filter", "sapworker", "writeback"} {
		bin := buildBinary(t, "./services/"+name+"/cmd/"+name)
		httpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		env := append(h.serviceEnv(t, name), extra[name]...)
		env = append(env, "SFSAP_HTTP_ADDR="+httpAddr, "SFSAP_LOG_LEVEL=debug")
		p := startProcess(t, name, bin, nil, env)
		waitHTTP(t, p, "http://"+httpAddr+"/readyz")
	}

	rep, err := sfid.To18("005Hx00000RepUs")
	if err != nil {
		t.Fatal(err)
	}
	store := sf.Store()
	id, err := store.Create(map[string]any{
		"Name": "Harbourline Freight Services Ltd", "Type": "Prospect",
		"BillingStreet": "14 Quayside Road", "BillingCity": "Southampton",
		"BillingPostalCode": "SO14 3AB", "BillingCountry": "GB", "Phone": "+44 23 8055 0142",
	}, sfsim.WriteOptions{User: rep})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Update(id, map[string]any{"Type": account.DefaultCustomerTypes[0]}, sfsim.WriteOptions{User: rep}); err != nil {
		t.Fatal(err)
	}

	fields := account.DefaultFields()
	var rec map[string]any
	waitFor(t, 2*time.Minute, "the converted Account never got its SAP number", func() bool {
		rec, _ = store.Get(id)
		sapID, _ := rec[fields.SAPID].(string)
		return sapID != ""
	})
	if got := rec[fields.SyncStatus]; got != account.StatusSynced {
		t.Errorf("%s = %v, want %s", fields.SyncStatus, got, account.StatusSynced)
	}
	if n := sapSim.CountByExternalRef(id); n != 1 {
		t.Errorf("SAP customers for %s = %d, want 1", id, n)
	}
	if v := permissionViolations(h.proc); len(v) > 0 {
		t.Errorf("the server refused the services %d times; first: %s", len(v), v[0])
	}
}

// TestNATSConfigSyntax asks nats-server to check both configurations.
func TestNATSConfigSyntax(t *testing.T) {
	t.Parallel()
	natsBin := buildBinary(t, natsServerModule)
	tlsDir := makeCerts(t)
	env := []string{"NATS_HUB_LEAF_URL=tls://127.0.0.1:7422"}
	for _, u := range passwordUsers {
		env = append(env, passwordEnv(u)+"=x")
	}
	for _, conf := range []string{"deploy/nats/nats-server.conf", "deploy/nats/leaf.conf"} {
		path := render(t, conf, t.TempDir(), "/etc/nats/tls/", tlsDir+"/")
		cmd := exec.Command(natsBin, "-t", "-c", path)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("nats-server -t -c %s: %v\n%s", conf, err, out)
		}
	}

	// A missing password variable must stop the server rather than leave
	// a user without a password.
	missing := passwordEnv("filter")
	var partial []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, missing+"=") {
			partial = append(partial, kv)
		}
	}
	path := render(t, "deploy/nats/nats-server.conf", t.TempDir(), "/etc/nats/tls/", tlsDir+"/")
	cmd := exec.Command(natsBin, "-t", "-c", path)
	cmd.Env = partial
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("nats-server -t accepted the configuration without %s:\n%s", missing, out)
	}
}
