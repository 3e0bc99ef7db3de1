// Package soaprfc calls RFC-enabled function modules through SAP's
// SOAP-RFC handler, /sap/bc/soap/rfc, which every ABAP system since Web AS
// 6.20 offers once the service is active in SICF. It implements the
// interfaces of package rfc over HTTP with SOAP 1.1 and Basic
// authentication, so it needs neither cgo nor SAP's RFC SDK.
//
// Each call is an HTTP POST of an envelope whose body element is the
// function module, in namespace urn:sap-com:document:sap:rfc:functions,
// with one unqualified child per parameter. SAP responds with an element
// named after the module plus ".Response", or with a SOAP fault.
//
// Failed calls return a *sap.Error. Its Kind states what the caller may do
// next:
//   - Transient: the request never reached SAP.
//   - Unknown: the request was sent but no usable response came back, so
//     the function may have run.
//   - Permanent: SAP rejected the request itself.
package soaprfc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sap/rfc"
)

// HandlerPath is the path of the SOAP-RFC handler below the base URL.
const HandlerPath = "/sap/bc/soap/rfc"

// maxResponseBytes bounds the response body that a call reads.
const maxResponseBytes = 32 << 20

var _ rfc.SessionCaller = (*Client)(nil)

// Client calls function modules on one SAP system. It is safe for
// concurrent use. Calls made with Call are stateless: each runs in its own
// ABAP session.
type Client struct {
	endpoint  string
	sapClient string
	language  string
	user      string
	password  string
	timeout   time.Duration
	transport http.RoundTripper
	http      *http.Client
}

// New returns a Client for the SAP system at baseURL, such as
// "https://sap.example.com:44300". It returns an error wrapping
// ErrInvalidOption when baseURL is not an absolute http or https URL or an
// option value is invalid.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("base URL %q: %w: %v", baseURL, ErrInvalidOption, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("base URL %q: %w: use an absolute http or https URL, such as https://sap.example.com:44300", baseURL, ErrInvalidOption)
	}

	c := &Client{language: "EN", timeout: DefaultTimeout}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, err
		}
	}

	q := url.Values{}
	if c.sapClient != "" {
		q.Set("sap-client", c.sapClient)
	}
	q.Set("sap-language", c.language)
	u.Path = strings.TrimRight(u.Path, "/") + HandlerPath
	u.RawQuery = q.Encode()
	u.Fragment = ""
	c.endpoint = u.String()
	c.http = c.newHTTPClient(nil)
	return c, nil
}

func (c *Client) newHTTPClient(jar http.CookieJar) *http.Client {
	return &http.Client{
		Transport: c.transport,
		Jar:       jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Endpoint returns the URL that calls are posted to, with the sap-client
// and sap-language query parameters.
func (c *Client) Endpoint() string { return c.endpoint }

// Call runs function module fm with params in a new ABAP session. See
// the package documentation for the errors it returns.
func (c *Client) Call(ctx context.Context, fm string, params map[string]any) (map[string]any, error) {
	return c.call(ctx, c.http, fm, params)
}

// Session returns a Caller whose calls share one ABAP session, which SAP
// binds to the cookies it sets. The caller keeps those cookies until close
// runs. It contacts SAP only on the first call.
//
// NOTE: close discards the cookies but sends nothing, so SAP keeps the
// session, and any uncommitted work in it, until its idle timeout ends it.
func (c *Client) Session(ctx context.Context) (rfc.Caller, func(), error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, nil, fmt.Errorf("creating cookie jar: %w", err)
	}
	s := &session{client: c, http: c.newHTTPClient(jar)}
	return s, s.close, nil
}

type session struct {
	client *Client
	http   *http.Client
	closed atomic.Bool
}

func (s *session) Call(ctx context.Context, fm string, params map[string]any) (map[string]any, error) {
	if s.closed.Load() {
		return nil, &sap.Error{Kind: sap.Permanent, Op: fm, Err: ErrSessionClosed}
	}
	return s.client.call(ctx, s.http, fm, params)
}

func (s *session) close() {
	s.closed.Store(true)
}

func (c *Client) call(ctx context.Context, hc *http.Client, fm string, params map[string]any) (map[string]any, error) {
	body, err := encodeRequest(fm, params)
	if err != nil {
		return nil, &sap.Error{Kind: sap.Permanent, Op: fm, Err: fmt.Errorf("encoding request: %w", err)}
	}

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	// The request counts as sent once it was written in full. Before that
	// SAP cannot have run the function, so a failure is transient.
	var sent atomic.Bool
	trace := &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				sent.Store(true)
			}
		},
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, &sap.Error{Kind: sap.Permanent, Op: fm, Err: fmt.Errorf("building request: %w", err)}
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("Accept", "text/xml")
	req.Header.Set("SOAPAction", `"`+rfcNS+`"`)
	if c.user != "" {
		req.SetBasicAuth(c.user, c.password)
	}

	resp, err := hc.Do(req)
	if err != nil {
		return nil, c.transportError(fm, err, sent.Load())
	}
	defer resp.Body.Close()

	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, c.transportError(fm, err, true)
	}
	if len(data) > maxResponseBytes {
		return nil, &sap.Error{Kind: sap.Unknown, Op: fm, HTTPStatus: resp.StatusCode,
			Err: fmt.Errorf("%w: response larger than %d bytes", ErrInvalidResponse, maxResponseBytes)}
	}

	contentType := resp.Header.Get("Content-Type")
	switch resp.StatusCode {
	case http.StatusOK:
		result, fault, err := decodeResponse(fm, data, contentType)
		if fault != nil {
			return nil, faultError(fm, resp.StatusCode, fault)
		}
		if err != nil {
			// SAP responded with 200, so the function ran, but its
			// exports cannot be read.
			return nil, &sap.Error{Kind: sap.Unknown, Op: fm, HTTPStatus: resp.StatusCode, Err: err}
		}
		return result, nil
	case http.StatusInternalServerError:
		if _, fault, _ := decodeResponse(fm, data, contentType); fault != nil {
			return nil, faultError(fm, resp.StatusCode, fault)
		}
	}
	return nil, statusError(fm, resp.StatusCode, sap.Snippet(data))
}

// transportError classifies an error of the HTTP exchange.
func (c *Client) transportError(fm string, err error, sent bool) error {
	if !sent {
		return &sap.Error{Kind: sap.Transient, Op: fm, Err: fmt.Errorf("sending request to %s: %w", c.endpoint, err)}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no complete response within %v of sending the request, so %s may have run: %w", c.timeout, fm, err)
	} else {
		err = fmt.Errorf("reading response after sending the request, so %s may have run: %w", fm, err)
	}
	return &sap.Error{Kind: sap.Unknown, Op: fm, Err: err}
}
