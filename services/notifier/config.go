package notifier

import (
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strings"
	"time"
)

// Notify values: which outcomes a sink receives.
const (
	// NotifyFailures sends only failed and writeback_failed outcomes.
	NotifyFailures = "failures"
	// NotifyAll sends every outcome, successes included.
	NotifyAll = "all"
)

// Start values: where a sink's consumer starts the first time it is
// created. Later starts resume where the consumer stopped.
const (
	// StartNew notifies only outcomes recorded after the consumer exists.
	StartNew = "new"
	// StartAll notifies every outcome the results stream still holds.
	StartAll = "all"
)

// Email TLS modes.
const (
	// TLSStartTLS connects in plain text and requires STARTTLS before
	// anything else is sent, as on port 587.
	TLSStartTLS = "starttls"
	// TLSImplicit connects over TLS from the first byte, as on port 465.
	TLSImplicit = "tls"
	// TLSNone sends in plain text, for a relay on the same host or network.
	TLSNone = "none"
)

// DefaultTokenURL is the Microsoft identity platform token endpoint;
// "{tenant}" is replaced by SharePoint.TenantID.
const DefaultTokenURL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"

// DefaultGraphURL is the Microsoft Graph base URL.
const DefaultGraphURL = "https://graph.microsoft.com"

// Config configures the notifier. A sink is on when its address is set:
// Teams.WebhookURL, Slack.WebhookURL, Email.Host or SharePoint.SiteID.
type Config struct {
	// Notify selects the outcomes every sink receives unless the sink
	// sets its own: NotifyFailures or NotifyAll. Defaults to failures.
	Notify string `yaml:"notify"`
	// Start is the first outcome a new sink's consumer delivers: StartNew
	// or StartAll. Defaults to new. Changing it for an existing consumer
	// fails, so delete the consumer first (nats consumer rm SFSAP_RESULTS
	// notifier-<sink>).
	Start string `yaml:"start"`
	// MaxAttempts is the number of sends of one outcome to one sink
	// before it is dead-lettered. Defaults to 5.
	MaxAttempts int `yaml:"max_attempts"`
	// Backoff is the delay before the second attempt; it doubles for each
	// later one. Defaults to 5s.
	Backoff time.Duration `yaml:"backoff"`
	// MaxBackoff caps the delay between attempts, a server's Retry-After
	// included. Defaults to 5m.
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// Timeout bounds one send, connection and token request included.
	// Defaults to 30s.
	Timeout time.Duration `yaml:"timeout"`
	// Concurrency is the number of outcomes each sink sends at once.
	// Defaults to 4.
	Concurrency int `yaml:"concurrency"`
	// AccountURL links each notification to the Account; "{id}" is
	// replaced by the Account id, as in
	// https://example.my.salesforce.com/lightning/r/Account/{id}/view.
	// Empty leaves the link out.
	AccountURL string `yaml:"account_url"`

	Teams      Webhook    `yaml:"teams"`
	Slack      Webhook    `yaml:"slack"`
	Email      Email      `yaml:"email"`
	SharePoint SharePoint `yaml:"sharepoint"`
}

// Webhook configures an incoming webhook of Microsoft Teams or Slack.
type Webhook struct {
	// WebhookURL is the webhook's address. It contains a credential, so it
	// is never logged; set it through SFSAP_NOTIFIER_TEAMS_WEBHOOK_URL_FILE
	// or SFSAP_NOTIFIER_SLACK_WEBHOOK_URL_FILE. Empty turns the sink off.
	WebhookURL string `yaml:"webhook_url" json:"-"`
	// Notify overrides Config.Notify for this sink.
	Notify string `yaml:"notify"`
}

// Email configures notifications by e-mail over SMTP.
type Email struct {
	// Host is the SMTP server. Empty turns the sink off.
	Host string `yaml:"host"`
	// Port defaults to 587, or 465 with TLS "tls".
	Port int `yaml:"port"`
	// TLS is TLSStartTLS, TLSImplicit or TLSNone. Defaults to starttls.
	TLS string `yaml:"tls"`
	// CAFile is a PEM bundle of CAs that sign the server's certificate,
	// for servers with a private CA. Empty uses the system's CAs.
	CAFile string `yaml:"ca_file"`
	// Username and Password authenticate with AUTH PLAIN. Empty Username
	// sends without authentication.
	Username string `yaml:"username"`
	Password string `yaml:"password" json:"-"`
	// From is the sender address, such as sfsap@example.com. Required.
	From string `yaml:"from"`
	// To lists the recipients. At least one is required.
	To []string `yaml:"to"`
	// SubjectPrefix starts every subject. Defaults to "[sfsap]".
	SubjectPrefix string `yaml:"subject_prefix"`
	// Notify overrides Config.Notify for this sink.
	Notify string `yaml:"notify"`
}

// SharePoint configures one list item per outcome in a SharePoint Online
// list, written through Microsoft Graph with an app registration's client
// credentials. The app needs the Sites.ReadWrite.All application
// permission, or Sites.Selected with write access to the site.
type SharePoint struct {
	// SiteID is the Graph site id, such as
	// "contoso.sharepoint.com,<site guid>,<web guid>". Empty turns the sink
	// off.
	SiteID string `yaml:"site_id"`
	// ListID is the list's id (a GUID) or display name.
	ListID string `yaml:"list_id"`
	// TenantID is the Microsoft Entra tenant id or domain.
	TenantID string `yaml:"tenant_id"`
	// ClientID and ClientSecret are the app registration's credentials.
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret" json:"-"`
	// TokenURL is the OAuth 2.0 token endpoint. Defaults to
	// DefaultTokenURL with the tenant filled in.
	TokenURL string `yaml:"token_url"`
	// GraphURL is the Graph base URL. Defaults to DefaultGraphURL; set it
	// for a national cloud.
	GraphURL string `yaml:"graph_url"`
	// Scope is requested with the token. Defaults to GraphURL + "/.default".
	Scope string `yaml:"scope"`
	// Columns maps each value to the internal name of the list column
	// that receives it; an empty name leaves the value out. Keys are
	// title, account_id, account_name, outcome, sap_customer, reason,
	// stage, correlation_id, committed_at, at and account_url. Defaults to
	// DefaultColumns; the list must have every column that is mapped.
	Columns map[string]string `yaml:"columns"`
	// Notify overrides Config.Notify for this sink.
	Notify string `yaml:"notify"`
}

// DefaultColumns maps result values to list columns. Title is the column
// every SharePoint list has.
var DefaultColumns = map[string]string{
	"title":          "Title",
	"account_id":     "AccountId",
	"account_name":   "AccountName",
	"outcome":        "Outcome",
	"sap_customer":   "SAPCustomer",
	"reason":         "Reason",
	"stage":          "Stage",
	"correlation_id": "CorrelationId",
	"committed_at":   "CommittedAt",
	"at":             "RecordedAt",
	"account_url":    "AccountUrl",
}

// WithDefaults returns c with every empty setting at its default.
func (c Config) WithDefaults() Config {
	if c.Notify == "" {
		c.Notify = NotifyFailures
	}
	if c.Start == "" {
		c.Start = StartNew
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 5
	}
	if c.Backoff == 0 {
		c.Backoff = 5 * time.Second
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 5 * time.Minute
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Concurrency == 0 {
		c.Concurrency = 4
	}
	for _, w := range []*Webhook{&c.Teams, &c.Slack} {
		if w.Notify == "" {
			w.Notify = c.Notify
		}
	}
	c.Email = c.Email.withDefaults(c.Notify)
	c.SharePoint = c.SharePoint.withDefaults(c.Notify)
	return c
}

func (e Email) withDefaults(notify string) Email {
	if e.TLS == "" {
		e.TLS = TLSStartTLS
	}
	if e.Port == 0 {
		e.Port = 587
		if e.TLS == TLSImplicit {
			e.Port = 465
		}
	}
	if e.SubjectPrefix == "" {
		e.SubjectPrefix = "[sfsap]"
	}
	if e.Notify == "" {
		e.Notify = notify
	}
	return e
}

func (s SharePoint) withDefaults(notify string) SharePoint {
	if s.TokenURL == "" && s.TenantID != "" {
		s.TokenURL = strings.ReplaceAll(DefaultTokenURL, "{tenant}", url.PathEscape(s.TenantID))
	}
	if s.GraphURL == "" {
		s.GraphURL = DefaultGraphURL
	}
	s.GraphURL = strings.TrimSuffix(s.GraphURL, "/")
	if s.Scope == "" {
		s.Scope = s.GraphURL + "/.default"
	}
	columns := make(map[string]string, len(DefaultColumns))
	for k, v := range DefaultColumns {
		columns[k] = v
	}
	for k, v := range s.Columns {
		columns[k] = v
	}
	s.Columns = columns
	if s.Notify == "" {
		s.Notify = notify
	}
	return s
}

// Enabled reports whether any sink is configured.
func (c Config) Enabled() bool {
	return c.Teams.WebhookURL != "" || c.Slack.WebhookURL != "" || c.Email.Host != "" || c.SharePoint.SiteID != ""
}

// Validate reports every invalid setting of c after WithDefaults, each
// naming its key under notifier and the fix.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	checkNotify := func(key, v string) {
		if v != NotifyFailures && v != NotifyAll {
			add("notifier.%s %q is invalid: use %s or %s", key, v, NotifyFailures, NotifyAll)
		}
	}
	checkNotify("notify", c.Notify)
	if c.Start != StartNew && c.Start != StartAll {
		add("notifier.start %q is invalid: use %s or %s", c.Start, StartNew, StartAll)
	}
	if c.MaxAttempts < 1 {
		add("notifier.max_attempts %d is invalid: use 1 or more", c.MaxAttempts)
	}
	if c.Backoff <= 0 || c.MaxBackoff < c.Backoff {
		add("notifier.backoff %s and max_backoff %s are invalid: both must be positive and max_backoff at least backoff", c.Backoff, c.MaxBackoff)
	}
	if c.Timeout <= 0 {
		add("notifier.timeout %s is invalid: use a positive duration such as 30s", c.Timeout)
	}
	if c.Concurrency < 1 {
		add("notifier.concurrency %d is invalid: use 1 or more", c.Concurrency)
	}
	if c.AccountURL != "" && !validHTTPURL(strings.ReplaceAll(c.AccountURL, "{id}", "x")) {
		add("notifier.account_url %q is not a valid URL: use the form https://example.my.salesforce.com/lightning/r/Account/{id}/view", c.AccountURL)
	}

	for name, w := range map[string]Webhook{"teams": c.Teams, "slack": c.Slack} {
		if w.WebhookURL == "" {
			continue
		}
		checkNotify(name+".notify", w.Notify)
		if !validHTTPURL(w.WebhookURL) {
			// The URL holds a credential, so the message leaves it out.
			add("notifier.%s.webhook_url is not a valid http or https URL: paste the webhook address as the service shows it", name)
		}
	}
	if c.Email.Host != "" {
		errs = append(errs, c.Email.validate()...)
	}
	if c.SharePoint.SiteID != "" {
		errs = append(errs, c.SharePoint.validate()...)
	}
	return errors.Join(errs...)
}

func (e Email) validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if e.Notify != NotifyFailures && e.Notify != NotifyAll {
		add("notifier.email.notify %q is invalid: use %s or %s", e.Notify, NotifyFailures, NotifyAll)
	}
	if e.Port < 1 || e.Port > 65535 {
		add("notifier.email.port %d is invalid: use a TCP port such as 587", e.Port)
	}
	switch e.TLS {
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		add("notifier.email.tls %q is invalid: use %s, %s or %s", e.TLS, TLSStartTLS, TLSImplicit, TLSNone)
	}
	if _, err := mail.ParseAddress(e.From); err != nil {
		add("notifier.email.from %q is not a valid address: use the form sfsap@example.com", e.From)
	}
	if len(e.To) == 0 {
		add("notifier.email.to is empty: list at least one recipient")
	}
	for _, to := range e.To {
		if _, err := mail.ParseAddress(to); err != nil {
			add("notifier.email.to entry %q is not a valid address: use the form team@example.com", to)
		}
	}
	if e.Username != "" && e.Password == "" {
		add("notifier.email.password is empty but username is set: set both, or neither to send without authentication")
	}
	return errs
}

func (s SharePoint) validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if s.Notify != NotifyFailures && s.Notify != NotifyAll {
		add("notifier.sharepoint.notify %q is invalid: use %s or %s", s.Notify, NotifyFailures, NotifyAll)
	}
	if strings.ContainsAny(s.SiteID, "?# ") {
		add("notifier.sharepoint.site_id %q is invalid: use the Graph site id, such as contoso.sharepoint.com,<site guid>,<web guid>", s.SiteID)
	}
	if s.ListID == "" || strings.ContainsAny(s.ListID, "/?#") {
		add("notifier.sharepoint.list_id %q is invalid: use the list's GUID or display name", s.ListID)
	}
	if s.TokenURL == "" {
		add("notifier.sharepoint.tenant_id is empty: set the Microsoft Entra tenant id, or set token_url")
	} else if !validHTTPURL(s.TokenURL) {
		add("notifier.sharepoint.token_url %q is not a valid URL: use the form %s", s.TokenURL, DefaultTokenURL)
	}
	if !validHTTPURL(s.GraphURL) {
		add("notifier.sharepoint.graph_url %q is not a valid URL: use %s", s.GraphURL, DefaultGraphURL)
	}
	if s.ClientID == "" || s.ClientSecret == "" {
		add("notifier.sharepoint.client_id and client_secret are required: use the app registration's id and a client secret")
	}
	if s.Columns["title"] == "" {
		add("notifier.sharepoint.columns.title is empty: every list item needs a Title")
	}
	for k := range s.Columns {
		if _, ok := DefaultColumns[k]; !ok {
			add("notifier.sharepoint.columns has unknown key %q: use one of title, account_id, account_name, outcome, sap_customer, reason, stage, correlation_id, committed_at, at, account_url", k)
		}
	}
	return errs
}

func validHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// LogValue hides the webhook URLs, the SMTP password and the client
// secret, so a Config can be logged.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("notify", c.Notify),
		slog.Bool("teams", c.Teams.WebhookURL != ""),
		slog.Bool("slack", c.Slack.WebhookURL != ""),
		slog.String("email_host", c.Email.Host),
		slog.String("sharepoint_site", c.SharePoint.SiteID),
	)
}

// String describes c without its secrets.
func (c Config) String() string {
	return c.LogValue().String()
}
