package notifier

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// SendError is a failed delivery of one outcome to one sink.
type SendError struct {
	// Sink is the sink's name: teams, slack, email or sharepoint.
	Sink string
	// Status is the HTTP status or SMTP reply code, or 0 when the failure
	// came before a reply, as with a refused connection.
	Status int
	// RetryAfter is the delay the server asked for, or 0.
	RetryAfter time.Duration
	// Permanent is set when sending again cannot succeed until someone
	// changes the configuration or the receiving side.
	Permanent bool
	Err       error
}

func (e *SendError) Error() string {
	msg := "sending to " + e.Sink
	if e.Status != 0 {
		msg += fmt.Sprintf(" (status %d)", e.Status)
	}
	return msg + ": " + e.Err.Error()
}

func (e *SendError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a *SendError marked permanent.
func IsPermanent(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Permanent
}

// retryAfterOf returns the server's requested delay of err, or 0.
func retryAfterOf(err error) time.Duration {
	var se *SendError
	if errors.As(err, &se) {
		return se.RetryAfter
	}
	return 0
}

// httpError classifies a non-2xx HTTP response: 408, 425, 429 and 5xx are
// transient, other statuses permanent. body is a short excerpt for the
// error message; it must not contain secrets.
func httpError(sink string, resp *http.Response, body string, now time.Time) *SendError {
	status := resp.StatusCode
	transient := status == http.StatusRequestTimeout || status == http.StatusTooEarly ||
		status == http.StatusTooManyRequests || status >= 500
	return &SendError{
		Sink:       sink,
		Status:     status,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), now),
		Permanent:  !transient,
		Err:        fmt.Errorf("%s: %s", http.StatusText(status), body),
	}
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP
// date. It returns 0 for an empty, invalid or past value.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
