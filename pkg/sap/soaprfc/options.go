package soaprfc

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// DefaultTimeout is the time a call may take, from sending the request to
// reading the whole response, when WithTimeout is not given.
const DefaultTimeout = 60 * time.Second

// Option configures a Client.
type Option func(*Client) error

// WithClient sets the SAP client (mandant), a three-digit number such as
// "100", sent as the sap-client query parameter. Without it SAP uses the
// system's default client.
func WithClient(client string) Option {
	return func(c *Client) error {
		if len(client) != 3 || strings.Trim(client, "0123456789") != "" {
			return fmt.Errorf("sap client %q: %w: use three digits, such as 100", client, ErrInvalidOption)
		}
		c.sapClient = client
		return nil
	}
}

// WithLanguage sets the logon language as a two-letter ISO 639-1 code,
// sent as the sap-language query parameter. Defaults to EN.
func WithLanguage(lang string) Option {
	return func(c *Client) error {
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
	return func(c *Client) error {
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

// WithTimeout sets the time a call may take, from sending the request to
// reading the whole response. Defaults to DefaultTimeout. When it expires
// after the request was sent, the call fails with Kind Unknown.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 {
			return fmt.Errorf("timeout %v: %w: use a positive duration", d, ErrInvalidOption)
		}
		c.timeout = d
		return nil
	}
}

// WithHTTPClient sets the HTTP client whose transport (TLS settings, a
// proxy) the Client uses. Only its Transport is used: WithTimeout bounds
// each call, sessions keep their own cookies, and redirects are never
// followed.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return fmt.Errorf("http client: %w: it is nil", ErrInvalidOption)
		}
		c.transport = hc.Transport
		return nil
	}
}
