// Package reconciler holds the reconciler: the safety net that makes
// every converted account end written back or visibly failed. On each
// pass it re-drives claims whose lease expired without a pending job and
// customers created but not written back, sweeps Salesforce for customer
// Accounts without an SAP number, and raises an alarm for consumers that
// stay full. Between passes it moves messages that ran out of deliveries
// to the dead-letter stream.
package reconciler

import (
	"context"
	"fmt"
	"time"

	"github.com/sfsap/sfsap/pkg/account"
)

// Config configures the reconciler.
type Config struct {
	// Interval is the time between passes over the ledger and the
	// consumers. Defaults to 1m.
	Interval time.Duration `yaml:"interval"`
	// Settle is the SAP worker's settle time: how long after a claim was
	// left by its holder SAP is assumed to have finished any create. Set
	// it to sapworker.settle. Defaults to 30s.
	Settle time.Duration `yaml:"settle"`
	// ClaimGrace is how long a claim may stay free with no job pending
	// before the reconciler queues a new job, which gives a redelivery in
	// flight time to arrive. Defaults to 1m.
	ClaimGrace time.Duration `yaml:"claim_grace"`
	// WritebackAfter is how long a customer may stay created but not
	// written back, with no write-back job pending, before the reconciler
	// queues its write-back again. Defaults to 10m.
	WritebackAfter time.Duration `yaml:"writeback_after"`
	// SweepInterval is the time between sweeps of Salesforce for customer
	// Accounts without an SAP number. Defaults to 15m.
	SweepInterval time.Duration `yaml:"sweep_interval"`
	// SweepMargin is how far before the previous sweep's end a sweep
	// looks, to cover clock differences and slow commits. Defaults to 10m.
	SweepMargin time.Duration `yaml:"sweep_margin"`
	// SweepDelay is how old a change must be before a sweep looks at it,
	// so that conversions still on their way through the listener and the
	// filter are left to them. Defaults to 2m.
	SweepDelay time.Duration `yaml:"sweep_delay"`
	// SweepLookback is how far back the first sweep looks when no earlier
	// sweep is recorded. Older customers without an SAP number are left
	// alone, since they may predate sfsap. Defaults to 72h, the time
	// Salesforce keeps change events.
	SweepLookback time.Duration `yaml:"sweep_lookback"`
	// StallAfter is how long a consumer may have MaxAckPending messages in
	// flight, with more waiting, before an alarm is logged. Defaults to 5m.
	StallAfter time.Duration `yaml:"stall_after"`
	// BatchSize is the number of Accounts read from Salesforce in one
	// request when claims are re-driven. Defaults to 100.
	BatchSize int `yaml:"batch_size"`
	// DisableSweep turns the Salesforce sweep off. Defaults to false.
	DisableSweep bool `yaml:"disable_sweep"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.Interval, time.Minute)
	def(&c.Settle, 30*time.Second)
	def(&c.ClaimGrace, time.Minute)
	def(&c.WritebackAfter, 10*time.Minute)
	def(&c.SweepInterval, 15*time.Minute)
	def(&c.SweepMargin, 10*time.Minute)
	def(&c.SweepDelay, 2*time.Minute)
	def(&c.SweepLookback, 72*time.Hour)
	def(&c.StallAfter, 5*time.Minute)
	if c.BatchSize == 0 {
		c.BatchSize = 100
	}
	return c
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	for _, d := range []struct {
		key   string
		value time.Duration
	}{
		{"interval", c.Interval}, {"settle", c.Settle}, {"claim_grace", c.ClaimGrace},
		{"writeback_after", c.WritebackAfter}, {"sweep_interval", c.SweepInterval},
		{"sweep_margin", c.SweepMargin}, {"sweep_delay", c.SweepDelay}, {"sweep_lookback", c.SweepLookback},
		{"stall_after", c.StallAfter},
	} {
		if d.value < 0 {
			return fmt.Errorf("reconciler: %s %s is negative: use a positive duration such as 1m", d.key, d.value)
		}
	}
	if c.BatchSize < 1 || c.BatchSize > 200 {
		return fmt.Errorf("reconciler: batch_size %d is out of range: use 1 to 200", c.BatchSize)
	}
	return nil
}

// Sweeper queues create jobs for customer Accounts without an SAP number
// changed from since up to until, as filter.Service.SweepBetween does.
type Sweeper interface {
	SweepBetween(ctx context.Context, since, until time.Time, reason string) (int, error)
}

// Accounts reads the current Account records, as the Salesforce client
// does. Ids not found are left out.
type Accounts interface {
	GetAccounts(ctx context.Context, ids []string) ([]account.Account, error)
}
