package restgw

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sfsap/sfsap/pkg/sap"
)

// DefaultTimeout bounds one HTTP request when WithTimeout is not given.
const DefaultTimeout = 60 * time.Second

// Config holds the settings of an Adapter that a YAML file can set. Zero
// fields take the defaults named in their comments, which WithDefaults
// applies.
type Config struct {
	// CreatePath is the create service, as a path below the base URL or
	// as an absolute URL. Defaults to /services/CreateSAPCustomer.
	CreatePath string `yaml:"create_path"`
	// RequestTemplate is a Go text/template that renders a sap.Customer as
	// the JSON body of the create request. Besides text/template's
	// built-ins it may call json (a value as JSON), upper, lower, trim,
	// line (name line i of .Names, or "") and customerNo (SAP's ALPHA
	// conversion). ExternalRef is trimmed and upper-cased before rendering.
	// Defaults to DefaultRequestTemplate.
	RequestTemplate string `yaml:"request_template"`
	// CustomerNoPath is the path of the customer number in the create
	// response: keys separated by dots, array indexes, and * for every
	// element of an array. Defaults to CUSTOMERNO.
	CustomerNoPath string `yaml:"customer_no_path"`
	// ReturnPath is the path of the RETURN messages in the create and
	// lookup responses: one object with TYPE, ID, NUMBER and MESSAGE, or
	// an array of them. Defaults to RETURN.
	ReturnPath string `yaml:"return_path"`
	// LookupURL is a Go text/template of the lookup request's URL, as a
	// path below the base URL or an absolute URL, rendered with
	// .ExternalRef, such as
	// /services/FindSAPCustomer?EXTERNAL_REF={{.ExternalRef | urlquery}}.
	// The lookup is a GET.
	//
	// Empty means no lookup: FindByExternalRef then fails with
	// ErrLookupNotConfigured, and after a create whose outcome is unknown
	// nothing can tell whether SAP created the customer, so duplicates
	// cannot be excluded.
	LookupURL string `yaml:"lookup_url"`
	// LookupCustomerNoPath is the path of the customer numbers in the
	// lookup response. Defaults to RESULT_TAB.*.CUSTOMER, the rows of
	// BAPI_CUSTOMER_FIND.
	LookupCustomerNoPath string `yaml:"lookup_customer_no_path"`
	// ReturnRules decide whether RETURN messages are permanent, transient
	// or harmless. They are tried before sap.DefaultRules.
	ReturnRules []sap.Rule `yaml:"return_rules"`
	// Logger receives the adapter's log lines. Defaults to slog.Default().
	Logger *slog.Logger `yaml:"-"`
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	def := func(v *string, d string) {
		if strings.TrimSpace(*v) == "" {
			*v = d
		}
	}
	def(&c.CreatePath, "/services/CreateSAPCustomer")
	def(&c.RequestTemplate, DefaultRequestTemplate)
	def(&c.CustomerNoPath, "CUSTOMERNO")
	def(&c.ReturnPath, "RETURN")
	def(&c.LookupCustomerNoPath, "RESULT_TAB.*.CUSTOMER")
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate returns an error wrapping ErrInvalidConfig for the first field
// that has an unusable value. It checks that paths are well-formed, that
// the templates parse, and that the request template renders JSON for a
// sample customer. Call it after WithDefaults.
func (c Config) Validate() error {
	paths := []struct{ key, value string }{
		{"customer_no_path", c.CustomerNoPath},
		{"return_path", c.ReturnPath},
		{"lookup_customer_no_path", c.LookupCustomerNoPath},
	}
	for _, p := range paths {
		if err := checkPath(p.value); err != nil {
			return fmt.Errorf("%s: %w: %v", p.key, ErrInvalidConfig, err)
		}
	}
	if strings.TrimSpace(c.CreatePath) == "" || strings.ContainsAny(c.CreatePath, " \t") {
		return fmt.Errorf("create_path %q: %w: use a path such as /services/CreateSAPCustomer", c.CreatePath, ErrInvalidConfig)
	}

	tmpl, err := parseTemplate("request_template", c.RequestTemplate)
	if err != nil {
		return fmt.Errorf("request_template: %w: %v", ErrInvalidConfig, err)
	}
	if _, err := render(tmpl, sampleCustomer); err != nil {
		return fmt.Errorf("request_template: %w: %v", ErrInvalidConfig, err)
	}
	if c.LookupURL != "" {
		if _, err := parseTemplate("lookup_url", c.LookupURL); err != nil {
			return fmt.Errorf("lookup_url: %w: %v", ErrInvalidConfig, err)
		}
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
	user      string
	password  string
	timeout   time.Duration
	transport http.RoundTripper
}

// WithBasicAuth sets the user and password sent with HTTP Basic
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

// WithTimeout sets the time one request may take, from sending it to
// reading the whole response. Defaults to DefaultTimeout. When it expires
// after a create request was sent, the create fails with Kind Unknown.
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
// each request, and redirects are never followed.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *connection) error {
		if hc == nil {
			return fmt.Errorf("http client: %w: it is nil", ErrInvalidOption)
		}
		c.transport = hc.Transport
		return nil
	}
}
