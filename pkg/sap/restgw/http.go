package restgw

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"

	"github.com/sfsap/sfsap/pkg/sap"
)

// maxResponseBytes bounds the response body that a request reads.
const maxResponseBytes = 16 << 20

// response is a response read in full.
type response struct {
	status int
	body   []byte
}

// do sends one request for operation op with Basic authentication and
// JSON headers and reads the whole response. Its errors are *sap.Error
// values: Transient when the request was not sent in full, so the
// gateway cannot have acted on it, and Unknown when it was sent but no
// complete response came back.
func (a *Adapter) do(ctx context.Context, op, method, url string, body []byte) (*response, error) {
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
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	if a.conn.user != "" {
		req.SetBasicAuth(a.conn.user, a.conn.password)
	}

	resp, err := a.http.Do(req)
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
	return &response{status: resp.StatusCode, body: data}, nil
}

// transportError classifies an error of the HTTP exchange.
func (a *Adapter) transportError(op string, err error, sent bool) error {
	if !sent {
		return &sap.Error{Kind: sap.Transient, Op: op, Err: fmt.Errorf("sending request: %w", err)}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no complete response within %v of sending the request, so the gateway may have processed it: %w", a.conn.timeout, err)
	} else {
		err = fmt.Errorf("reading response after sending the request, so the gateway may have processed it: %w", err)
	}
	return &sap.Error{Kind: sap.Unknown, Op: op, Err: err}
}

// statusError returns the *sap.Error of a response whose status is not a
// success:
//   - 401, 403 and every other 4xx are Permanent;
//   - 429 and 503 are Transient, because the gateway refused the request
//     before it called SAP;
//   - every other 5xx is Unknown, because the gateway may have called SAP
//     and SAP may have committed before the failure.
func (a *Adapter) statusError(op string, resp *response) *sap.Error {
	e := &sap.Error{Op: op, HTTPStatus: resp.status, Err: errors.New(sap.Snippet(resp.body))}
	switch {
	case resp.status == http.StatusUnauthorized:
		e.Kind = sap.Permanent
		e.Err = fmt.Errorf("%w: check the user and password", ErrUnauthorized)
	case resp.status == http.StatusForbidden:
		e.Kind = sap.Permanent
		e.Err = fmt.Errorf("%w: check the user's permission for the service", ErrForbidden)
	case resp.status == http.StatusTooManyRequests || resp.status == http.StatusServiceUnavailable:
		e.Kind = sap.Transient
	case resp.status >= 500:
		e.Kind = sap.Unknown
		e.Err = fmt.Errorf("the gateway may have called SAP before it failed: %s", sap.Snippet(resp.body))
	default:
		e.Kind = sap.Permanent
	}
	return e
}
