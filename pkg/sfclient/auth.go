package sfclient

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/simpleforce/simpleforce"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/oauth2/jwt"
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
	// FlowJWT is the OAuth 2.0 JWT bearer flow: the client signs an
	// assertion with the connected app's private key, and Salesforce
	// checks it against the app's certificate. No secret is sent.
	FlowJWT Flow = "jwt"
)

// jwtLifetime is the lifetime of a JWT bearer assertion. Salesforce is
// reported to accept assertions that expire within 3 minutes.
const jwtLifetime = 3 * time.Minute

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
	// PrivateKeyFile is the PEM file of the connected app's RSA private
	// key (PKCS #1 or PKCS #8) for FlowJWT, whose assertion names
	// ClientID as issuer and Username as subject.
	PrivateKeyFile string `yaml:"private_key_file"`
	// PrivateKey is the PEM key itself, for callers that do not keep it
	// in a file. It takes precedence over PrivateKeyFile.
	PrivateKey []byte `yaml:"-"`
	// Audience is the aud claim of a JWT assertion. Defaults to LoginURL;
	// set it to https://login.salesforce.com when logging in through a
	// My Domain URL of a production org.
	Audience string `yaml:"jwt_audience"`
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
		switch {
		case len(c.PrivateKey) > 0 || c.PrivateKeyFile != "":
			c.Flow = FlowJWT
		case c.Username != "":
			c.Flow = FlowPassword
		default:
			c.Flow = FlowClientCredentials
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
	case FlowJWT:
		if c.ClientID == "" || c.Username == "" {
			return c, errors.New("sfclient: the JWT bearer flow needs the connected app's client ID (issuer) and the username (subject)")
		}
		if len(c.PrivateKey) == 0 {
			if c.PrivateKeyFile == "" {
				return c, errors.New("sfclient: the JWT bearer flow needs a private key: set private_key_file to the connected app's PEM key")
			}
			key, err := os.ReadFile(c.PrivateKeyFile)
			if err != nil {
				return c, fmt.Errorf("sfclient: reading the JWT private key: %w", err)
			}
			c.PrivateKey = key
		}
		if err := checkRSAKey(c.PrivateKey); err != nil {
			return c, fmt.Errorf("sfclient: invalid JWT private key %s: %w", c.PrivateKeyFile, err)
		}
		if c.Audience == "" {
			c.Audience = c.LoginURL
		}
	default:
		return c, fmt.Errorf("sfclient: unknown flow %q: use %q, %q or %q", c.Flow, FlowClientCredentials, FlowPassword, FlowJWT)
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
	return fmt.Sprintf("sfclient.Config{LoginURL:%q APIVersion:%q Flow:%q ClientID:%q ClientSecret:%q Username:%q Password:%q SecurityToken:%q PrivateKeyFile:%q PrivateKey:%q Timeout:%s CallOptionsClient:%q}",
		c.LoginURL, c.APIVersion, c.Flow, c.ClientID, redact(c.ClientSecret), c.Username,
		redact(c.Password), redact(c.SecurityToken), c.PrivateKeyFile, redact(string(c.PrivateKey)), c.Timeout, c.CallOptionsClient)
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
		slog.String("private_key_file", c.PrivateKeyFile),
		slog.String("private_key", redact(string(c.PrivateKey))),
	)
}

// authenticator obtains a new session and stores it in the simpleforce
// client. Callers hold the Client's write lock.
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
	return storeToken(sf, tok, err, a.conf.TokenURL, a.conf.ClientID)
}

// jwtBearer logs in with the OAuth 2.0 JWT bearer flow.
type jwtBearer struct {
	conf jwt.Config
	http *http.Client
}

func newJWTBearer(cfg Config, hc *http.Client) *jwtBearer {
	return &jwtBearer{
		conf: jwt.Config{
			Email:      cfg.ClientID,
			Subject:    cfg.Username,
			PrivateKey: cfg.PrivateKey,
			TokenURL:   cfg.LoginURL + "/services/oauth2/token",
			Audience:   cfg.Audience,
			Expires:    jwtLifetime,
		},
		http: hc,
	}
}

// login signs a new assertion for every login, so each one is fresh.
func (a *jwtBearer) login(ctx context.Context, sf *simpleforce.Client) error {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, a.http)
	tok, err := a.conf.TokenSource(ctx).Token()
	return storeToken(sf, tok, err, a.conf.TokenURL, a.conf.Email)
}

// storeToken hands the access token and instance URL of an OAuth token
// response to simpleforce, or turns the token request's failure into an
// *APIError.
func storeToken(sf *simpleforce.Client, tok *oauth2.Token, err error, tokenURL, clientID string) error {
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			status := 0
			if re.Response != nil {
				status = re.Response.StatusCode
			}
			apiErr := ParseError(status, re.Body)
			return fmt.Errorf("requesting a token from %s with client ID %s: %w", tokenURL, clientID, apiErr)
		}
		return fmt.Errorf("requesting a token from %s: %w", tokenURL, err)
	}
	instance, _ := tok.Extra("instance_url").(string)
	if u, err := url.Parse(instance); err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("requesting a token from %s: the token response has no valid instance_url (%q)", tokenURL, instance)
	}
	sf.SetSidLoc(tok.AccessToken, strings.TrimSuffix(instance, "/"))
	return nil
}

// checkRSAKey reports whether pemKey holds an RSA private key in PKCS #1
// or PKCS #8 form, as the RS256 signature needs.
func checkRSAKey(pemKey []byte) error {
	block, _ := pem.Decode(pemKey)
	if block == nil {
		return errors.New("no PEM block found")
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return nil
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return fmt.Errorf("parsing PEM block %q: want an RSA key in PKCS #1 or PKCS #8 form: %w", block.Type, err)
	}
	if _, ok := key.(*rsa.PrivateKey); !ok {
		return fmt.Errorf("the key is a %T, want an RSA key", key)
	}
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
