package odata

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sfsap/sfsap/pkg/sap"
)

// DefaultServicePath is the path of the OData V2 service
// API_BUSINESS_PARTNER below an S/4HANA system's base URL.
const DefaultServicePath = "/sap/opu/odata/sap/API_BUSINESS_PARTNER"

// DefaultTimeout bounds one HTTP request when WithTimeout is not given.
const DefaultTimeout = 60 * time.Second

// Config holds the business settings of an Adapter, which a YAML file can
// set. Zero fields take the defaults named in their comments, which
// WithDefaults applies.
type Config struct {
	// ServicePath is the path of API_BUSINESS_PARTNER below the base URL.
	// Defaults to DefaultServicePath.
	ServicePath string `yaml:"service_path"`
	// Grouping is the BusinessPartnerGrouping of new business partners.
	// The grouping decides the number range and whether it is internal,
	// and its keys differ per system. Empty leaves the field out, so SAP
	// applies its default grouping.
	Grouping string `yaml:"grouping"`
	// Roles are the business partner roles created with the partner.
	// Defaults to FLCU00 (customer in financial accounting) and FLCU01
	// (customer in sales).
	Roles []string `yaml:"roles"`
	// ReconciliationAccount is sent with the company code data. S/4HANA
	// needs it unless the grouping supplies one. Empty leaves it out.
	ReconciliationAccount string `yaml:"reconciliation_account"`
	// PaymentTerms is sent with the company code data and as
	// CustomerPaymentTerms with the sales area. Empty leaves it out.
	PaymentTerms string `yaml:"payment_terms"`
	// CustomerGroup is sent with the sales area. Empty leaves it out.
	CustomerGroup string `yaml:"customer_group"`
	// DefaultLanguage is the ISO 639-1 code sent as the address language
	// when a customer has none. S/4HANA rejects a customer whose standard
	// address has no language. Defaults to EN.
	DefaultLanguage string `yaml:"default_language"`
	// DefaultCurrency is the sales area currency sent when a customer has
	// none. Empty sends none, and S/4HANA then rejects the create with
	// CVI_API/003.
	DefaultCurrency string `yaml:"default_currency"`
	// ReturnRules decide whether SAP messages are permanent, transient or
	// harmless. They are tried before sap.DefaultRules.
	ReturnRules []sap.Rule `yaml:"return_rules"`
	// Logger receives the adapter's log lines. Defaults to slog.Default().
	Logger *slog.Logger `yaml:"-"`
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.ServicePath == "" {
		c.ServicePath = DefaultServicePath
	}
	if c.Roles == nil {
		c.Roles = []string{"FLCU00", "FLCU01"}
	}
	if c.DefaultLanguage == "" {
		c.DefaultLanguage = "EN"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate returns an error wrapping ErrInvalidConfig for the first field
// that has an unusable value. Call it after WithDefaults.
func (c Config) Validate() error {
	if !strings.HasPrefix(c.ServicePath, "/") || strings.ContainsAny(c.ServicePath, "?# ") {
		return fmt.Errorf("service_path %q: %w: use an absolute path without query, such as %s", c.ServicePath, ErrInvalidConfig, DefaultServicePath)
	}
	if len(c.Grouping) > 4 {
		return fmt.Errorf("grouping %q: %w: a business partner grouping has at most 4 characters", c.Grouping, ErrInvalidConfig)
	}
	if len(c.Roles) == 0 {
		return fmt.Errorf("roles: %w: the list is empty: list at least FLCU01 for a customer in sales", ErrInvalidConfig)
	}
	for _, r := range c.Roles {
		if r == "" || len(r) > 6 {
			return fmt.Errorf("roles: %q: %w: a business partner role has 1 to 6 characters, such as FLCU01", r, ErrInvalidConfig)
		}
	}
	if len(c.DefaultLanguage) != 2 {
		return fmt.Errorf("default_language %q: %w: use a two-letter ISO 639-1 code, such as EN", c.DefaultLanguage, ErrInvalidConfig)
	}
	if c.DefaultCurrency != "" && len(c.DefaultCurrency) != 3 {
		return fmt.Errorf("default_currency %q: %w: use a three-letter ISO 4217 code, such as EUR", c.DefaultCurrency, ErrInvalidConfig)
	}
	if _, err := sap.NewClassifier(c.ReturnRules...); err != nil {
		return fmt.Errorf("return_rules: %w: %w", ErrInvalidConfig, err)
	}
	return nil
}

// Option sets a connection setting of an Adapter.
type Option func(*connection) error

// connection holds the settings that Options set.
type connection struct {
	sapClient string
	language  string
	user      string
	password  string
	timeout   time.Duration
	transport http.RoundTripper
}

// WithClient sets the SAP client (mandant), a three-digit number such as
// "100", sent as the sap-client query parameter. Without it SAP uses the
// system's default client.
func WithClient(client string) Option {
	return func(c *connection) error {
		if len(client) != 3 || strings.Trim(client, "0123456789") != "" {
			return fmt.Errorf("sap client %q: %w: use three digits, such as 100", client, ErrInvalidOption)
		}
		c.sapClient = client
		return nil
	}
}

// WithLanguage sets the logon language as a two-letter ISO 639-1 code,
// sent as the sap-language query parameter. SAP writes message texts in
// it. Defaults to EN.
func WithLanguage(lang string) Option {
	return func(c *connection) error {
		if len(lang) != 2 || strings.Trim(strings.ToUpper(lang), "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return fmt.Errorf("sap language %q: %w: use a two-letter ISO 639-1 code, such as EN", lang, ErrInvalidOption)
		}
		c.language = strings.ToUpper(lang)
		return nil
	}
}

// WithBasicAuth sets the SAP user and password sent with HTTP Basic
// authentication.
func WithBasicAuth(user, password string) Option {
	return func(c *connection) error {
		if user == "" {
			return fmt.Errorf("basic auth: %w: the user is empty", ErrInvalidOption)
		}
		if strings.Contains(user, ":") {
			return fmt.Errorf("basic auth user %q: %w: a user name cannot contain a colon", user, ErrInvalidOption)
		}
		c.user, c.password = user, password
		return nil
	}
}

// WithTimeout sets the time one HTTP request may take, from sending it to
// reading the whole response. A create makes up to four requests (token
// fetch and POST, repeated once when SAP rejects the token). Defaults to
// DefaultTimeout. When it expires after a POST was sent, the create fails
// with Kind Unknown.
func WithTimeout(d time.Duration) Option {
	return func(c *connection) error {
		if d <= 0 {
			return fmt.Errorf("timeout %v: %w: use a positive duration", d, ErrInvalidOption)
		}
		c.timeout = d
		return nil
	}
}

// WithHTTPClient sets the HTTP client whose transport (TLS settings, a
// proxy) the Adapter uses. Only its Transport is used: WithTimeout bounds
// each request, each CSRF token keeps its own cookie jar, and redirects
// are never followed.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *connection) error {
		if hc == nil {
			return fmt.Errorf("http client: %w: it is nil", ErrInvalidOption)
		}
		c.transport = hc.Transport
		return nil
	}
}
