package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sapsim"
	"github.com/sfsap/sfsap/pkg/sfid"
)

// leaf is a nats-server process running deploy/nats/leaf.conf.
type leaf struct {
	proc       *process
	clientURL  string
	monitorURL string
	password   string
}

// startLeaf starts the on-premise leaf node, connecting out to h with the
// client certificate named certName (sfsap-leaf is the one the hub maps).
// Further replacements change the configuration for a test.
func startLeaf(t *testing.T, h *hub, certName string, replacements ...string) *leaf {
	t.Helper()
	dir := t.TempDir()
	clientPort, monitorPort := freePort(t), freePort(t)
	conf := render(t, "deploy/nats/leaf.conf", dir, append([]string{
		"0.0.0.0:4222", fmt.Sprintf("127.0.0.1:%d", clientPort),
		"0.0.0.0:8222", fmt.Sprintf("127.0.0.1:%d", monitorPort),
		"/etc/nats/tls/sfsap-leaf.", h.tlsDir + "/" + certName + ".",
		"/etc/nats/tls/", h.tlsDir + "/",
	}, replacements...)...)
	l := &leaf{
		clientURL:  fmt.Sprintf("tls://127.0.0.1:%d", clientPort),
		monitorURL: fmt.Sprintf("http://127.0.0.1:%d", monitorPort),
		password:   randomPassword(t),
	}
	env := []string{
		"NATS_HUB_LEAF_URL=" + h.leafURL,
		passwordEnv("sapworker") + "=" + l.password,
	}
	l.proc = startProcess(t, "nats leaf", buildBinary(t, natsServerModule), []string{"-c", conf}, env)
	waitHTTP(t, l.proc, l.monitorURL+"/healthz")
	return l
}

// leafCount returns the number of leaf nodes connected to the server
// whose monitoring endpoint is monitorURL.
func leafCount(t *testing.T, monitorURL string) int {
	t.Helper()
	resp, err := http.Get(monitorURL + "/leafz")
	if err != nil {
		t.Fatalf("GET %s/leafz: %v", monitorURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var leafz struct {
		Leafs int `json:"leafnodes"`
	}
	if err := json.Unmarshal(body, &leafz); err != nil {
		t.Fatalf("decoding /leafz %s: %v", body, err)
	}
	return leafz.Leafs
}

// TestLeafNodeSAPWorker runs the SAP worker binary against the on-premise
// leaf node, which only dials out to the hub. A create job published at
// the hub must come back as a write-back job at the hub, with the customer
// created in SAP.
func TestLeafNodeSAPWorker(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	h.provision(t)
	l := startLeaf(t, h, "sfsap-leaf")
	waitFor(t, time.Minute, "the leaf node never connected to the hub", func() bool {
		return leafCount(t, h.monitorURL) == 1
	})

	sapSim := sapsim.New(sapsim.Options{User: "RFC_LEAF", Password: "sap-pw"})
	if err := sapSim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sapSim.Close() })

	// The worker connects to the leaf with the leaf's own user and
	// reaches the hub's JetStream through its domain.
	httpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	env := []string{
		"SFSAP_NATS_URL=" + l.clientURL,
		"SFSAP_NATS_USER=sapworker",
		"SFSAP_NATS_PASSWORD_FILE=" + writeSecret(t, t.TempDir(), "nats-password", l.password),
		"SFSAP_NATS_CA_FILE=" + filepath.Join(h.tlsDir, "ca.crt"),
		"SFSAP_NATS_INBOX_PREFIX=_INBOX_sapworker",
		"SFSAP_NATS_SKIP_TOPOLOGY=true",
		"SFSAP_NATS_DOMAIN=hub",
		"SFSAP_SAP_URL=" + sapSim.URL(),
		"SFSAP_SAP_CLIENT=100",
		"SFSAP_SAP_USER=RFC_LEAF",
		"SFSAP_SAP_PASSWORD=sap-pw",
		"SFSAP_HTTP_ADDR=" + httpAddr,
		"SFSAP_LOG_LEVEL=debug",
	}
	worker := startProcess(t, "sapworker", buildBinary(t, "./services/sapworker/cmd/sapworker"), nil, env)
	waitHTTP(t, worker, "http://"+httpAddr+"/readyz")

	// At the hub: the filter's user queues the job, the writeback's user
	// receives the outcome.
	accountID, err := sfid.To18("001Hx00000LeafA")
	if err != nil {
		t.Fatal(err)
	}
	filter := connect(t, h.clientURL, h.tlsDir, "filter", h.passwords["filter"], "")
	job := msg.CreateJob{
		Schema:    msg.SchemaCreateJob,
		AccountID: accountID,
		Account: account.Account{
			ID: accountID, Name: "Edge Robotics GmbH", Type: "Customer",
			BillingStreet: "Hafenstraße 12", BillingCity: "Hamburg", BillingPostalCode: "20457",
			BillingCountry: "Germany",
		},
		Reason:        msg.ReasonConversion,
		CorrelationID: "leaf-test",
		RequestedAt:   time.Now().UTC(),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := bus.Publish(ctx, filter.js, bus.CreateJobSubject(accountID), job, "", nats.Header{}); err != nil {
		t.Fatalf("publishing the create job at the hub: %v", err)
	}

	writeback := connect(t, h.clientURL, h.tlsDir, "writeback", h.passwords["writeback"], "")
	cons, err := writeback.js.Consumer(ctx, bus.StreamWriteback, bus.ConsumerWriteback)
	if err != nil {
		t.Fatalf("opening the write-back consumer at the hub: %v", err)
	}
	var wb msg.WritebackJob
	for wb.AccountID == "" {
		if ctx.Err() != nil {
			t.Fatalf("no write-back job reached the hub")
		}
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatalf("fetching write-back jobs: %v", err)
		}
		for m := range batch.Messages() {
			if err := json.Unmarshal(m.Data(), &wb); err != nil {
				t.Fatalf("decoding write-back job %s: %v", m.Data(), err)
			}
			if err := m.Ack(); err != nil {
				t.Fatal(err)
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, nats.ErrTimeout) {
			t.Fatalf("fetching write-back jobs: %v", err)
		}
	}

	if wb.AccountID != accountID || wb.Status != account.StatusSynced || wb.SAPCustomer == "" {
		t.Fatalf("write-back job = %+v, want account %s synced with an SAP number", wb, accountID)
	}
	customers := sapSim.Customers()
	if len(customers) != 1 {
		t.Fatalf("SAP simulator holds %d customers, want 1", len(customers))
	}
	if got := sap.NormalizeCustomerNo(customers[0].Number); got != wb.SAPCustomer {
		t.Errorf("SAP customer number = %s, write-back job carries %s", got, wb.SAPCustomer)
	}
	for _, p := range []*process{h.proc, l.proc} {
		if v := permissionViolations(p); len(v) > 0 {
			t.Errorf("%s refused the worker's traffic %d times; first: %s", p.name, len(v), v[0])
		}
	}
}

// TestLeafNodeNeedsMappedCertificate starts a leaf node with a client
// certificate that the hub's CA signed but no user matches: the hub must
// reject it.
func TestLeafNodeNeedsMappedCertificate(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	l := startLeaf(t, h, "intruder")

	waitFor(t, time.Minute, "the leaf node never reported a rejected connection", func() bool {
		return strings.Contains(l.proc.out.String(), "Authorization Violation")
	})
	if n := leafCount(t, h.monitorURL); n != 0 {
		t.Fatalf("hub accepted %d leaf nodes with an unmapped certificate, want 0", n)
	}
}

// TestLeafNodeHubLimitsTraffic starts a leaf node whose local user may do
// anything, as a careless change on premise could leave it. The hub must
// still refuse everything but the SAP worker's subjects, because it
// applies the permissions of the leaf node's own user.
func TestLeafNodeHubLimitsTraffic(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	h.provision(t)
	l := startLeaf(t, h, "sfsap-leaf",
		"allow: [\n", "allow: [\n      \">\"\n",
		`subscribe: { allow: ["_INBOX_sapworker.>"] }`, `subscribe: { allow: [">"] }`)
	waitFor(t, time.Minute, "the leaf node never connected to the hub", func() bool {
		return leafCount(t, h.monitorURL) == 1
	})
	c := connect(t, l.clientURL, h.tlsDir, "sapworker", l.password, "hub")

	// The worker's own consumer stays reachable, which shows the link works.
	if _, err := c.try(openConsumer(bus.StreamSAPJobs, bus.ConsumerSAPWorker)); err != nil {
		t.Fatalf("opening the SAP job consumer through the leaf: %v", err)
	}
	refused := []struct {
		name   string
		action func(context.Context, *conn) error
	}{
		{"queue a create job", publishTo(bus.CreateJobSubject(probeAccount))},
		{"publish a result", publishTo(bus.ResultSubject("synced", probeAccount))},
		{"consume change events", openConsumer(bus.StreamCDC, bus.ConsumerFilter)},
		{"read the replay position", readKey(bus.BucketCheckpoint)},
		{"delete the dead letters", deleteStream(bus.StreamDLQ)},
	}
	for _, tt := range refused {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := tt.action(ctx, c)
		cancel()
		if err == nil {
			t.Errorf("%s through an unrestricted leaf = nil error, want it refused at the hub", tt.name)
		}
	}

	// Nothing reached the hub's streams.
	admin := connect(t, h.clientURL, h.tlsDir, "provisioner", h.passwords["provisioner"], "")
	for _, name := range []string{bus.StreamSAPJobs, bus.StreamResults, bus.StreamDLQ} {
		stream, err := admin.js.Stream(context.Background(), name)
		if err != nil {
			t.Fatalf("reading stream %s at the hub: %v", name, err)
		}
		if n := stream.CachedInfo().State.Msgs; n != 0 {
			t.Errorf("stream %s holds %d messages, want 0", name, n)
		}
	}
}
