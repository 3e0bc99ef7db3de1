package sapsim

import (
	"sync"
	"time"

	"github.com/sfsap/sfsap/pkg/sap"
)

// faults contains the injected faults. Each counted fault applies to the
// next n matching requests.
type faults struct {
	mu           sync.Mutex
	latencies    map[string]time.Duration
	lockErrors   int
	returns      map[string][]sap.Message
	httpStatuses []int
	soapFaults   map[string][]string
	afterCommit  []time.Duration
}

func newFaults() *faults {
	return &faults{
		latencies:  map[string]time.Duration{},
		returns:    map[string][]sap.Message{},
		soapFaults: map[string][]string{},
	}
}

// anyFunction is the key of faults that apply to every function module.
const anyFunction = ""

// SetLatency delays every call of function module fm by d before SAP
// works on it. An fm of "" applies to every call. The call runs to the end
// even when the client gives up waiting, as in SAP. A d of 0 removes the
// delay.
func (s *Server) SetLatency(fm string, d time.Duration) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if d <= 0 {
		delete(s.faults.latencies, fm)
		return
	}
	s.faults.latencies[fm] = d
}

// InjectLockErrors makes the next n creates, through the BAPI, the
// create wrapper or the OData deep insert, fail with message E MC 601
// (the customer is locked by another user), which is transient.
func (s *Server) InjectLockErrors(n int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.lockErrors += n
}

// InjectReturn makes the next n calls of fm return m in RETURN. For the
// create functions, the BAPI and the create wrapper, a message of type E
// or A makes the create fail and any other type replaces the RETURN of a
// create that succeeds. BAPI_CUSTOMER_FIND returns m and no result rows.
// BAPI_CUSTOMER_GETDETAIL2 returns m and no address. The other functions
// return m and otherwise work as usual. For ODataCreate, type E or A fails
// the deep insert with an OData error, and any other type comes back in
// the sap-message header of the 201 response. For ODataQuery, m fails
// the read.
func (s *Server) InjectReturn(fm string, n int, m sap.Message) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	for range n {
		s.faults.returns[fm] = append(s.faults.returns[fm], m)
	}
}

// InjectHTTPStatus makes the next n requests fail with HTTP status before
// authentication or any work, as the ICM does when no work process is free
// (503).
func (s *Server) InjectHTTPStatus(status, n int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	for range n {
		s.faults.httpStatuses = append(s.faults.httpStatuses, status)
	}
}

// InjectFault makes the next n calls of fm, or of any function module when
// fm is "", fail with a SOAP fault (HTTP 500, faultcode SOAP-ENV:Server)
// carrying text, before the function runs.
func (s *Server) InjectFault(fm string, n int, text string) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	for range n {
		s.faults.soapFaults[fm] = append(s.faults.soapFaults[fm], text)
	}
}

// InjectTimeoutAfterCommit makes the next n calls that commit a customer
// (the create wrapper, BAPI_TRANSACTION_COMMIT, the BAPI with AutoCommit,
// or the OData deep insert) commit and then keep the response back. With a positive
// hold the response follows after hold, unless the client gave up first.
// With hold 0 the connection is dropped. Either way the customer exists,
// though the client never learns its number.
func (s *Server) InjectTimeoutAfterCommit(n int, hold time.Duration) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	for range n {
		s.faults.afterCommit = append(s.faults.afterCommit, hold)
	}
}

func (f *faults) latency(fm string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d, ok := f.latencies[fm]; ok {
		return d
	}
	return f.latencies[anyFunction]
}

func (f *faults) takeLockError() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lockErrors == 0 {
		return false
	}
	f.lockErrors--
	return true
}

func (f *faults) takeReturn(fm string) (sap.Message, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.returns[fm]
	if len(q) == 0 {
		return sap.Message{}, false
	}
	f.returns[fm] = q[1:]
	return q[0], true
}

func (f *faults) takeHTTPStatus() (int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.httpStatuses) == 0 {
		return 0, false
	}
	status := f.httpStatuses[0]
	f.httpStatuses = f.httpStatuses[1:]
	return status, true
}

func (f *faults) takeFault(fm string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, key := range []string{fm, anyFunction} {
		if q := f.soapFaults[key]; len(q) > 0 {
			f.soapFaults[key] = q[1:]
			return q[0], true
		}
	}
	return "", false
}

func (f *faults) takeTimeoutAfterCommit() (time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.afterCommit) == 0 {
		return 0, false
	}
	hold := f.afterCommit[0]
	f.afterCommit = f.afterCommit[1:]
	return hold, true
}
