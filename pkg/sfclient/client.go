// Package sfclient is the Salesforce REST client of sfsap's services. It
// logs in with the OAuth 2.0 client credentials or JWT bearer flow or the
// SOAP username-password login, renews an expired session once per call, and
// returns every failure as a typed *APIError with the Salesforce error
// code.
package sfclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/simpleforce/simpleforce"
)

// maxResponseBytes bounds the size of a response body the client reads.
const maxResponseBytes = 64 << 20

// Client calls the Salesforce REST API. It is safe for concurrent use.
//
// simpleforce is the session holder: it performs the SOAP login, keeps the
// session id and instance URL (SetSidLoc for OAuth tokens) and uses the
// same http.Client. The client sends REST requests itself with that
// session instead of simpleforce's ApexREST, because ApexREST takes no
// context, cannot send Sforce-Call-Options, drops the Sforce-Limit-Info
// header and panics on an empty error array.
type Client struct {
	cfg  Config
	http *http.Client
	auth authenticator
	log  *slog.Logger

	// mu guards sf, whose session fields simpleforce reads and writes
	// without locking, and rejected.
	mu sync.RWMutex
	sf *simpleforce.Client
	// rejected is the access token that a client of another API, such as
	// the CometD client, reported as rejected by Salesforce.
	rejected string

	apiUsed  atomic.Int64
	apiLimit atomic.Int64

	// absent holds optional Account fields that this org turned out not to
	// have, so account queries leave them out.
	absentMu sync.Mutex
	absent   map[string]bool
}

// New logs in and returns a client. Login failures are returned as an
// *APIError, such as invalid_grant or INVALID_LOGIN.
func New(ctx context.Context, cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: cfg.Timeout}
	sf := simpleforce.NewClient(cfg.LoginURL, cfg.CallOptionsClient, cfg.APIVersion)
	sf.SetHttpClient(hc)

	c := &Client{cfg: cfg, http: hc, sf: sf, log: cfg.Logger}
	switch cfg.Flow {
	case FlowClientCredentials:
		c.auth = newClientCredentials(cfg, hc)
	case FlowPassword:
		c.auth = &passwordLogin{loginURL: cfg.LoginURL, username: cfg.Username, password: cfg.Password, token: cfg.SecurityToken}
	case FlowJWT:
		c.auth = newJWTBearer(cfg, hc)
	}

	c.mu.Lock()
	err = c.auth.login(ctx, c.sf)
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return c, nil
}

// String describes the client without its session.
func (c *Client) String() string {
	return fmt.Sprintf("sfclient.Client{LoginURL:%q Flow:%q}", c.cfg.LoginURL, c.cfg.Flow)
}

// InstanceURL returns the URL of the org's instance, as the login
// returned it.
func (c *Client) InstanceURL() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.sf.GetLoc()
}

// APIUsage returns the org's API usage and daily limit from the
// Sforce-Limit-Info header of the newest response, or zeros before the
// first data call.
func (c *Client) APIUsage() (used, limit int64) {
	return c.apiUsed.Load(), c.apiLimit.Load()
}

func (c *Client) session() (sid, instance string) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.sf.GetSid(), c.sf.GetLoc()
}

// renew logs in again unless another call already replaced the session
// that failed.
func (c *Client) renew(ctx context.Context, failedSid string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sf.GetSid() != failedSid {
		return nil
	}
	if err := c.auth.login(ctx, c.sf); err != nil {
		c.log.Error("renewing Salesforce session failed", "flow", string(c.cfg.Flow), "error", err)
		return fmt.Errorf("renewing the Salesforce session: %w", err)
	}
	c.log.Info("renewed Salesforce session", "flow", string(c.cfg.Flow))
	return nil
}

// AccessToken returns the session's access token for clients of other
// Salesforce APIs, such as CometD, that share this client's session. When
// the current token was reported through TokenRejected, it logs in again
// first. Callers must not log the token.
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	c.mu.RLock()
	sid, rejected := c.sf.GetSid(), c.rejected
	c.mu.RUnlock()
	if sid != rejected {
		return sid, nil
	}
	if err := c.renew(ctx, sid); err != nil {
		return "", err
	}
	sid, _ = c.session()
	return sid, nil
}

// TokenRejected records that Salesforce rejected token, so that the next
// AccessToken call logs in again unless the session was renewed since.
func (c *Client) TokenRejected(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rejected = token
}

// dataPath returns the path of a data API resource for the configured
// version, such as /services/data/v60.0/query.
func (c *Client) dataPath(rel string) string {
	return "/services/data/v" + c.cfg.APIVersion + "/" + rel
}

// do sends a request to path on the instance and decodes a 2xx response
// into out when out is non-nil. On INVALID_SESSION_ID it renews the
// session once and sends the request again. Error responses are returned
// as *APIError.
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("encoding request body for %s %s: %w", method, path, err)
		}
	}
	for attempt := 1; ; attempt++ {
		sid, instance := c.session()
		status, respBody, err := c.send(ctx, method, instance+path, sid, payload)
		if err != nil {
			return err
		}
		if status >= 200 && status < 300 {
			if out == nil || len(bytes.TrimSpace(respBody)) == 0 {
				return nil
			}
			if err := json.Unmarshal(respBody, out); err != nil {
				return fmt.Errorf("decoding the response to %s %s: %w", method, path, err)
			}
			return nil
		}
		apiErr := ParseError(status, respBody)
		if attempt == 1 && IsSessionError(apiErr) {
			if err := c.renew(ctx, sid); err != nil {
				return err
			}
			continue
		}
		return apiErr
	}
}

func (c *Client) send(ctx context.Context, method, url, sid string, payload []byte) (int, []byte, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return 0, nil, fmt.Errorf("building request %s %s: %w", method, url, err)
	}
	req.Header.Set("Authorization", "Bearer "+sid)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Sforce-Call-Options", "client="+c.cfg.CallOptionsClient)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("sending %s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	c.recordUsage(resp.Header.Get("Sforce-Limit-Info"))
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return 0, nil, fmt.Errorf("reading the response to %s %s: %w", method, url, err)
	}
	return resp.StatusCode, respBody, nil
}
