// Package writeback holds the writeback service. It records each sync
// outcome on the Salesforce Account and publishes it to the audit trail.
// The outcome is the SAP customer number, or a status and a reason that a
// sales rep can read, plus the attempts, the time and the correlation id.
// Pending jobs are written in batches through sObject collections
// requests.
package writeback

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/sfclient"
)

// Config configures the writeback service.
type Config struct {
	// Fields names the Salesforce fields. Defaults to account.DefaultFields.
	Fields account.Fields `yaml:"fields"`
	// BatchSize is the maximum number of jobs written in one sObject
	// collections request. Defaults to 200, the Salesforce maximum.
	BatchSize int `yaml:"batch_size"`
	// Concurrency is the number of batches written at once. Defaults to
	// 1, which keeps the jobs of one Account in order.
	Concurrency int `yaml:"concurrency"`
	// MaxDeliver is the consumer's delivery limit; on the last delivery a
	// transient failure is dead-lettered. Defaults to 20.
	MaxDeliver int `yaml:"max_deliver"`
	// ReasonLength caps the reason written to the error field, in
	// characters. Defaults to 255, the length of a Salesforce text field.
	ReasonLength int `yaml:"reason_length"`
	// RetryBase and RetryMax bound the exponential backoff before a
	// transient failure, such as UNABLE_TO_LOCK_ROW, is retried: RetryBase
	// doubled per delivery up to RetryMax, with up to 25 % random jitter.
	// Default to 2s and 5m.
	RetryBase time.Duration `yaml:"retry_base"`
	RetryMax  time.Duration `yaml:"retry_max"`
	// LimitPause is how long the service stops writing after Salesforce
	// responded with REQUEST_LIMIT_EXCEEDED. Jobs stay in progress meanwhile and
	// are never dead-lettered for it. Defaults to 5m.
	LimitPause time.Duration `yaml:"limit_pause"`
	// DeferAbove is the share of the org's daily API limit above which
	// write-backs that carry no SAP number (failure statuses) wait, so the
	// rest of the allocation stays for conversions. 1 or more turns it
	// off. Defaults to 0.9.
	DeferAbove float64 `yaml:"defer_above"`
	// DeferDelay is how long a deferred write-back waits before it is
	// tried again. Defaults to 10m.
	DeferDelay time.Duration `yaml:"defer_delay"`
	// KeepAlive is the interval of in-progress acks for jobs held during
	// a pause. It must stay below the consumer's AckWait. Defaults to 10s.
	KeepAlive time.Duration `yaml:"keep_alive"`
	// Backoff, when set, replaces the exponential backoff: it returns the
	// delay before a transient failure on the given delivery is retried.
	Backoff func(delivery uint64) time.Duration `yaml:"-"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	c.Fields = c.Fields.WithDefaults()
	if c.BatchSize == 0 {
		c.BatchSize = 200
	}
	if c.Concurrency == 0 {
		c.Concurrency = 1
	}
	if c.MaxDeliver == 0 {
		c.MaxDeliver = 20
	}
	if c.ReasonLength == 0 {
		c.ReasonLength = 255
	}
	if c.RetryBase == 0 {
		c.RetryBase = 2 * time.Second
	}
	if c.RetryMax == 0 {
		c.RetryMax = 5 * time.Minute
	}
	if c.LimitPause == 0 {
		c.LimitPause = 5 * time.Minute
	}
	if c.DeferAbove == 0 {
		c.DeferAbove = 0.9
	}
	if c.DeferDelay == 0 {
		c.DeferDelay = 10 * time.Minute
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = 10 * time.Second
	}
	return c
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	switch {
	case c.BatchSize < 1 || c.BatchSize > 200:
		return fmt.Errorf("writeback: batch_size %d is out of range: use 1 to 200, the records Salesforce accepts in one collections request", c.BatchSize)
	case c.Concurrency < 1:
		return fmt.Errorf("writeback: concurrency %d must be at least 1", c.Concurrency)
	case c.ReasonLength < 20:
		return fmt.Errorf("writeback: reason_length %d is too short to hold a reason: use at least 20", c.ReasonLength)
	case c.MaxDeliver < 1:
		return fmt.Errorf("writeback: max_deliver %d must be at least 1", c.MaxDeliver)
	case c.RetryBase <= 0 || c.RetryMax < c.RetryBase:
		return fmt.Errorf("writeback: retry_base %s and retry_max %s must be positive with retry_max at least retry_base", c.RetryBase, c.RetryMax)
	case c.DeferAbove < 0:
		return fmt.Errorf("writeback: defer_above %g must be a share between 0 and 1 (1 turns deferral off)", c.DeferAbove)
	case c.LimitPause <= 0 || c.DeferDelay <= 0 || c.KeepAlive <= 0:
		return fmt.Errorf("writeback: limit_pause, defer_delay and keep_alive must be positive durations")
	}
	return nil
}

// retryDelay returns the delay before a transient failure on the given
// delivery (1 on the first) is retried.
func (c Config) retryDelay(delivery uint64) time.Duration {
	if c.Backoff != nil {
		return c.Backoff(delivery)
	}
	d := c.RetryBase
	for i := uint64(1); i < delivery && d < c.RetryMax; i++ {
		d *= 2
	}
	d = min(d, c.RetryMax)
	// Jitter spreads the retries of records that failed together, such as
	// several Accounts locked by one bulk job.
	return d - rand.N(d/4+1)
}

// Salesforce is the part of the Salesforce client that the writeback
// service uses.
type Salesforce interface {
	// UpdateAccounts patches several Accounts in sObject collections
	// requests and returns one error (or nil) per update.
	UpdateAccounts(ctx context.Context, updates []sfclient.Update) ([]error, error)
	// GetAccounts reads the current records, to check the SAP number
	// field before it is written.
	GetAccounts(ctx context.Context, ids []string) ([]account.Account, error)
	// Usage returns the org's API usage from the newest response.
	Usage() sfclient.Usage
}

// ErrorClass classifies Salesforce errors for the service.
type ErrorClass interface {
	// Permanent reports whether retrying cannot help, as with a validation
	// rule or a deleted record.
	Permanent(err error) bool
	// Code returns the Salesforce error code, or "".
	Code(err error) string
}
