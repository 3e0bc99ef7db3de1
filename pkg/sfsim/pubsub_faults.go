package sfsim

import "sync"

// PubSubFaults injects Pub/Sub API failures, each into one Subscribe
// stream. The zero value is ready to use and safe for concurrent use.
type PubSubFaults struct {
	mu      sync.Mutex
	pending [pubsubFaultKinds]int
	// wake is closed when a fault is added, so waiting streams notice it.
	wake chan struct{}
}

type pubsubFault int

const (
	pubsubAuthExpired pubsubFault = iota
	pubsubUnavailable
	pubsubReplayCorrupted
	pubsubFaultKinds
)

// InjectAuthExpired ends one open Subscribe stream, or the next one to
// open, with UNAUTHENTICATED and the error-code PubSubErrAuth, as when the
// session behind the stream expires. The token itself stays valid; call
// (*Server).ExpireTokens as well to make the client fetch a new one.
func (f *PubSubFaults) InjectAuthExpired() {
	f.add(pubsubAuthExpired)
}

// InjectUnavailable ends one open Subscribe stream, or the next one to
// open, with UNAVAILABLE, as a dropped connection or a server restart
// does.
func (f *PubSubFaults) InjectUnavailable() {
	f.add(pubsubUnavailable)
}

// InjectReplayCorrupted makes the next Subscribe stream reject its start
// position with INVALID_ARGUMENT and the error-code
// PubSubErrReplayCorrupted, whatever replay preset or id it requests.
func (f *PubSubFaults) InjectReplayCorrupted() {
	f.add(pubsubReplayCorrupted)
}

func (f *PubSubFaults) add(kind pubsubFault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending[kind]++
	if f.wake != nil {
		close(f.wake)
		f.wake = nil
	}
}

// take consumes one pending fault of the kind and reports whether there
// was one. A nil receiver has no faults.
func (f *PubSubFaults) take(kind pubsubFault) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pending[kind] == 0 {
		return false
	}
	f.pending[kind]--
	return true
}

// wakeChan returns a channel that is closed when the next fault is added,
// or nil for a nil receiver.
func (f *PubSubFaults) wakeChan() <-chan struct{} {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.wake == nil {
		f.wake = make(chan struct{})
	}
	return f.wake
}
