package sfsim

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sfsap/sfsap/pkg/sfid"
)

// Fault is a rule that makes matching requests slow or failing. A request
// matches when its method, path and Account all match. The first matching
// fault in order of Add applies.
type Fault struct {
	// Method matches the HTTP method. Empty matches every method.
	Method string
	// PathPrefix matches the start of the path. For data API requests it
	// is relative to /services/data/vNN.N/, such as "sobjects/Account" or
	// "composite/sobjects". For other requests it is the full path, such
	// as "/services/oauth2/token". Empty matches every path.
	PathPrefix string
	// AccountID limits the fault to requests about one Account, in 15- or
	// 18-character form: a sObject request with that id in its path, or
	// that record inside a composite request, which then fails alone.
	// Requests that name no Account, such as queries, never match it.
	AccountID string
	// Times is how many requests the fault applies to before it is
	// removed. Zero means it stays until Clear.
	Times int
	// Status is the HTTP status of the error response. Defaults to 400
	// when ErrorCode is set. With Status and ErrorCode empty the fault
	// only adds Delay or drops the connection.
	Status int
	// ErrorCode and Message fill the error body, such as
	// UNABLE_TO_LOCK_ROW. Fields fills its fields array.
	ErrorCode string
	Message   string
	Fields    []string
	// Delay is added before the request is handled or fails. It ends
	// early when the client goes away.
	Delay time.Duration
	// Drop closes the connection without a response.
	Drop bool
	// AfterWrite applies the request first and then responds with the
	// error or drops the connection, so the client sees a failure for a
	// write that did happen.
	AfterWrite bool
}

// Faults is the ordered set of fault rules of a Server. It is safe for
// concurrent use.
type Faults struct {
	mu    sync.Mutex
	rules []*faultRule
}

type faultRule struct {
	Fault
	left int
}

// Add appends a fault rule.
func (fs *Faults) Add(f Fault) {
	if f.ErrorCode != "" && f.Status == 0 {
		f.Status = http.StatusBadRequest
	}
	if f.AccountID != "" {
		if id, err := sfid.To18(f.AccountID); err == nil {
			f.AccountID = id
		}
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rules = append(fs.rules, &faultRule{Fault: f, left: f.Times})
}

// Clear removes every fault rule.
func (fs *Faults) Clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rules = nil
}

// Len returns the number of fault rules that have not been used up.
func (fs *Faults) Len() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.rules)
}

// take returns the first rule that matches and counts one use of it.
// With accountID empty only rules without an AccountID match. With it
// set, rules for that Account and rules without an AccountID match.
func (fs *Faults) take(method, path, accountID string) (Fault, bool) {
	return fs.takeFunc(method, path, func(rule string) bool {
		return rule == "" || rule == accountID
	})
}

// takeForRecord returns the first rule for exactly this Account, for one
// record inside a composite request.
func (fs *Faults) takeForRecord(method, path, accountID string) (Fault, bool) {
	return fs.takeFunc(method, path, func(rule string) bool {
		return rule != "" && rule == accountID
	})
}

func (fs *Faults) takeFunc(method, path string, accountMatches func(string) bool) (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, rule := range fs.rules {
		if rule.Method != "" && !strings.EqualFold(rule.Method, method) {
			continue
		}
		if !strings.HasPrefix(path, rule.PathPrefix) || !accountMatches(rule.AccountID) {
			continue
		}
		if rule.Times > 0 {
			rule.left--
			if rule.left == 0 {
				fs.rules = append(fs.rules[:i:i], fs.rules[i+1:]...)
			}
		}
		return rule.Fault, true
	}
	return Fault{}, false
}

// errorFormat selects how an injected error is written, since each
// endpoint family has its own error shape.
type errorFormat int

const (
	formatREST errorFormat = iota
	formatOAuth
	formatSOAP
)

func endpointFormat(path string) errorFormat {
	switch {
	case strings.HasPrefix(path, "/services/oauth2/"):
		return formatOAuth
	case strings.HasPrefix(path, "/services/Soap/"):
		return formatSOAP
	}
	return formatREST
}

// applyFault waits for the fault's delay and writes its failure. It
// returns true when the request should go on to its handler, which is
// the case for delay-only faults. A fault with AfterWrite runs next
// against a discarded response before it fails.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f Fault, format errorFormat, next http.HandlerFunc) bool {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return false
		}
	}
	if f.Status == 0 && !f.Drop {
		return true
	}
	if f.AfterWrite {
		next(discardResponse{header: http.Header{}}, r)
	}
	if f.Drop {
		dropConnection(w)
		return false
	}
	message := f.Message
	if message == "" {
		message = http.StatusText(f.Status)
	}
	switch format {
	case formatOAuth:
		writeJSON(w, f.Status, map[string]string{"error": f.ErrorCode, "error_description": message})
	case formatSOAP:
		writeSOAPFault(w, f.Status, f.ErrorCode, message)
	default:
		fields := f.Fields
		if fields == nil {
			fields = []string{}
		}
		writeAPIError(w, f.Status, f.ErrorCode, message, fields)
	}
	return false
}

// dropConnection closes the client's connection without a response. When
// the connection cannot be taken over, as under HTTP/2, it aborts the
// handler, which makes net/http reset the stream.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// discardResponse is a ResponseWriter that drops what a handler writes.
type discardResponse struct{ header http.Header }

func (d discardResponse) Header() http.Header         { return d.header }
func (d discardResponse) Write(b []byte) (int, error) { return len(b), nil }
func (d discardResponse) WriteHeader(int)             {}
