package allinone

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sapsim"
	"github.com/sfsap/sfsap/pkg/sfid"
	"github.com/sfsap/sfsap/pkg/sfsim"
)

//go:embed demodata/accounts.json
var demoAccounts []byte

// Demo credentials of the simulators. They exist only inside this process.
const (
	demoSAPUser     = "SFSAP_RFC"
	demoSAPPassword = "demo-only"
)

// salesRep is the user the demo's edits are attributed to, as if a sales
// rep changed the Accounts in the Salesforce UI.
var salesRep = must18("005Hx00000RepUs")

// Simulators are both simulators on loopback.
type Simulators struct {
	Salesforce *sfsim.Server
	// PubSub serves the Salesforce Pub/Sub API over gRPC with TLS, on its
	// own port as Salesforce does; its CA certificate is in caFile.
	PubSub *sfsim.PubSub
	SAP    *sapsim.Server
	dir    string
	caFile string
}

// StartSimulators starts the Salesforce simulator (REST, OAuth, SOAP login,
// CometD and the Pub/Sub API) and the SAP simulator on random loopback
// ports.
func StartSimulators() (sims *Simulators, err error) {
	s := &Simulators{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.dir, err = os.MkdirTemp("", "sfsap-sims-"); err != nil {
		return nil, err
	}
	sf := sfsim.New(sfsim.Options{})
	sf.Handle("/cometd/", sfsim.NewCometD(sf.Store(), sfsim.CometDOptions{
		Authorize: func(r *http.Request) error {
			_, err := sf.CheckToken(r)
			return err
		},
	}))
	s.Salesforce = sf
	if err := sf.Start("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("starting Salesforce simulator: %w", err)
	}
	ps, err := sfsim.NewPubSub(sf.Store(), sfsim.PubSubOptions{Authorize: sf.AuthorizePubSub})
	if err != nil {
		return nil, fmt.Errorf("creating Pub/Sub API simulator: %w", err)
	}
	s.PubSub = ps
	if err := ps.Start("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("starting Pub/Sub API simulator: %w", err)
	}
	s.caFile = filepath.Join(s.dir, "pubsub-ca.pem")
	if err := os.WriteFile(s.caFile, ps.CAPEM(), 0o600); err != nil {
		return nil, err
	}
	s.SAP = sapsim.New(sapsim.Options{User: demoSAPUser, Password: demoSAPPassword})
	if err := s.SAP.Start("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("starting SAP simulator: %w", err)
	}
	return s, nil
}

// PubSubCAFile returns the path of the PEM file with the Pub/Sub API
// simulator's CA certificate, for clients that run in other processes.
func (s *Simulators) PubSubCAFile() string { return s.caFile }

// Close stops the simulators that were started.
func (s *Simulators) Close() {
	if s.Salesforce != nil {
		s.Salesforce.Close()
	}
	if s.PubSub != nil {
		s.PubSub.Close()
	}
	if s.SAP != nil {
		_ = s.SAP.Close()
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// Configure points cfg at the simulators.
func (s *Simulators) Configure(cfg *config.Config) {
	cfg.Salesforce.LoginURL = s.Salesforce.URL()
	cfg.Salesforce.Flow = "client_credentials"
	cfg.Salesforce.ClientID = "sfsim-client"
	cfg.Salesforce.ClientSecret = "sfsim-secret"
	cfg.Salesforce.Username = ""
	cfg.Salesforce.PubSubAddr = s.PubSub.Addr()
	cfg.Salesforce.PubSubCAFile = s.caFile
	cfg.SAP.URL = s.SAP.URL()
	cfg.SAP.User = demoSAPUser
	cfg.SAP.Password = demoSAPPassword
	cfg.SAP.Client = "100"
}

// DemoAccount is one account's line in the demo report.
type DemoAccount struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Country     string `json:"country"`
	FromType    string `json:"from_type"`
	ToType      string `json:"to_type"`
	Outcome     string `json:"outcome"`
	SAPCustomer string `json:"sap_customer,omitempty"`
	Reason      string `json:"reason,omitempty"`
	// SyncStatus and SyncError are read back from the Salesforce Account.
	SyncStatus string `json:"sync_status,omitempty"`
	SyncError  string `json:"sync_error,omitempty"`
	LatencyMS  int64  `json:"latency_ms,omitempty"`
}

// DemoSummary is the demo's machine-readable report.
type DemoSummary struct {
	Accounts   int `json:"accounts"`
	Converted  int `json:"converted"`
	Synced     int `json:"synced"`
	Failed     int `json:"failed"`
	Skipped    int `json:"skipped"`
	Pending    int `json:"pending"`
	Duplicates int `json:"duplicates"`
	// SAPCustomers is the number of customers the SAP simulator holds.
	SAPCustomers int           `json:"sap_customers"`
	ElapsedMS    int64         `json:"elapsed_ms"`
	Details      []DemoAccount `json:"details"`
}

func runDemo(ctx context.Context, cfg config.Config, opts Options) error {
	log := opts.Logger
	if opts.DemoTimeout == 0 {
		opts.DemoTimeout = 60 * time.Second
	}
	sims, err := StartSimulators()
	if err != nil {
		return err
	}
	defer sims.Close()
	sims.Configure(&cfg)
	// The demo always runs on its own embedded server in a fresh folder, so
	// it can neither read old state nor write into a real deployment.
	dir, err := os.MkdirTemp("", "sfsap-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg.NATS = config.NATS{StoreDir: dir}
	// The listener starts while the demo loads data; replaying all
	// retained events makes sure it misses none of them.
	cfg.Salesforce.ReplayPreset = "earliest"
	cfg.SAPWorker.Settle = 2 * time.Second

	p, err := Start(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer p.Close()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	defer func() {
		stop()
		<-done
	}()

	sum, err := Demo(ctx, p.JS, sims, opts.DemoTimeout)
	if len(sum.Details) == 0 {
		return err
	}
	// The report also shows which conversions were still pending.
	if opts.JSON {
		enc := json.NewEncoder(opts.Out)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(sum); jerr != nil {
			return jerr
		}
		return err
	}
	printSummary(opts.Out, sum)
	return err
}

// Demo loads the demo accounts as prospects, converts them to customers as
// a sales rep would, and waits until every conversion has an outcome or
// the timeout passes.
func Demo(ctx context.Context, js jetstream.JetStream, sims *Simulators, timeout time.Duration) (DemoSummary, error) {
	start := time.Now()
	var seeds []map[string]any
	if err := json.Unmarshal(demoAccounts, &seeds); err != nil {
		return DemoSummary{}, fmt.Errorf("decoding demo accounts: %w", err)
	}
	results, err := js.OrderedConsumer(ctx, bus.StreamResults, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return DemoSummary{}, fmt.Errorf("reading results: %w", err)
	}

	store := sims.Salesforce.Store()
	rep := sfsim.WriteOptions{User: salesRep}
	var details []DemoAccount
	for _, fields := range seeds {
		id, err := store.Create(fields, rep)
		if err != nil {
			return DemoSummary{}, err
		}
		details = append(details, DemoAccount{
			ID: id, Name: str(fields["Name"]), Country: str(fields["BillingCountry"]),
			FromType: str(fields["Type"]),
		})
	}
	targets := account.DefaultCustomerTypes
	for i := range details {
		d := &details[i]
		d.ToType = targets[i%len(targets)]
		if err := store.Update(d.ID, map[string]any{"Type": d.ToType}, rep); err != nil {
			return DemoSummary{}, err
		}
	}

	want := 0
	for _, d := range details {
		if slices.Contains(account.DefaultProspectTypes, d.FromType) {
			want++
		}
	}
	got := map[string]msg.Result{}
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for len(got) < want {
		batch, err := results.Fetch(100, jetstream.FetchMaxWait(500*time.Millisecond))
		if err != nil {
			return DemoSummary{}, err
		}
		for m := range batch.Messages() {
			var r msg.Result
			if json.Unmarshal(m.Data(), &r) == nil {
				got[r.AccountID] = r
			}
		}
		if waitCtx.Err() != nil {
			break
		}
	}

	sum := DemoSummary{Accounts: len(details), SAPCustomers: len(sims.SAP.Customers())}
	for i := range details {
		d := &details[i]
		rec, _ := store.Get(d.ID)
		d.SAPCustomer = str(rec["SAP_ID__c"])
		d.SyncStatus = str(rec["SAP_Sync_Status__c"])
		d.SyncError = str(rec["SAP_Sync_Error__c"])
		if n := sims.SAP.CountByExternalRef(d.ID); n > 1 {
			sum.Duplicates += n - 1
		}
		converted := slices.Contains(account.DefaultProspectTypes, d.FromType)
		r, ok := got[d.ID]
		switch {
		case !converted:
			d.Outcome = "skipped"
			d.Reason = fmt.Sprintf("Type changed from %q, which is not a prospect value; not a conversion", d.FromType)
			sum.Skipped++
			continue
		case !ok:
			d.Outcome = "pending"
			d.Reason = "no outcome within " + timeout.String()
			sum.Pending++
		default:
			d.Outcome = r.Outcome
			d.Reason = r.Reason
			if !r.CommittedAt.IsZero() {
				d.LatencyMS = r.At.Sub(r.CommittedAt).Milliseconds()
			}
			if r.Outcome == msg.OutcomeSynced || r.Outcome == msg.OutcomeAdopted {
				sum.Synced++
			} else {
				sum.Failed++
			}
		}
		sum.Converted++
	}
	sum.Details = details
	sum.ElapsedMS = time.Since(start).Milliseconds()
	if sum.Pending > 0 {
		return sum, fmt.Errorf("demo: %d of %d conversions had no outcome within %s", sum.Pending, sum.Converted, timeout)
	}
	return sum, nil
}

func printSummary(w io.Writer, s DemoSummary) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tCOUNTRY\tTYPE\tSAP CUSTOMER\tRESULT")
	for _, d := range s.Details {
		result := d.Outcome
		switch {
		case d.SAPCustomer != "":
			result = d.Outcome
		case d.SyncError != "":
			result = d.Outcome + ": " + d.SyncError
		case d.Reason != "":
			result = d.Outcome + ": " + d.Reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s → %s\t%s\t%s\n", clip(d.Name, 40), orDash(d.Country), orDash(d.FromType), d.ToType, orDash(d.SAPCustomer), result)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d accounts, %d converted: %d synced, %d failed, %d pending; %d skipped; %d duplicate SAP customers (%d customers in SAP); %.1fs\n",
		s.Accounts, s.Converted, s.Synced, s.Failed, s.Pending, s.Skipped, s.Duplicates, s.SAPCustomers, float64(s.ElapsedMS)/1000)
}

func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func must18(id15 string) string {
	id, err := sfid.To18(id15)
	if err != nil {
		panic(errors.New("demo user id: " + err.Error()))
	}
	return id
}
