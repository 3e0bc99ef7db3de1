// Package filter holds the filter service: it reads account change events
// and turns real conversions of prospects into customers into SAP create
// jobs, reading the current record from Salesforce before it decides.
package filter

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sfsap/sfsap/pkg/account"
)

// Config configures the filter.
type Config struct {
	// CustomerTypes are the Type values that make an Account a customer.
	// Defaults to account.DefaultCustomerTypes.
	CustomerTypes []string `yaml:"customer_types"`
	// ProspectTypes are the Type values a conversion may start from; an
	// unknown previous Type counts too. Defaults to account.DefaultProspectTypes.
	ProspectTypes []string `yaml:"prospect_types"`
	// IntegrationUser is the Salesforce user id sfsap writes as. Changes
	// by this user are ignored unless they change Type. Defaults to empty
	// (changes are recognised by ClientID only).
	IntegrationUser string `yaml:"integration_user"`
	// ClientID is the client name sfsap sends in Sforce-Call-Options, which
	// Salesforce reports in changeOrigin. Defaults to "sfsap".
	ClientID string `yaml:"client_id"`
	// Fields names the Salesforce fields. Defaults to account.DefaultFields.
	Fields account.Fields `yaml:"fields"`
	// BatchSize is the number of change events read per Salesforce query.
	// Defaults to 100.
	BatchSize int `yaml:"batch_size"`
	// SweepMargin is how far before a gap's commit time a sweep starts, to
	// cover clock differences. Defaults to 5m.
	SweepMargin time.Duration `yaml:"sweep_margin"`
	// LimitPause is how long the filter stops reading records after
	// Salesforce responded with REQUEST_LIMIT_EXCEEDED. Changes stay in progress
	// meanwhile and are never dead-lettered for it. Defaults to 5m.
	LimitPause time.Duration `yaml:"limit_pause"`
	// KeepAlive is the interval of in-progress acks for changes held
	// during a pause. It must stay below the consumer's AckWait. Defaults
	// to 10s.
	KeepAlive time.Duration `yaml:"keep_alive"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if len(c.CustomerTypes) == 0 {
		c.CustomerTypes = account.DefaultCustomerTypes
	}
	if len(c.ProspectTypes) == 0 {
		c.ProspectTypes = account.DefaultProspectTypes
	}
	if c.ClientID == "" {
		c.ClientID = "sfsap"
	}
	c.Fields = c.Fields.WithDefaults()
	if c.BatchSize == 0 {
		c.BatchSize = 100
	}
	if c.SweepMargin == 0 {
		c.SweepMargin = 5 * time.Minute
	}
	if c.LimitPause == 0 {
		c.LimitPause = 5 * time.Minute
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = 10 * time.Second
	}
	return c
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	if c.BatchSize < 1 || c.BatchSize > 200 {
		return fmt.Errorf("filter: batch_size %d is out of range: use 1 to 200 (Salesforce reads up to 200 ids per query here)", c.BatchSize)
	}
	for _, t := range c.CustomerTypes {
		for _, p := range c.ProspectTypes {
			if t == p {
				return fmt.Errorf("filter: Type %q is both a customer and a prospect value: remove it from one of customer_types and prospect_types", t)
			}
		}
	}
	return nil
}

// Salesforce is what the filter needs from Salesforce.
type Salesforce interface {
	// GetAccounts reads the current records; ids not found are left out.
	GetAccounts(ctx context.Context, ids []string) ([]account.Account, error)
	// QueryIDs runs a SOQL query selecting Id and returns the ids.
	QueryIDs(ctx context.Context, soql string) ([]string, error)
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
