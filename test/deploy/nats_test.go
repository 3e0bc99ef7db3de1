package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/ledger"
	"github.com/sfsap/sfsap/pkg/sapsim"
	"github.com/sfsap/sfsap/pkg/sfid"
	"github.com/sfsap/sfsap/pkg/sfsim"
	"github.com/sfsap/sfsap/services/listener"
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

func writeNamedKey(bucket, key string) func(context.Context, *conn) error {
	return func(ctx context.Context, c *conn) error {
		kv, err := c.js.KeyValue(ctx, bucket)
		if err != nil {
			return err
		}
		_, err = kv.PutString(ctx, key, "probe")
		return err
	}
}

// readMsg reads the first message of a stream by sequence. For an empty
// stream the server returns "not found", which still shows the request
// was allowed.
func readMsg(stream string) func(context.Context, *conn) error {
	return func(ctx context.Context, c *conn) error {
		st, err := c.js.Stream(ctx, stream)
		if err != nil {
			return err
		}
		if _, err := st.GetMsg(ctx, 1); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return err
		}
		return nil
	}
}

// deleteMsg deletes a message that does not exist. Any response shows the
// request was allowed, since the server drops a refused request and its
// context then ends.
func deleteMsg(stream string) func(context.Context, *conn) error {
	return func(ctx context.Context, c *conn) error {
		st, err := c.js.Stream(ctx, stream)
		if err != nil {
			return err
		}
		if err := st.DeleteMsg(ctx, 1<<40); err != nil && ctx.Err() != nil {
			return err
		}
		return nil
	}
}

// takeLease opens the lease bucket the provisioner created and takes a
// lease, as the listener does at start.
func takeLease(ctx context.Context, c *conn) error {
	kv, err := c.js.KeyValue(ctx, listener.LeaseBucket)
	if err != nil {
		return err
	}
	_, err = kv.Create(ctx, "probe", []byte("probe"))
	return err
}

// createLeases creates or changes the lease bucket's stream, which only
// the provisioner may do: a stream update could add sources that copy
// other streams into it.
func createLeases(ctx context.Context, c *conn) error {
	kv, err := c.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: listener.LeaseBucket, History: 1, TTL: 15 * time.Second, Storage: jetstream.FileStorage,
	})
	if err != nil {
		return err
	}
	_, err = kv.Create(ctx, "probe", []byte("probe"))
	return err
}

func listLedger(ctx context.Context, c *conn) error {
	kv, err := c.js.KeyValue(ctx, bus.BucketLedger)
	if err != nil {
		return err
	}
	_, err = ledger.New(kv).List(ctx)
	return err
}

func consumerInfo(stream, name string) func(context.Context, *conn) error {
	return func(ctx context.Context, c *conn) error {
		_, err := c.js.Consumer(ctx, stream, name)
		return err
	}
}

func deleteConsumer(stream, name string) func(context.Context, *conn) error {
	return func(ctx context.Context, c *conn) error { return c.js.DeleteConsumer(ctx, stream, name) }
}

// createNotifierConsumer creates a consumer on the audit trail as the
// notifier does for each sink.
func createNotifierConsumer(name string) func(context.Context, *conn) error {
	return func(ctx context.Context, c *conn) error {
		_, err := c.js.CreateOrUpdateConsumer(ctx, bus.StreamResults, jetstream.ConsumerConfig{
			Durable:        name,
			AckPolicy:      jetstream.AckExplicitPolicy,
			FilterSubjects: []string{"sfsap.result.failed.*", "sfsap.result.writeback_failed.*"},
		})
		return err
	}
}

// readOrdered reads a stream through an ordered consumer, as sfsapctl
// does.
func readOrdered(stream string) func(context.Context, *conn) error {
	return func(ctx context.Context, c *conn) error {
		cons, err := c.js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
		if err != nil {
			return err
		}
		batch, err := cons.Fetch(10, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return err
		}
		for range batch.Messages() {
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) {
			return err
		}
		return nil
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
		// The sweep skips accounts whose last-seen Type shows the filter
		// has decided on them.
		{"listener sweep reads last Types", "listener", true, readKey(bus.BucketTypes)},
		{"listener subscribes to every reply", "listener", false, subscribeTo("_INBOX.>")},

		{"filter consumes change events", "filter", true, openConsumer(bus.StreamCDC, bus.ConsumerFilter)},
		{"filter stores last Types", "filter", true, writeKey(bus.BucketTypes)},
		{"filter queues create jobs", "filter", true, publishTo(bus.CreateJobSubject(probeAccount))},
		{"filter dead-letters its own stage", "filter", true, publishTo(bus.DeadLetterSubject(bus.StageFilter, probeAccount))},
		{"filter releases a fixed account", "filter", true, writeKey(bus.BucketLedger)},
		{"filter reads the replay position", "filter", false, readKey(bus.BucketCheckpoint)},
		{"filter consumes create jobs", "filter", false, openConsumer(bus.StreamSAPJobs, bus.ConsumerSAPWorker)},
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

		{"reconciler reads a work message", "reconciler", true, readMsg(bus.StreamSAPJobs)},
		{"reconciler deletes a work message", "reconciler", true, deleteMsg(bus.StreamWriteback)},
		{"reconciler lists the ledger", "reconciler", true, listLedger},
		{"reconciler checks the filter consumer", "reconciler", true, consumerInfo(bus.StreamCDC, bus.ConsumerFilter)},
		{"reconciler moves dead letters", "reconciler", true, openConsumer(bus.StreamAdvisories, bus.ConsumerDLQMover)},
		{"reconciler stores its sweep position", "reconciler", true, writeNamedKey(bus.BucketCheckpoint, "reconciler.sweep")},
		{"reconciler sweep reads last Types", "reconciler", true, readKey(bus.BucketTypes)},
		{"reconciler stores last Types", "reconciler", false, writeKey(bus.BucketTypes)},
		{"reconciler overwrites the replay position", "reconciler", false, writeKey(bus.BucketCheckpoint)},
		{"reconciler consumes change events", "reconciler", false, openConsumer(bus.StreamCDC, bus.ConsumerFilter)},
		{"reconciler publishes change events", "reconciler", false, publishTo(bus.CDCSubject(probeAccount, "UPDATE"))},
		{"reconciler deletes dead letters", "reconciler", false, deleteMsg(bus.StreamDLQ)},

		{"notifier creates its consumer", "notifier", true, createNotifierConsumer("notifier-slack")},
		{"notifier creates another consumer", "notifier", false, createNotifierConsumer("rogue")},
		{"notifier reads the ledger", "notifier", false, readKey(bus.BucketLedger)},
		{"notifier queues create jobs", "notifier", false, publishTo(bus.CreateJobSubject(probeAccount))},

		{"operator reads dead letters", "operator", true, readOrdered(bus.StreamDLQ)},
		{"operator reads the audit trail", "operator", true, readOrdered(bus.StreamResults)},
		{"operator lists the ledger", "operator", true, listLedger},
		{"operator replays change events", "operator", true, publishTo(bus.CDCSubject(probeAccount, "UPDATE"))},
		{"operator deletes a dead letter", "operator", true, deleteMsg(bus.StreamDLQ)},
		{"operator pulls the SAP worker's jobs", "operator", false, openConsumer(bus.StreamSAPJobs, bus.ConsumerSAPWorker)},
		{"operator deletes the filter consumer", "operator", false, deleteConsumer(bus.StreamCDC, bus.ConsumerFilter)},
		{"operator deletes a stream", "operator", false, deleteStream(bus.StreamResults)},
		{"operator deletes a work message", "operator", false, deleteMsg(bus.StreamSAPJobs)},
		{"operator publishes results", "operator", false, publishTo(bus.ResultSubject("synced", probeAccount))},

		{"listener takes its lease", "listener", true, takeLease},
		{"listener changes the lease bucket", "listener", false, createLeases},
		{"filter takes the listener lease", "filter", false, takeLease},

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

// TestNATSUsersRunPipeline runs the service binaries, each as its own
// NATS user with the topology made by the provisioner, against both
// simulators and a webhook receiver. A converted Account must get its SAP
// number and a notification, sfsapctl must show its journey, and the
// server must refuse nothing on the way.
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
	hooks := make(chan string, 16)
	webhook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case hooks <- string(body):
		default:
		}
	}))
	t.Cleanup(webhook.Close)

	secrets := t.TempDir()
	salesforceEnv := []string{
		"SFSAP_SALESFORCE_LOGIN_URL=" + sf.URL(),
		"SFSAP_SALESFORCE_CLIENT_ID=sfsim-client",
		"SFSAP_SALESFORCE_CLIENT_SECRET_FILE=" + writeSecret(t, secrets, "sf-secret", "sfsim-secret"),
	}
	extra := map[string][]string{
		// The simulator serves change events over CometD, and the default
		// Pub/Sub transport would dial Salesforce's own endpoint.
		"listener":   append([]string{"SFSAP_SALESFORCE_REPLAY_PRESET=earliest", "SFSAP_SALESFORCE_TRANSPORT=cometd"}, salesforceEnv...),
		"filter":     salesforceEnv,
		"writeback":  salesforceEnv,
		"reconciler": append([]string{"SFSAP_RECONCILER_INTERVAL=1s", "SFSAP_RECONCILER_SWEEP_INTERVAL=2s"}, salesforceEnv...),
		"sapworker": {
			"SFSAP_SAP_URL=" + sapSim.URL(),
			"SFSAP_SAP_CLIENT=100",
			"SFSAP_SAP_USER=RFC_PIPE",
			"SFSAP_SAP_PASSWORD_FILE=" + writeSecret(t, secrets, "sap-password", "sap-pw"),
			"SFSAP_SAPWORKER_SETTLE=2s",
		},
		"notifier": {
			"SFSAP_NOTIFIER_SLACK_WEBHOOK_URL=" + webhook.URL + "/hook",
			"SFSAP_NOTIFIER_NOTIFY=all",
		},
	}
	for _, name := range []string{"listener", "filter", "sapworker", "writeback", "reconciler", "notifier"} {
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
	select {
	case body := <-hooks:
		if !strings.Contains(body, id) {
			t.Errorf("notification %s does not name account %s", body, id)
		}
	case <-time.After(time.Minute):
		t.Errorf("no notification reached the webhook")
	}

	// The operator's tool reads every stream and the ledger.
	ctl := buildBinary(t, "./services/operator/cmd/sfsapctl")
	for _, args := range [][]string{{"journey", id}, {"dlq", "list"}, {"audit", "--account", id}} {
		cmd := exec.Command(ctl, append([]string{"--timeout", "30s"}, args...)...)
		cmd.Env = h.serviceEnv(t, "operator")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("sfsapctl %s as operator: %v\n%s", strings.Join(args, " "), err, out)
		}
		if args[0] == "journey" && !strings.Contains(string(out), fmt.Sprint(rec[fields.SAPID])) {
			t.Errorf("sfsapctl journey %s does not show SAP customer %v:\n%s", id, rec[fields.SAPID], out)
		}
	}

	// Give the reconciler (interval 1s) time for more passes over the
	// ledger before the server log is checked.
	time.Sleep(2 * time.Second)
	if v := permissionViolations(h.proc); len(v) > 0 {
		t.Errorf("the server refused the services %d times; first: %s", len(v), v[0])
	}
}

// TestNATSConfigSyntax checks both configurations with nats-server -t.
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
