package filter

import (
	"context"
	"errors"
	"time"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/logkey"
	"github.com/sfsap/sfsap/pkg/metrics"
	"github.com/sfsap/sfsap/pkg/sfclient"
)

// readAccounts reads the candidates' records. After REQUEST_LIMIT_EXCEEDED
// it holds the candidates in progress for LimitPause and reads again, so a
// long pause uses up none of their deliveries. It reports false when the
// candidates are already settled: naked after another failure, or when
// the service stopped during a pause.
func (s *Service) readAccounts(ctx, stop context.Context, cands []candidate, ids []string) ([]account.Account, bool) {
	for {
		if !s.waitOpen(ctx, stop, cands) {
			return nil, false
		}
		accts, err := s.sf.GetAccounts(ctx, ids)
		if sfclient.IsLimitError(err) {
			s.pauseAfterLimit(err, len(cands))
			continue
		}
		if err != nil {
			s.log.Warn("filter: reading accounts from Salesforce failed; will retry", "accounts", len(ids), logkey.Error, err)
			for _, c := range cands {
				bus.Settle(ctx, c.m, err, bus.RunOptions{Name: "filter", Logger: s.log})
			}
			return nil, false
		}
		return accts, true
	}
}

// pauseAfterLimit closes the gate after REQUEST_LIMIT_EXCEEDED.
func (s *Service) pauseAfterLimit(cause error, held int) {
	s.gate.Pause(s.cfg.LimitPause)
	metrics.SalesforcePaused("filter", metrics.PauseLimitExceeded)
	s.log.Warn("filter: Salesforce API request limit exceeded; pausing Salesforce reads",
		"pause", s.cfg.LimitPause, "changes_held", held, logkey.Error, cause)
}

// waitOpen holds the candidates in progress while the gate is closed. It
// reports false when the service stops first; the candidates are then
// naked with the rest of the pause as delay.
func (s *Service) waitOpen(ctx, stop context.Context, cands []candidate) bool {
	if s.gate.Remaining() == 0 {
		return true
	}
	stops := make([]func(), len(cands))
	for i, c := range cands {
		stops[i] = bus.KeepAlive(c.m, s.cfg.KeepAlive)
	}
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	context.AfterFunc(stop, cancel)
	err := s.gate.Wait(waitCtx)
	for _, stopKeepAlive := range stops {
		stopKeepAlive()
	}
	if err == nil {
		return true
	}
	retry := bus.Retry(errors.New("filter: stopped while paused for the API request limit"), max(s.gate.Remaining(), time.Second))
	for _, c := range cands {
		bus.Settle(ctx, c.m, retry, bus.RunOptions{Name: "filter", Logger: s.log})
	}
	return false
}
