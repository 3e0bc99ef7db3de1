// Package sapworker holds the SAP worker: it takes create jobs, maps and
// validates the Account, and creates the SAP customer exactly once under a
// ledger claim, looking the account up in SAP before every create.
package sapworker

import (
	"fmt"
	"os"
	"time"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/sap"
)

// Config configures the SAP worker.
type Config struct {
	// WorkerID names this worker in ledger claims. Defaults to the host
	// name and process id.
	WorkerID string `yaml:"worker_id"`
	// Concurrency is the number of jobs handled at once. Defaults to 4.
	Concurrency int `yaml:"concurrency"`
	// CallTimeout bounds one SAP call. Defaults to 60s.
	CallTimeout time.Duration `yaml:"call_timeout"`
	// Lease is how long a claim holds before another worker may take it;
	// the worker renews it during slow calls. Must exceed CallTimeout.
	// Defaults to 2m.
	Lease time.Duration `yaml:"lease"`
	// Settle is how long after a claim was left in doubt SAP is assumed to
	// have finished any create it received, so a lookup can be trusted.
	// Set it above the longest time SAP may go on working on a create after
	// the worker stopped waiting: a lookup before then can miss a create
	// still running, and a second customer follows (the lookup then raises
	// a duplicate alarm). Defaults to 30s.
	Settle time.Duration `yaml:"settle"`
	// AckWait is the consumer's ack deadline; in-progress acks go out at a
	// third of it. Defaults to 30s.
	AckWait time.Duration `yaml:"ack_wait"`
	// MaxDeliver is the consumer's delivery limit; on the last delivery a
	// transient failure is dead-lettered rather than retried. Defaults to 10.
	MaxDeliver int `yaml:"max_deliver"`
	// Backoff returns the delay before a transient failure is retried.
	// Defaults to bus.DefaultBackoff.
	Backoff func(delivery uint64) time.Duration `yaml:"-"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.WorkerID == "" {
		host, _ := os.Hostname()
		c.WorkerID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if c.Concurrency == 0 {
		c.Concurrency = 4
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = 60 * time.Second
	}
	if c.Lease == 0 {
		c.Lease = 2 * time.Minute
	}
	if c.Settle == 0 {
		c.Settle = 30 * time.Second
	}
	if c.AckWait == 0 {
		c.AckWait = 30 * time.Second
	}
	if c.MaxDeliver == 0 {
		c.MaxDeliver = 10
	}
	return c
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	if c.Concurrency < 1 {
		return fmt.Errorf("sapworker: concurrency %d must be at least 1", c.Concurrency)
	}
	if c.Lease <= c.CallTimeout {
		return fmt.Errorf("sapworker: lease %s must be longer than call_timeout %s, or a claim could expire during a create", c.Lease, c.CallTimeout)
	}
	return nil
}

// Mapper turns an Account into a validated SAP customer. It returns an
// error listing every problem when the data cannot be sent to SAP; such
// errors are permanent.
type Mapper interface {
	Map(a account.Account) (sap.Customer, error)
}

// MapperFunc adapts a function to Mapper.
type MapperFunc func(a account.Account) (sap.Customer, error)

// Map calls f.
func (f MapperFunc) Map(a account.Account) (sap.Customer, error) { return f(a) }
