package sfsim

import (
	"net/http"
	"time"
)

// SetLatency sets the time added to every data API request from now on,
// replacing Options.Latency. A d of 0 or less removes the delay.
func (s *Server) SetLatency(d time.Duration) {
	s.latency.Store(int64(max(d, 0)))
}

// Latency returns the time added to every data API request.
func (s *Server) Latency() time.Duration {
	return time.Duration(s.latency.Load())
}

// wait holds the request for the configured latency. It returns false
// when the client went away first, so the request needs no response.
func (s *Server) wait(r *http.Request) bool {
	d := s.Latency()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}
