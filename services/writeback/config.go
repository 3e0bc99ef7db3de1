// Package writeback holds the writeback service: it records each sync
// outcome on the Salesforce Account (the SAP customer number, or a status
// and a reason a sales rep can read) and publishes it to the audit trail.
package writeback

import (
	"context"
	"fmt"
	"time"

	"github.com/sfsap/sfsap/pkg/account"
)

// Config configures the writeback service.
type Config struct {
	// Fields names the Salesforce fields. Defaults to account.DefaultFields.
	Fields account.Fields `yaml:"fields"`
	// Concurrency is the number of Accounts written at once. Defaults to 4.
	Concurrency int `yaml:"concurrency"`
	// MaxDeliver is the consumer's delivery limit; on the last delivery a
	// transient failure is dead-lettered. Defaults to 20.
	MaxDeliver int `yaml:"max_deliver"`
	// ReasonLength caps the reason written to the error field, in
	// characters. Defaults to 255, the length of a Salesforce text field.
	ReasonLength int `yaml:"reason_length"`
	// Backoff returns the delay before a transient failure is retried.
	// Defaults to bus.DefaultBackoff.
	Backoff func(delivery uint64) time.Duration `yaml:"-"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	c.Fields = c.Fields.WithDefaults()
	if c.Concurrency == 0 {
		c.Concurrency = 4
	}
	if c.MaxDeliver == 0 {
		c.MaxDeliver = 20
	}
	if c.ReasonLength == 0 {
		c.ReasonLength = 255
	}
	return c
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	if c.Concurrency < 1 {
		return fmt.Errorf("writeback: concurrency %d must be at least 1", c.Concurrency)
	}
	if c.ReasonLength < 20 {
		return fmt.Errorf("writeback: reason_length %d is too short to hold a reason: use at least 20", c.ReasonLength)
	}
	return nil
}

// Salesforce is what the writeback service needs from Salesforce.
type Salesforce interface {
	// UpdateAccount patches fields of one Account.
	UpdateAccount(ctx context.Context, id string, fields map[string]any) error
}

// ErrorClass tells the service how to treat a Salesforce error.
type ErrorClass interface {
	// Permanent reports whether retrying cannot help, as with a validation
	// rule or a deleted record.
	Permanent(err error) bool
	// Code returns the Salesforce error code, or "".
	Code(err error) string
}
