package sfclient

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Usage is the org's API request consumption in the rolling 24 hours, as
// the newest Sforce-Limit-Info header reported it.
type Usage struct {
	Used  int64
	Limit int64
}

// Fraction returns Used/Limit, or 0 while the limit is unknown.
func (u Usage) Fraction() float64 {
	if u.Limit <= 0 {
		return 0
	}
	return float64(u.Used) / float64(u.Limit)
}

// Usage returns the org's API usage from the newest response, or zeros
// before the first data call.
func (c *Client) Usage() Usage {
	return Usage{Used: c.apiUsed.Load(), Limit: c.apiLimit.Load()}
}

// recordUsage stores the api-usage=used/limit part of a Sforce-Limit-Info
// header such as "api-usage=18/5000; api-bursts=1/750".
func (c *Client) recordUsage(header string) {
	for part := range strings.SplitSeq(header, ";") {
		value, ok := strings.CutPrefix(strings.TrimSpace(part), "api-usage=")
		if !ok {
			continue
		}
		usedText, limitText, ok := strings.Cut(value, "/")
		used, errUsed := strconv.ParseInt(usedText, 10, 64)
		limit, errLimit := strconv.ParseInt(limitText, 10, 64)
		if ok && errUsed == nil && errLimit == nil {
			c.apiUsed.Store(used)
			c.apiLimit.Store(limit)
		}
	}
}

// PauseGate pauses Salesforce-bound work after Salesforce responded with
// REQUEST_LIMIT_EXCEEDED, so a service stops sending requests that would
// fail the same way. The zero value is open. It is safe for concurrent
// use.
type PauseGate struct {
	mu    sync.Mutex
	until time.Time
}

// Pause closes the gate for d from now. A pause that ends later than the
// current one wins.
func (g *PauseGate) Pause(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if until := time.Now().Add(d); until.After(g.until) {
		g.until = until
	}
}

// Remaining returns how long the gate stays closed, or 0 when it is open.
func (g *PauseGate) Remaining() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return max(time.Until(g.until), 0)
}

// Wait blocks until the gate is open or ctx ends, and returns ctx.Err()
// in the second case.
func (g *PauseGate) Wait(ctx context.Context) error {
	for {
		d := g.Remaining()
		if d == 0 {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}
