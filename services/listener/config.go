// Package listener holds the listener service: it receives Salesforce
// Change Data Capture events for Account and publishes one account-change
// message per record id to JetStream, checkpointing the replay position
// only after JetStream has acknowledged every message of an event.
package listener

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sfsap/sfsap/pkg/msg"
)

// Config configures the listener.
type Config struct {
	// Checkpoint names the key of the replay position in the checkpoint
	// bucket. Defaults to "cometd.AccountChangeEvent".
	Checkpoint string `yaml:"checkpoint"`
	// RetryDelay is the pause before resubscribing after the source
	// failed. Defaults to 2s.
	RetryDelay time.Duration `yaml:"retry_delay"`
	// SweepMargin is how far before the stored position's time a sweep
	// starts after Salesforce rejected the position. Defaults to 1h.
	SweepMargin time.Duration `yaml:"sweep_margin"`
	// LeaseTTL is how long the active listener's lease lasts without a
	// renewal. Only the holder consumes events; a standby takes over
	// within about LeaseTTL after the holder dies, and at once after it
	// stops cleanly. Defaults to 15s.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
	// Instance names this listener in the lease and in logs. Defaults to
	// the host name and a random suffix.
	Instance string `yaml:"instance"`
	// Poll configures the SOQL polling source, used when
	// salesforce.transport is poll.
	Poll PollConfig `yaml:"poll"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Checkpoint == "" {
		c.Checkpoint = "cometd.AccountChangeEvent"
	}
	if c.RetryDelay == 0 {
		c.RetryDelay = 2 * time.Second
	}
	if c.SweepMargin == 0 {
		c.SweepMargin = time.Hour
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = 15 * time.Second
	}
	if c.Instance == "" {
		host, _ := os.Hostname()
		c.Instance = strings.Trim(host+"-"+strings.ToLower(rand.Text()[:8]), "-")
	}
	c.Poll = c.Poll.WithDefaults()
	return c
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	if c.LeaseTTL < time.Second {
		return fmt.Errorf("listener: lease_ttl %s is too short: use at least 1s, so renewals every third of it fit", c.LeaseTTL)
	}
	return c.Poll.Validate()
}

// Event is one change event from Salesforce, already split per record.
type Event struct {
	Changes []msg.AccountChange
	// Position is the opaque replay position after this event, stored as
	// given and handed back to the source on restart.
	Position []byte
	// Raw and DecodeErr are set instead of Changes when the event could
	// not be decoded; the listener dead-letters it and moves on.
	Raw       []byte
	DecodeErr error
}

// Source delivers change events in order from a position.
type Source interface {
	// Subscribe delivers events after from (nil means the source's
	// configured preset) to handle until ctx ends or the subscription
	// fails. It must not advance past an event whose handle call failed.
	// It returns an error wrapping ErrPositionRejected when Salesforce
	// rejects from.
	Subscribe(ctx context.Context, from []byte, handle func(ctx context.Context, ev Event) error) error
}

// ErrPositionRejected marks a stored replay position that Salesforce no
// longer accepts, because it expired or was corrupted.
var ErrPositionRejected = fmt.Errorf("listener: replay position rejected by Salesforce")

// Sweeper queues customer accounts without an SAP number changed since a
// time, to recover events that can no longer be replayed.
type Sweeper interface {
	Sweep(ctx context.Context, since time.Time, reason string) (int, error)
}
