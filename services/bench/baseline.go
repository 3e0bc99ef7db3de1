package bench

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/mapping"
	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sap/rfc"
	"github.com/sfsap/sfsap/pkg/sap/soaprfc"
	"github.com/sfsap/sfsap/pkg/setup"
	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/services/allinone"
)

// Calls on the critical path of one polled conversion: the poll query and
// the write-back on the Salesforce side, one create through the gateway on
// the SAP side.
const (
	pollSFCallsOnPath  = 2
	pollSAPCallsOnPath = 1
)

// gatewayFunction is the function module the poller calls: the Z wrapper
// that creates, stores the external reference and commits in one call,
// standing in for the REST service that an SAP gateway product exposes.
const gatewayFunction = "Z_SFSAP_CUSTOMER_CREATE"

// poller does the job the way workflow products do: it queries the
// Accounts that became customers since its last poll, then creates and
// updates them one at a time.
type poller struct {
	sf       *sfclient.Client
	sap      rfc.Caller
	pack     *mapping.Pack
	interval time.Duration
	log      *slog.Logger

	mu     sync.Mutex
	picked map[string]time.Time // account id to the start of the poll that found it
	polls  []pollStat
	errors int
}

// pollStat is one poll that found work.
type pollStat struct {
	Start   time.Time
	End     time.Time
	Records int
}

// newPoller logs in to the simulators like the workflow product's
// connectors would.
func newPoller(ctx context.Context, sims *allinone.Simulators, interval time.Duration, log *slog.Logger) (*poller, error) {
	cfg, err := config.Load("", []string{})
	if err != nil {
		return nil, err
	}
	sims.Configure(&cfg)
	sf, err := setup.Salesforce(ctx, cfg.Salesforce, log)
	if err != nil {
		return nil, fmt.Errorf("polling baseline: logging in to Salesforce: %w", err)
	}
	caller, err := soaprfc.New(cfg.SAP.URL,
		soaprfc.WithClient(cfg.SAP.Client),
		soaprfc.WithBasicAuth(cfg.SAP.User, cfg.SAP.Password),
		soaprfc.WithTimeout(cfg.SAP.Timeout))
	if err != nil {
		return nil, fmt.Errorf("polling baseline: %w", err)
	}
	return &poller{
		sf: sf, sap: caller, pack: mapping.Default(), interval: interval, log: log,
		picked: map[string]time.Time{},
	}, nil
}

// run polls at start and then every interval until ctx ends. A poll that
// takes longer than the interval is followed by the next one at once.
// Each poll asks for records modified since the previous one started,
// in whole seconds, because Salesforce stamps LastModifiedDate in whole
// seconds. Records already handled drop out, since they have an SAP
// number.
func (p *poller) run(ctx context.Context, start time.Time) {
	since := start.Add(-time.Second).Truncate(time.Second)
	next := start
	for {
		if sleepUntil(ctx, next) != nil {
			return
		}
		pollStart := time.Now()
		if err := p.poll(ctx, since, pollStart); err != nil && ctx.Err() == nil {
			p.log.Warn("bench: poll failed; retrying at the next interval", "error", err)
		}
		since = pollStart.Truncate(time.Second)
		next = next.Add(p.interval)
	}
}

// pollFields are the Account fields the poll query reads.
var pollFields = []string{"Id", "Name", "BillingStreet", "BillingCity", "BillingState", "BillingPostalCode", "BillingCountry", "Phone"}

// poll handles the customers without an SAP number changed since since.
func (p *poller) poll(ctx context.Context, since, pollStart time.Time) error {
	fields := account.DefaultFields()
	quoted := make([]string, len(account.DefaultCustomerTypes))
	for i, t := range account.DefaultCustomerTypes {
		quoted[i] = "'" + t + "'"
	}
	soql := fmt.Sprintf("SELECT %s FROM Account WHERE Type IN (%s) AND %s = null AND LastModifiedDate >= %s ORDER BY LastModifiedDate",
		strings.Join(pollFields, ", "), strings.Join(quoted, ", "), fields.SAPID, since.UTC().Format("2006-01-02T15:04:05.000Z"))
	records, err := p.sf.QueryAccounts(ctx, soql)
	if err != nil {
		return err
	}
	if len(records) == 0 {
		return nil
	}
	p.mu.Lock()
	for _, rec := range records {
		p.picked[text(rec["Id"])] = pollStart
	}
	p.mu.Unlock()

	for _, rec := range records {
		if err := p.sync(ctx, rec); err != nil {
			if ctx.Err() != nil {
				return err
			}
			p.log.Warn("bench: polled conversion failed", "account_id", text(rec["Id"]), "error", err)
			p.mu.Lock()
			p.errors++
			p.mu.Unlock()
		}
	}
	p.mu.Lock()
	p.polls = append(p.polls, pollStat{Start: pollStart, End: time.Now(), Records: len(records)})
	p.mu.Unlock()
	return nil
}

// sync creates one customer through the gateway and writes its number
// back, with no lookup first, as a workflow step does.
func (p *poller) sync(ctx context.Context, rec map[string]any) error {
	a := account.Account{
		ID:                text(rec["Id"]),
		Name:              text(rec["Name"]),
		BillingStreet:     text(rec["BillingStreet"]),
		BillingCity:       text(rec["BillingCity"]),
		BillingState:      text(rec["BillingState"]),
		BillingPostalCode: text(rec["BillingPostalCode"]),
		BillingCountry:    text(rec["BillingCountry"]),
		Phone:             text(rec["Phone"]),
	}
	cust, err := p.pack.Map(a)
	if err != nil {
		return err
	}
	no, err := gatewayCreate(ctx, p.sap, cust)
	if err != nil {
		return err
	}
	f := account.DefaultFields()
	return p.sf.UpdateAccount(ctx, a.ID, map[string]any{f.SAPID: no, f.SyncStatus: account.StatusSynced})
}

// gatewayCreate creates c with one call of the Z wrapper and returns the
// new number.
func gatewayCreate(ctx context.Context, caller rfc.Caller, c sap.Customer) (string, error) {
	company := map[string]any{
		"CITY":       c.City,
		"COUNTRY":    c.Country,
		"COUNTRYISO": c.Country,
		"POSTL_COD1": c.PostalCode,
		"STREET":     c.Street,
		"REGION":     c.Region,
		"TEL1_NUMBR": c.Phone,
		"LANGU_ISO":  strings.ToUpper(c.Language),
		"CURRENCY":   c.Currency,
	}
	for i, name := range c.Names {
		key := "NAME"
		if i > 0 {
			key = fmt.Sprintf("NAME_%d", i+1)
		}
		company[key] = name
	}
	for k, v := range company {
		if v == "" {
			delete(company, k)
		}
	}
	res, err := caller.Call(ctx, gatewayFunction, map[string]any{
		"PI_COMPANYDATA": company,
		"PI_COPYREFERENCE": map[string]any{
			"SALESORG":   c.SalesOrg,
			"DISTR_CHAN": c.DistributionChannel,
			"DIVISION":   c.Division,
			"REF_CUSTMR": sap.NormalizeCustomerNo(c.ReferenceCustomer),
		},
		"EXTERNAL_REF": strings.ToUpper(c.ExternalRef),
	})
	if err != nil {
		return "", err
	}
	if ret := rfc.Struct(res, "RETURN"); ret != nil {
		if t := rfc.String(ret, "TYPE"); t == "E" || t == "A" {
			return "", fmt.Errorf("creating customer for %s: %s %s: %s", c.ExternalRef, t, rfc.String(ret, "NUMBER"), rfc.String(ret, "MESSAGE"))
		}
	}
	no := sap.NormalizeCustomerNo(rfc.String(res, "CUSTOMERNO"))
	if no == "" {
		return "", fmt.Errorf("creating customer for %s: SAP returned no customer number", c.ExternalRef)
	}
	return no, nil
}

// throughput returns the records handled per second while polls were
// working.
func (p *poller) throughput() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var busy time.Duration
	records := 0
	for _, s := range p.polls {
		busy += s.End.Sub(s.Start)
		records += s.Records
	}
	if busy <= 0 {
		return 0
	}
	return float64(records) / busy.Seconds()
}

func (p *poller) pickedAt(id string) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.picked[id]
	return t, ok
}

func text(v any) string {
	s, _ := v.(string)
	return s
}
