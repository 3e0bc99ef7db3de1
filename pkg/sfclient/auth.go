package sfclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/simpleforce/simpleforce"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Flow is the way the client obtains its session.
type Flow string

// Supported flows.
const (
	// FlowClientCredentials is the OAuth 2.0 client credentials flow of a
	// connected app with a run-as user.
	FlowClientCredentials Flow = "client_credentials"
	// FlowPassword is the username-password login over the SOAP API, as
	// simpleforce performs it, for orgs without a suitable connected app.
	FlowPassword Flow = "password"
)

// DefaultAPIVersion is the REST API version used when Config.APIVersion
// is empty.
const DefaultAPIVersion = "60.0"

// Config configures a Client. Its String and LogValue methods hide the
// secrets, so a Config can be printed and logged.
type Config struct {
	// LoginURL is the login host, such as https://login.salesforce.com,
	// https://test.salesforce.com or the org's My Domain URL. The client
	// credentials flow needs the My Domain URL.
	LoginURL string `yaml:"login_url"`
	// APIVersion is the REST API version, such as "60.0". Defaults to
	// DefaultAPIVersion.
	APIVersion string `yaml:"api_version"`
	// Flow selects the login. Defaults to FlowPassword when Username is
	// set and to FlowClientCredentials otherwise.
	Flow Flow `yaml:"flow"`
	// ClientID and ClientSecret are the connected app's consumer key and
	// secret, needed by FlowClientCredentials.
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	// Username, Password and SecurityToken are the integration user's
	// credentials for FlowPassword. The token may be empty when the
	// org trusts the caller's IP range.
	Username      string `yaml:"username"`
	Password      string `yaml:"password"`
	SecurityToken string `yaml:"security_token"`
	// Fields names the custom Account fields. Empty names take the
	// defaults of account.DefaultFields.
	Fields account.Fields `yaml:"fields"`
	// Timeout bounds each HTTP request, login included. Defaults to 30
	// seconds.
	Timeout time.Duration `yaml:"timeout"`
	// CallOptionsClient is sent as Sforce-Call-Options: client=<value>,
	// so that change events of the client's own writes carry it in
	// changeOrigin. Defaults to "sfsap".
	CallOptionsClient string `yaml:"call_options_client"`
	// Logger receives session renewals. Defaults to slog.Default().
	Logger *slog.Logger `yaml:"-"`
}

func (c Config) withDefaults() (Config, error) {
	c.LoginURL = strings.TrimSuffix(c.LoginURL, "/")
	if c.LoginURL == "" {
		return c, errors.New("sfclient: login URL is empty: set it to https://login.salesforce.com, https://test.salesforce.com or the org's My Domain URL")
	}
	if u, err := url.Parse(c.LoginURL); err != nil || u.Scheme == "" || u.Host == "" {
		return c, fmt.Errorf("sfclient: invalid login URL %q: want an absolute URL such as https://login.salesforce.com", c.LoginURL)
	}

	c.APIVersion = strings.TrimPrefix(c.APIVersion, "v")
	if c.APIVersion == "" {
		c.APIVersion = DefaultAPIVersion
	}
	if c.Flow == "" {
		c.Flow = FlowClientCredentials
		if c.Username != "" {
			c.Flow = FlowPassword
		}
	}
	switch c.Flow {
	case FlowClientCredentials:
		if c.ClientID == "" || c.ClientSecret == "" {
			return c, errors.New("sfclient: the client credentials flow needs a client ID and a client secret: set both, or set a username and password for the password flow")
		}
	case FlowPassword:
		if c.Username == "" || c.Password == "" {
			return c, errors.New("sfclient: the password flow needs a username and a password")
		}
	default:
		return c, fmt.Errorf("sfclient: unknown flow %q: use %q or %q", c.Flow, FlowClientCredentials, FlowPassword)
	}

	c.Fields = c.Fields.WithDefaults()
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.CallOptionsClient == "" {
		c.CallOptionsClient = "sfsap"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

func redact(secret string) string {
	if secret == "" {
		return ""
	}
	return "[redacted]"
}

// String returns the configuration with secrets replaced by [redacted].
func (c Config) String() string {
	return fmt.Sprintf("sfclient.Config{LoginURL:%q APIVersion:%q Flow:%q ClientID:%q ClientSecret:%q Username:%q Password:%q SecurityToken:%q Timeout:%s CallOptionsClient:%q}",
		c.LoginURL, c.APIVersion, c.Flow, c.ClientID, redact(c.ClientSecret), c.Username,
		redact(c.Password), redact(c.SecurityToken), c.Timeout, c.CallOptionsClient)
}

// GoString hides the secrets from %#v as String does from %v.
func (c Config) GoString() string { return c.String() }

// LogValue returns the configuration for log/slog without its secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("login_url", c.LoginURL),
		slog.String("api_version", c.APIVersion),
		slog.String("flow", string(c.Flow)),
		slog.String("client_id", c.ClientID),
		slog.String("client_secret", redact(c.ClientSecret)),
		slog.String("username", c.Username),
		slog.String("password", redact(c.Password)),
		slog.String("security_token", redact(c.SecurityToken)),
	)
}

// authenticator obtains a new session and stores it in the simpleforce
// client. Callers hold the Client's write lock. A JWT bearer flow would be
// a third implementation.
type authenticator interface {
	login(ctx context.Context, sf *simpleforce.Client) error
}

// clientCredentials logs in with the OAuth 2.0 client credentials flow.
type clientCredentials struct {
	conf clientcredentials.Config
	http *http.Client
}

func newClientCredentials(cfg Config, hc *http.Client) *clientCredentials {
	return &clientCredentials{
		conf: clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			TokenURL:     cfg.LoginURL + "/services/oauth2/token",
			// Salesforce documents the credentials as form parameters.
			AuthStyle: oauth2.AuthStyleInParams,
		},
		http: hc,
	}
}

func (a *clientCredentials) login(ctx context.Context, sf *simpleforce.Client) error {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, a.http)
	tok, err := a.conf.Token(ctx)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			status := 0
			if re.Response != nil {
				status = re.Response.StatusCode
			}
			apiErr := ParseError(status, re.Body)
			return fmt.Errorf("requesting a token from %s with client ID %s: %w", a.conf.TokenURL, a.conf.ClientID, apiErr)
		}
		return fmt.Errorf("requesting a token from %s: %w", a.conf.TokenURL, err)
	}
	instance, _ := tok.Extra("instance_url").(string)
	if u, err := url.Parse(instance); err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("requesting a token from %s: the token response has no valid instance_url (%q)", a.conf.TokenURL, instance)
	}
	sf.SetSidLoc(tok.AccessToken, strings.TrimSuffix(instance, "/"))
	return nil
}

// passwordLogin logs in through simpleforce's SOAP login.
type passwordLogin struct {
	loginURL string
	username string
	password string
	token    string
}

// login calls simpleforce's LoginPassword, which takes no context: its
// duration is bounded by the HTTP client's timeout instead.
func (a *passwordLogin) login(_ context.Context, sf *simpleforce.Client) (err error) {
	// simpleforce.ParseSalesforceError indexes the first element of a
	// JSON error array and panics on an empty one. A login host that
	// responds with [] must not crash the service.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("logging in to %s as %s: simpleforce panicked while parsing the login response: %v", a.loginURL, a.username, p)
		}
	}()
	if err := sf.LoginPassword(a.username, a.password, a.token); err != nil {
		var sfe simpleforce.SalesforceError
		if errors.As(err, &sfe) {
			apiErr := &APIError{Status: sfe.HttpCode, ErrorCode: soapCode(sfe.ErrorCode), Message: sfe.ErrorMessage}
			if sfe.ErrorCode == "" {
				apiErr = ParseError(sfe.HttpCode, []byte(sfe.Message))
			}
			return fmt.Errorf("logging in to %s as %s: %w", a.loginURL, a.username, apiErr)
		}
		return fmt.Errorf("logging in to %s as %s: %w", a.loginURL, a.username, err)
	}
	if sf.GetSid() == "" {
		return fmt.Errorf("logging in to %s as %s: the login response has no session id", a.loginURL, a.username)
	}
	return nil
}
