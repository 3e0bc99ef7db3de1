// Package config loads sfsap's configuration: one YAML file, overridden
// by environment variables, with secrets from the environment or from
// files. Every service binary and the all-in-one command read the same
// file and use the sections they need.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/sap/ecc"
	"github.com/sfsap/sfsap/pkg/sap/odata"
	"github.com/sfsap/sfsap/pkg/sap/restgw"
	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/services/filter"
	"github.com/sfsap/sfsap/services/listener"
	"github.com/sfsap/sfsap/services/notifier"
	"github.com/sfsap/sfsap/services/reconciler"
	"github.com/sfsap/sfsap/services/sapworker"
	"github.com/sfsap/sfsap/services/writeback"
)

// Config is the whole configuration.
type Config struct {
	NATS       NATS       `yaml:"nats"`
	Salesforce Salesforce `yaml:"salesforce"`
	SAP        SAP        `yaml:"sap"`
	// MappingFiles are mapping packs merged over the built-in defaults,
	// later files winning.
	MappingFiles []string         `yaml:"mapping_files"`
	Topology     bus.Topology     `yaml:"topology"`
	Listener     listener.Config  `yaml:"listener"`
	Filter       filter.Config    `yaml:"filter"`
	SAPWorker    sapworker.Config `yaml:"sapworker"`
	Writeback    writeback.Config `yaml:"writeback"`
	// Reconciler configures the re-drives, sweeps and dead-letter moves.
	Reconciler reconciler.Config `yaml:"reconciler"`
	// Notifier configures the optional notifications of sync outcomes.
	Notifier notifier.Config `yaml:"notifier"`
}

// NATS configures the connection to the NATS server.
type NATS struct {
	// URL of the server. Empty runs an embedded server (all-in-one only).
	URL string `yaml:"url"`
	// StoreDir is the JetStream folder of the embedded server. Defaults to
	// ./sfsap-data.
	StoreDir string `yaml:"store_dir"`
	// User and Password authenticate the service to the server.
	User     string `yaml:"user"`
	Password string `yaml:"password"`
	// CredsFile is a NATS credentials file, used instead of User/Password.
	CredsFile string `yaml:"creds_file"`
	// CAFile is a PEM bundle of the CAs that sign the server certificate.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a PEM client certificate and its key, for
	// servers that require TLS client authentication.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// Domain is the JetStream domain that holds sfsap's streams. Set it
	// when the service connects to a leaf node whose hub runs JetStream
	// under that domain. Defaults to empty: the connected server's own
	// JetStream.
	Domain string `yaml:"domain"`
	// InboxPrefix replaces _INBOX as the prefix of reply subjects, so the
	// server can allow each user to subscribe to its own replies only.
	// Defaults to _INBOX.
	InboxPrefix string `yaml:"inbox_prefix"`
	// SkipTopology stops the service from creating or updating streams,
	// consumers and buckets at start. Set it when the NATS user may not
	// change them and a provisioner (sfsap --provision) created them.
	// Defaults to false.
	SkipTopology bool `yaml:"skip_topology"`
}

// Salesforce configures the Salesforce side.
type Salesforce struct {
	sfclient.Config `yaml:",inline"`
	// ReplayPreset is the starting point of a listener without a stored
	// position: "latest" (new events only) or "earliest" (all retained
	// events).
	// Defaults to latest.
	ReplayPreset string `yaml:"replay_preset"`
	// Transport selects how the listener learns of Account changes:
	// "pubsub" (Change Data Capture over the Pub/Sub API, gRPC), "cometd"
	// (Change Data Capture over the Streaming API) or "poll" (SOQL
	// polling on SystemModstamp, for orgs without Change Data Capture).
	// Defaults to pubsub.
	Transport string `yaml:"transport"`
	// PubSubAddr is the host:port of the Pub/Sub API. Defaults to
	// api.pubsub.salesforce.com:7443.
	PubSubAddr string `yaml:"pubsub_addr"`
	// PubSubCAFile is a PEM bundle of the authorities that sign the
	// Pub/Sub API's certificate. Empty means the system roots, which is
	// right for Salesforce.
	PubSubCAFile string `yaml:"pubsub_ca_file"`
	// TenantID is the org id sent to the Pub/Sub API. Empty reads it from
	// the OAuth userinfo endpoint at start.
	TenantID string `yaml:"tenant_id"`
}

// Listener transports, the values of salesforce.transport.
const (
	TransportPubSub = "pubsub"
	TransportCometD = "cometd"
	TransportPoll   = "poll"
)

// DefaultPubSubAddr is the Salesforce Pub/Sub API endpoint.
const DefaultPubSubAddr = "api.pubsub.salesforce.com:7443"

// SAP configures the SAP side.
type SAP struct {
	// Adapter selects the access path: "ecc" (SOAP-RFC), "s4" (OData
	// API_BUSINESS_PARTNER) or "rest" (a REST gateway service). Defaults
	// to ecc.
	Adapter string `yaml:"adapter"`
	// URL is the SAP system's HTTP base, such as https://sap.example:44300.
	URL string `yaml:"url"`
	// Client is the SAP client (Mandant), such as "100".
	Client string `yaml:"client"`
	// Language is the logon language. Defaults to EN.
	Language string `yaml:"language"`
	User     string `yaml:"user"`
	Password string `yaml:"password"`
	// Timeout bounds one HTTP call. Defaults to 60s.
	Timeout time.Duration `yaml:"timeout"`
	ECC     ecc.Config    `yaml:"ecc"`
	// S4 configures the "s4" adapter.
	S4 odata.Config `yaml:"s4"`
	// REST configures the "rest" adapter.
	REST restgw.Config `yaml:"rest"`
}

// SAP adapter names accepted in SAP.Adapter.
const (
	AdapterECC  = "ecc"
	AdapterS4   = "s4"
	AdapterREST = "rest"
)

// Load reads the YAML file at path, applies the environment overrides in
// env and fills defaults, then validates the result. An empty path reads no
// file. env has the os.Environ form, and nil means the process environment.
func Load(path string, env []string) (Config, error) {
	var c Config
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("reading config file: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			hint := "check the key names against the documented example"
			switch {
			case strings.Contains(err.Error(), "time.Duration"):
				hint = "write durations with a unit, such as 30s or 5m"
			case strings.Contains(err.Error(), "cannot unmarshal"):
				hint = "the value has the wrong type for its key; compare it with the documented example"
			}
			return c, fmt.Errorf("config file %s: %w: %s", path, err, hint)
		}
	}
	if env == nil {
		env = os.Environ()
	}
	if err := applyEnv(&c, env); err != nil {
		return c, err
	}
	c = c.WithDefaults()
	return c, c.Validate()
}

// WithDefaults returns c with the defaults of every section.
func (c Config) WithDefaults() Config {
	if c.NATS.StoreDir == "" {
		c.NATS.StoreDir = "sfsap-data"
	}
	if c.Salesforce.ReplayPreset == "" {
		c.Salesforce.ReplayPreset = "latest"
	}
	if c.Salesforce.Transport == "" {
		c.Salesforce.Transport = TransportPubSub
	}
	if c.Salesforce.PubSubAddr == "" {
		c.Salesforce.PubSubAddr = DefaultPubSubAddr
	}
	// Each transport keeps its own replay position, because a position of
	// one means nothing to another.
	if c.Listener.Checkpoint == "" {
		c.Listener.Checkpoint = c.Salesforce.Transport + ".AccountChangeEvent"
	}

	if c.SAP.Adapter == "" {
		c.SAP.Adapter = AdapterECC
	}
	if c.SAP.Language == "" {
		c.SAP.Language = "EN"
	}
	if c.SAP.Timeout == 0 {
		c.SAP.Timeout = 60 * time.Second
	}
	c.SAP.ECC = c.SAP.ECC.WithDefaults()
	c.SAP.S4 = c.SAP.S4.WithDefaults()
	c.SAP.REST = c.SAP.REST.WithDefaults()

	if c.Topology.LeaseTTL == 0 {
		c.Topology.LeaseTTL = c.Listener.LeaseTTL
	}
	c.Topology = c.Topology.WithDefaults()
	c.Listener = c.Listener.WithDefaults()
	c.Filter = c.Filter.WithDefaults()
	c.SAPWorker = c.SAPWorker.WithDefaults()
	c.Writeback = c.Writeback.WithDefaults()
	if c.Reconciler.Settle == 0 {
		// The reconciler judges claims by the workers' settle time.
		c.Reconciler.Settle = c.SAPWorker.Settle
	}
	c.Reconciler = c.Reconciler.WithDefaults()
	c.Notifier = c.Notifier.WithDefaults()

	// One set of field names serves every service, and the consumers'
	// settings come from the topology.
	c.Salesforce.Fields = c.Salesforce.Fields.WithDefaults()
	c.Filter.Fields = c.Salesforce.Fields
	c.Writeback.Fields = c.Salesforce.Fields
	c.SAPWorker.AckWait = c.Topology.SAPAckWait
	c.SAPWorker.MaxDeliver = c.Topology.MaxDeliver
	c.Writeback.MaxDeliver = 2 * c.Topology.MaxDeliver
	return c
}

// Validate reports every invalid setting, each naming the key and the fix.
func (c Config) Validate() error {
	var errs []error
	if c.NATS.URL != "" {
		if u, err := url.Parse(c.NATS.URL); err != nil || u.Host == "" {
			errs = append(errs, fmt.Errorf("nats.url %q is not a valid URL: use the form nats://host:4222", c.NATS.URL))
		}
	}
	if (c.NATS.CertFile == "") != (c.NATS.KeyFile == "") {
		errs = append(errs, errors.New("nats.cert_file and nats.key_file must be set together: set both for TLS client authentication, or neither"))
	}
	if strings.ContainsAny(c.NATS.InboxPrefix, "*> \t") || strings.HasSuffix(c.NATS.InboxPrefix, ".") {
		errs = append(errs, fmt.Errorf("nats.inbox_prefix %q is invalid: use subject tokens without wildcards or a trailing dot, such as _INBOX_sapworker", c.NATS.InboxPrefix))
	}
	switch c.Salesforce.ReplayPreset {
	case "latest", "earliest":
	default:
		errs = append(errs, fmt.Errorf("salesforce.replay_preset %q is invalid: use latest or earliest", c.Salesforce.ReplayPreset))
	}
	switch c.Salesforce.Transport {
	case TransportPubSub, TransportCometD, TransportPoll:
	default:
		errs = append(errs, fmt.Errorf("salesforce.transport %q is invalid: use %s, %s or %s", c.Salesforce.Transport, TransportPubSub, TransportCometD, TransportPoll))
	}
	if err := c.Listener.Validate(); err != nil {
		errs = append(errs, err)
	}
	switch c.SAP.Adapter {
	case AdapterREST:
		if c.SAP.REST.LookupURL == "" {
			errs = append(errs, fmt.Errorf("sap.rest.lookup_url is empty: the SAP worker looks every account up by its Salesforce id before it creates a customer, so set the URL template of the gateway's lookup service"))
		}
	case AdapterECC, AdapterS4:
	default:
		errs = append(errs, fmt.Errorf("sap.adapter %q is not supported: use %s, %s or %s", c.SAP.Adapter, AdapterECC, AdapterS4, AdapterREST))
	}
	if c.SAP.URL != "" {
		if u, err := url.Parse(c.SAP.URL); err != nil || u.Scheme == "" || u.Host == "" {
			errs = append(errs, fmt.Errorf("sap.url %q is not a valid URL: use the form https://sap-host:44300", c.SAP.URL))
		}
	}
	if c.SAPWorker.Lease <= c.SAP.Timeout {
		errs = append(errs, fmt.Errorf("sapworker.lease %s must be longer than sap.timeout %s, or a claim could expire during a create", c.SAPWorker.Lease, c.SAP.Timeout))
	}
	for _, v := range []interface{ Validate() error }{c.SAP.ECC, c.SAP.S4, c.SAP.REST, c.Filter, c.SAPWorker, c.Writeback, c.Reconciler} {
		if err := v.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.Notifier.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// CheckPubSubAddr rejects the Salesforce Pub/Sub endpoint for an org whose
// login URL is not a Salesforce host, such as a simulator or a proxy: the
// listener would otherwise send that org's token to Salesforce. Only the
// listener calls it, because only the listener uses the Pub/Sub API.
func (s Salesforce) CheckPubSubAddr() error {
	if s.Transport != TransportPubSub || s.PubSubAddr != DefaultPubSubAddr || s.LoginURL == "" {
		return nil
	}
	u, err := url.Parse(s.LoginURL)
	if err != nil {
		return nil
	}
	host := strings.ToLower(u.Hostname())
	for _, suffix := range []string{".salesforce.com", ".force.com", ".salesforce.mil", ".cloudforce.com"} {
		if strings.HasSuffix(host, suffix) {
			return nil
		}
	}
	return fmt.Errorf("salesforce.pubsub_addr is Salesforce's endpoint %s but salesforce.login_url %s is not a Salesforce host: set pubsub_addr to the org's Pub/Sub API, or choose transport cometd or poll", DefaultPubSubAddr, s.LoginURL)
}
