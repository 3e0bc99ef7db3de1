package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sfsim"
	"github.com/sfsap/sfsap/services/allinone"
	"github.com/sfsap/sfsap/test/natstest"
)

// Environment variables that size and steer the chaos test.
const (
	// envAccounts is the number of accounts converted. Defaults to 1000,
	// or 100 with -short.
	envAccounts = "SFSAP_CHAOS_ACCOUNTS"
	// envSeed replays a run: the seed decides every fault and its timing.
	// Defaults to the current time.
	envSeed = "SFSAP_CHAOS_SEED"
	// envSettle bounds the wait for every account's outcome after the
	// last fault, as a duration. Defaults to 6m.
	envSettle = "SFSAP_CHAOS_SETTLE"
	// envRace builds the services with the race detector when 1, without
	// when 0. Defaults to what the test binary was built with.
	envRace = "SFSAP_CHAOS_RACE"
)

// chaosConfig is the size and pace of one run.
type chaosConfig struct {
	accounts int
	seed     uint64
	settle   time.Duration
	race     bool
	// window is the time over which the conversions are spread, with
	// faults throughout.
	window time.Duration
}

func loadChaosConfig(t *testing.T) chaosConfig {
	t.Helper()
	c := chaosConfig{accounts: 1000, seed: uint64(time.Now().UnixNano()), settle: 6 * time.Minute, race: raceEnabled}
	if testing.Short() {
		c.accounts = 100
	}
	if v := os.Getenv(envAccounts); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number of accounts", envAccounts, v)
		}
		c.accounts = n
	}
	if v := os.Getenv(envSeed); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: want an unsigned integer", envSeed, v)
		}
		c.seed = n
	}
	if v := os.Getenv(envSettle); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("%s=%q: want a duration such as 6m", envSettle, v)
		}
		c.settle = d
	}
	switch os.Getenv(envRace) {
	case "1":
		c.race = true
	case "0":
		c.race = false
	}
	// About 16 conversions a second, and at least 20s of faults.
	c.window = max(20*time.Second, time.Duration(c.accounts)*time.Second/16)
	return c
}

// faultLog counts the faults injected, by kind.
type faultLog struct {
	mu     sync.Mutex
	counts map[string]int
}

func (f *faultLog) add(kind string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts[kind] += n
}

func (f *faultLog) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var parts []string
	for k, n := range f.counts {
		parts = append(parts, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// Converts accounts while services are killed and restarted, NATS
// restarts, SAP times out after commits and reports locks, and Salesforce
// rejects write-backs and sessions. Afterwards SAP must hold exactly one
// customer per written-back account and none twice, and every account
// must have its number in Salesforce or a dead letter with a reason.
func TestChaos(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the chaos test builds the services with the go command, which is not on PATH; install Go or add it to PATH")
	}
	cfg := loadChaosConfig(t)
	t.Logf("chaos seed=%d accounts=%d race=%v (replay with %s=%d)", cfg.seed, cfg.accounts, cfg.race, envSeed, cfg.seed)
	rng := rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x5f5a))
	started := time.Now()

	bins := serviceBinaries(t, cfg.race)
	t.Logf("service binaries built in %s", time.Since(started).Round(time.Second))
	sims, err := allinone.StartSimulators()
	if err != nil {
		t.Fatalf("starting simulators: %v", err)
	}
	t.Cleanup(sims.Close)
	server := natstest.StartProcess(t)
	logDir := t.TempDir()
	svcs := startServices(t, bins, logDir, serviceEnv(sims, server.URL))

	ids := createProspects(t, sims.Salesforce.Store(), cfg.accounts)
	faults := &faultLog{counts: map[string]int{}}

	// Restart crashed services, as a process supervisor would.
	superCtx, stopSuper := context.WithCancel(context.Background())
	var superWG sync.WaitGroup
	superWG.Go(func() { supervise(superCtx, svcs) })
	t.Cleanup(func() {
		stopSuper()
		superWG.Wait()
		for _, s := range svcs {
			s.signal(syscall.SIGKILL)
		}
	})

	// Convert the accounts while faults hit.
	chaosCtx, stopChaos := context.WithCancel(context.Background())
	var chaosWG sync.WaitGroup
	chaosWG.Go(func() {
		injectFaults(chaosCtx, t, rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())), cfg.window, svcs, server, sims, faults)
	})
	convertAll(t, sims.Salesforce.Store(), ids, cfg.window)
	stopChaos()
	chaosWG.Wait()
	for _, s := range svcs {
		if err := s.start(); err != nil {
			t.Fatalf("%v", err)
		}
	}
	converted := time.Now()
	t.Logf("converted %d accounts in %s; faults: %s", len(ids), converted.Sub(started).Round(time.Second), faults)

	nc, err := nats.Connect(server.URL, nats.MaxReconnects(-1))
	if err != nil {
		t.Fatalf("connecting to NATS: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}

	var out outcomes
	deadline := time.Now().Add(cfg.settle)
	for {
		out = collectOutcomes(t, sims, js, ids)
		if len(out.pending) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Second)
	}

	summary := fmt.Sprintf("chaos summary: seed=%d accounts=%d written_back=%d dead_lettered=%d pending=%d sap_customers=%d duplicates=%d\n"+
		"  faults: %s\n  processes: %s\n  conversions took %s, all outcomes %s later",
		cfg.seed, len(ids), out.writtenBack, len(out.deadLettered), len(out.pending), out.sapCustomers, len(out.duplicates),
		faults, processSummary(svcs), converted.Sub(started).Round(time.Second), time.Since(converted).Round(time.Second))
	t.Log(summary)
	if testing.Verbose() {
		fmt.Println(summary)
		for reason, n := range out.reasons {
			fmt.Printf("  dead-letter reason (%d): %s\n", n, reason)
		}
	}

	for _, d := range out.duplicates {
		t.Errorf("duplicate: %s", d)
	}
	for _, w := range out.wrong {
		t.Errorf("wrong number: %s", w)
	}
	if len(out.pending) > 0 {
		examples := out.pending[:min(10, len(out.pending))]
		t.Errorf("%d accounts have neither an SAP number in Salesforce nor a dead letter after %s, such as %v (seed %d)",
			len(out.pending), cfg.settle, examples, cfg.seed)
		for _, s := range svcs {
			t.Logf("last lines of %s:\n%s", s.name, s.tail(15))
		}
	}
	for _, s := range svcs {
		races, err := s.logLines("WARNING: DATA RACE")
		if err != nil {
			t.Errorf("reading the log of %s: %v", s.name, err)
		}
		if len(races) > 0 {
			t.Errorf("%s reported %d data races; see %s", s.name, len(races), s.logPath)
		}
	}
}

// serviceEnv returns the environment of every service process: the
// simulators, the NATS server and timings scaled down so that recovery
// from each fault takes seconds.
func serviceEnv(sims *allinone.Simulators, natsURL string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SFSAP_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"GORACE=halt_on_error=1",
		"SFSAP_HTTP_ADDR=",
		"SFSAP_LOG_LEVEL=info",
		"SFSAP_NATS_URL="+natsURL,
		"SFSAP_SALESFORCE_LOGIN_URL="+sims.Salesforce.URL(),
		"SFSAP_SALESFORCE_FLOW=client_credentials",
		"SFSAP_SALESFORCE_CLIENT_ID=sfsim-client",
		"SFSAP_SALESFORCE_CLIENT_SECRET=sfsim-secret",
		"SFSAP_SALESFORCE_REPLAY_PRESET=earliest",
		"SFSAP_SALESFORCE_PUBSUB_ADDR="+sims.PubSub.Addr(),
		"SFSAP_SALESFORCE_PUBSUB_CA_FILE="+sims.PubSubCAFile(),
		"SFSAP_SAP_URL="+sims.SAP.URL(),
		"SFSAP_SAP_USER=SFSAP_RFC",
		"SFSAP_SAP_PASSWORD=demo-only",
		"SFSAP_SAP_CLIENT=100",
		"SFSAP_SAP_TIMEOUT=4s",
		"SFSAP_TOPOLOGY_SAP_ACK_WAIT=4s",
		"SFSAP_TOPOLOGY_ACK_WAIT=4s",
		"SFSAP_SAPWORKER_CALL_TIMEOUT=3s",
		"SFSAP_SAPWORKER_LEASE=8s",
		"SFSAP_SAPWORKER_SETTLE=3s",
		"SFSAP_LISTENER_LEASE_TTL=3s",
		"SFSAP_LISTENER_RETRY_DELAY=500ms",
		"SFSAP_WRITEBACK_KEEP_ALIVE=1s",
		"SFSAP_RECONCILER_INTERVAL=2s",
		"SFSAP_RECONCILER_CLAIM_GRACE=10s",
		"SFSAP_RECONCILER_WRITEBACK_AFTER=30s",
		"SFSAP_RECONCILER_SWEEP_INTERVAL=15s",
		"SFSAP_RECONCILER_SWEEP_DELAY=20s",
		"SFSAP_RECONCILER_SWEEP_MARGIN=30s",
		"SFSAP_RECONCILER_STALL_AFTER=30s",
	)
}

// startServices starts one listener, one filter, two SAP workers, one
// writeback and one reconciler.
func startServices(t *testing.T, bins, logDir string, env []string) []*service {
	t.Helper()
	var svcs []*service
	for _, s := range []struct{ name, cmd string }{
		{"listener", "listener"}, {"filter", "filter"}, {"sapworker-1", "sapworker"},
		{"sapworker-2", "sapworker"}, {"writeback", "writeback"}, {"reconciler", "reconciler"},
	} {
		svc := &service{
			name: s.name, bin: filepath.Join(bins, s.cmd), logPath: filepath.Join(logDir, s.name+".log"),
			env: append(slices.Clone(env), "SFSAP_SAPWORKER_WORKER_ID="+s.name, "SFSAP_LISTENER_INSTANCE="+s.name),
		}
		if err := svc.start(); err != nil {
			t.Fatalf("%v", err)
		}
		svcs = append(svcs, svc)
	}
	return svcs
}

func supervise(ctx context.Context, svcs []*service) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, s := range svcs {
			if s.needsStart() {
				_ = s.start()
			}
		}
	}
}

// prospectTemplates are Account addresses the default mapping accepts.
var prospectTemplates = []map[string]any{
	{"BillingStreet": "2210 Lakeshore Drive", "BillingCity": "Madison", "BillingState": "WI", "BillingPostalCode": "53703", "BillingCountry": "USA"},
	{"BillingStreet": "Talstraße 7", "BillingCity": "Garmisch-Partenkirchen", "BillingState": "Bayern", "BillingPostalCode": "82467", "BillingCountry": "Deutschland"},
	{"BillingStreet": "88 King Street West", "BillingCity": "Toronto", "BillingState": "Ontario", "BillingPostalCode": "M5H 1J9", "BillingCountry": "Canada"},
}

func createProspects(t *testing.T, store *sfsim.Store, n int) []string {
	t.Helper()
	rep := sfsim.WriteOptions{User: salesRep}
	ids := make([]string, n)
	for i := range n {
		fields := map[string]any{"Name": fmt.Sprintf("Chaos Trading %05d", i), "Type": "Prospect"}
		for k, v := range prospectTemplates[i%len(prospectTemplates)] {
			fields[k] = v
		}
		id, err := store.Create(fields, rep)
		if err != nil {
			t.Fatalf("creating prospect %d: %v", i, err)
		}
		ids[i] = id
	}
	return ids
}

// convertAll turns every prospect into a customer, spread evenly over
// window.
func convertAll(t *testing.T, store *sfsim.Store, ids []string, window time.Duration) {
	t.Helper()
	rep := sfsim.WriteOptions{User: salesRep}
	start := time.Now()
	for i, id := range ids {
		if err := store.Update(id, map[string]any{"Type": "Customer"}, rep); err != nil {
			t.Fatalf("converting %s: %v", id, err)
		}
		due := start.Add(window * time.Duration(i+1) / time.Duration(len(ids)))
		time.Sleep(time.Until(due))
	}
}

// injectFaults injects a fault every 0.5 to 2.5s until ctx ends: it kills
// or stops a service and starts it again after up to 3.2s, or makes SAP or
// Salesforce fail. It also
// restarts the NATS server at a third of the window (graceful) and at two
// thirds (killed).
func injectFaults(ctx context.Context, t *testing.T, rng *rand.Rand, window time.Duration, svcs []*service,
	server *natstest.Process, sims *allinone.Simulators, faults *faultLog) {
	start := time.Now()
	natsRestarts := []struct {
		at  time.Duration
		sig syscall.Signal
	}{{window / 3, syscall.SIGTERM}, {2 * window / 3, syscall.SIGKILL}}

	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(500*time.Millisecond + time.Duration(rng.Int64N(int64(2*time.Second)))):
		}
		if len(natsRestarts) > 0 && time.Since(start) >= natsRestarts[0].at {
			sig := natsRestarts[0].sig
			natsRestarts = natsRestarts[1:]
			if err := server.Restart(sig); err != nil {
				t.Errorf("restarting NATS: %v", err)
				return
			}
			faults.add("nats_restart_"+strings.ToLower(sig.String()), 1)
			continue
		}
		switch n := rng.IntN(11); {
		case n < 4:
			// One stop in three is graceful, which must finish or release
			// the work in flight.
			s := svcs[rng.IntN(len(svcs))]
			if rng.IntN(3) == 0 {
				s.signal(syscall.SIGTERM)
				faults.add("stop_"+s.name, 1)
			} else {
				s.signal(syscall.SIGKILL)
				faults.add("kill_"+s.name, 1)
			}
			delay := 200*time.Millisecond + time.Duration(rng.IntN(3000))*time.Millisecond
			time.AfterFunc(delay, func() { _ = s.start() })
		case n < 6:
			k := 1 + rng.IntN(2)
			// The hold outlasts the workers' 3s call timeout.
			sims.SAP.InjectTimeoutAfterCommit(k, 5*time.Second)
			faults.add("sap_timeout_after_commit", k)
		case n < 8:
			k := 1 + rng.IntN(3)
			sims.SAP.InjectLockErrors(k)
			faults.add("sap_lock_error", k)
		case n < 10:
			k := 1 + rng.IntN(3)
			sims.Salesforce.Faults().Add(sfsim.Fault{
				Method: "PATCH", Times: k, ErrorCode: "UNABLE_TO_LOCK_ROW",
				Message: "unable to obtain exclusive access to this record or 1 records",
			})
			faults.add("sf_unable_to_lock_row", k)
		default:
			sims.Salesforce.ExpireTokens()
			faults.add("sf_expired_sessions", 1)
		}
	}
}

// outcomes is the state of every account after the run.
type outcomes struct {
	writtenBack  int
	deadLettered map[string]string
	reasons      map[string]int
	pending      []string
	duplicates   []string
	wrong        []string
	sapCustomers int
}

func collectOutcomes(t *testing.T, sims *allinone.Simulators, js jetstream.JetStream, ids []string) outcomes {
	t.Helper()
	out := outcomes{deadLettered: map[string]string{}, reasons: map[string]int{}}
	for id, reason := range deadLetters(t, js) {
		out.deadLettered[id] = reason
	}
	byRef := map[string][]string{}
	customers := sims.SAP.Customers()
	out.sapCustomers = len(customers)
	for _, c := range customers {
		byRef[strings.ToUpper(c.ExternalRef)] = append(byRef[strings.ToUpper(c.ExternalRef)], c.Number)
	}
	store := sims.Salesforce.Store()
	for _, id := range ids {
		numbers := byRef[strings.ToUpper(id)]
		if len(numbers) > 1 {
			out.duplicates = append(out.duplicates, fmt.Sprintf("account %s has SAP customers %v", id, numbers))
		}
		rec, _ := store.Get(id)
		sapID, _ := rec["SAP_ID__c"].(string)
		switch {
		case sapID != "":
			out.writtenBack++
			if !slices.Contains(numbers, sapID) {
				out.wrong = append(out.wrong, fmt.Sprintf("account %s has SAP number %s, but SAP has %v for it", id, sapID, numbers))
			}
		case out.deadLettered[id] != "":
			out.reasons[out.deadLettered[id]]++
		default:
			out.pending = append(out.pending, id)
		}
	}
	return out
}

// deadLetters returns the reason of the latest dead letter of each
// account.
func deadLetters(t *testing.T, js jetstream.JetStream) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := map[string]string{}
	s, err := js.Stream(ctx, bus.StreamDLQ)
	if err != nil {
		t.Logf("opening the dead-letter stream: %v", err)
		return out
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Logf("reading the dead-letter stream: %v", err)
		return out
	}
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Logf("reading dead letter %d: %v", seq, err)
			continue
		}
		var dl msg.DeadLetter
		if err := json.Unmarshal(m.Data, &dl); err == nil && dl.Reason != "" {
			out[dl.AccountID] = dl.Stage + ": " + dl.Reason
		}
	}
	return out
}

func processSummary(svcs []*service) string {
	var parts []string
	for _, s := range svcs {
		s.mu.Lock()
		part := fmt.Sprintf("%s started %d killed %d stopped %d exited %d", s.name, s.starts, s.kills, s.stops, len(s.unexpected))
		if s.stops > 0 {
			part += fmt.Sprintf(" (graceful stops took %s on average)", (s.stopTime / time.Duration(s.stops)).Round(time.Millisecond))
		}
		parts = append(parts, part)
		s.mu.Unlock()
	}
	return strings.Join(parts, "; ")
}
