package odata

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"

	"github.com/sfsap/sfsap/pkg/sap"
)

// maxResponseBytes bounds the response body that a request reads.
const maxResponseBytes = 16 << 20

// response is a response read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (a *Adapter) newHTTPClient(jar http.CookieJar) *http.Client {
	return &http.Client{
		Transport: a.conn.transport,
		Jar:       jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// serviceURL returns the URL of path below the service root, with query
// and the sap-client and sap-language parameters. query must be encoded.
func (a *Adapter) serviceURL(path, query string) string {
	var b strings.Builder
	b.WriteString(a.root + path + "?")
	if query != "" {
		b.WriteString(query + "&")
	}
	if a.conn.sapClient != "" {
		b.WriteString("sap-client=" + a.conn.sapClient + "&")
	}
	b.WriteString("sap-language=" + a.conn.language)
	return b.String()
}

// do sends one request for operation op with Basic authentication and JSON headers and
// reads the whole response. Its errors are *sap.Error values: Transient
// when the request was not sent in full, so SAP cannot have acted on it,
// and Unknown when it was sent but no complete response came back.
func (a *Adapter) do(ctx context.Context, hc *http.Client, op, method, url string, body []byte, headers map[string]string) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, a.conn.timeout)
	defer cancel()

	// The request counts as sent once it was written in full.
	var sent atomic.Bool
	trace := &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				sent.Store(true)
			}
		},
	}
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), method, url, reader)
	if err != nil {
		return nil, &sap.Error{Kind: sap.Permanent, Op: op, Err: fmt.Errorf("building request: %w", err)}
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if a.conn.user != "" {
		req.SetBasicAuth(a.conn.user, a.conn.password)
	}

	resp, err := hc.Do(req)
	if err != nil {
		return nil, a.transportError(op, err, sent.Load())
	}
	defer resp.Body.Close()

	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, a.transportError(op, err, true)
	}
	if len(data) > maxResponseBytes {
		return nil, &sap.Error{Kind: sap.Unknown, Op: op, HTTPStatus: resp.StatusCode,
			Err: fmt.Errorf("%w: response larger than %d bytes", ErrInvalidResponse, maxResponseBytes)}
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// transportError classifies an error of the HTTP exchange.
func (a *Adapter) transportError(op string, err error, sent bool) error {
	if !sent {
		return &sap.Error{Kind: sap.Transient, Op: op, Err: fmt.Errorf("sending request: %w", err)}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no complete response within %v of sending the request, so SAP may have processed it: %w", a.conn.timeout, err)
	} else {
		err = fmt.Errorf("reading response after sending the request, so SAP may have processed it: %w", err)
	}
	return &sap.Error{Kind: sap.Unknown, Op: op, Err: err}
}

// statusError returns the *sap.Error of a response whose status is not a
// success. The messages of an OData error body decide between Transient
// and Permanent, unless the status alone decides:
//   - 401 and 403 are Permanent (a logon or authorisation problem);
//   - 429 and 503 are Transient (SAP refused the request before work);
//   - any other 5xx without an OData error body is Unknown, because a
//     proxy or SAP may have processed the request before it failed.
func (a *Adapter) statusError(op string, resp *response) error {
	msgs, parseErr := ParseError(resp.body)
	e := &sap.Error{Op: op, HTTPStatus: resp.status, Messages: msgs}
	switch {
	case resp.status == http.StatusUnauthorized:
		e.Kind = sap.Permanent
		e.Err = fmt.Errorf("%w: check the SAP user and password", ErrUnauthorized)
	case resp.status == http.StatusForbidden:
		e.Kind = sap.Permanent
		e.Err = fmt.Errorf("%w: check the user's authorisations for API_BUSINESS_PARTNER", ErrForbidden)
	case resp.status == http.StatusTooManyRequests || resp.status == http.StatusServiceUnavailable:
		e.Kind = sap.Transient
	case parseErr == nil:
		e.Kind = sap.Permanent
		if a.classifier.Classify(msgs) == sap.OutcomeTransient {
			e.Kind = sap.Transient
		}
	case resp.status >= 500:
		e.Kind = sap.Unknown
		e.Err = fmt.Errorf("%w: no OData error body, so SAP may have processed the request: %s", ErrInvalidResponse, sap.Snippet(resp.body))
	default:
		e.Kind = sap.Permanent
		e.Err = fmt.Errorf("%w: %s", ErrInvalidResponse, sap.Snippet(resp.body))
	}
	if e.Kind == sap.Transient && e.Err == nil && parseErr != nil {
		e.Err = errors.New(sap.Snippet(resp.body))
	}
	return e
}
