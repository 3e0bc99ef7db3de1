package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Topology sizes the streams and consumers. The zero value is completed
// by WithDefaults.
type Topology struct {
	// Replicas of every stream and bucket. Defaults to 1; use 3 on a
	// clustered server.
	Replicas int `yaml:"replicas"`
	// CDCMaxAge is how long change events are kept for replay. Defaults to
	// 30 days, well beyond Salesforce's 72 hours.
	CDCMaxAge time.Duration `yaml:"cdc_max_age"`
	// SAPAckWait is how long the SAP worker may hold a job before JetStream
	// redelivers it; the worker sends in-progress acks well within it.
	// Defaults to 30s.
	SAPAckWait time.Duration `yaml:"sap_ack_wait"`
	// SAPMaxAckPending caps jobs in flight across all SAP workers.
	// Defaults to 16.
	SAPMaxAckPending int `yaml:"sap_max_ack_pending"`
	// MaxDeliver caps deliveries of one message on each work consumer
	// before it is dead-lettered. Defaults to 10.
	MaxDeliver int `yaml:"max_deliver"`
	// AckWait is the redelivery timer of the filter, writeback and
	// dead-letter mover consumers. Defaults to 30s.
	AckWait time.Duration `yaml:"ack_wait"`
	// LeaseTTL is the lifetime of the listener's lease, the TTL of the
	// lease bucket. Defaults to 15s.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
}

// WithDefaults returns t with every zero field set to its default.
func (t Topology) WithDefaults() Topology {
	if t.Replicas == 0 {
		t.Replicas = 1
	}
	if t.CDCMaxAge == 0 {
		t.CDCMaxAge = 30 * 24 * time.Hour
	}
	if t.SAPAckWait == 0 {
		t.SAPAckWait = 30 * time.Second
	}
	if t.SAPMaxAckPending == 0 {
		t.SAPMaxAckPending = 16
	}
	if t.MaxDeliver == 0 {
		t.MaxDeliver = 10
	}
	if t.AckWait == 0 {
		t.AckWait = 30 * time.Second
	}
	if t.LeaseTTL == 0 {
		t.LeaseTTL = 15 * time.Second
	}
	return t
}

// Streams returns the configuration of every stream.
func (t Topology) Streams() []jetstream.StreamConfig {
	t = t.WithDefaults()
	return []jetstream.StreamConfig{
		{
			Name:        StreamCDC,
			Description: "Salesforce Account change events, one per record id; the replay source",
			Subjects:    []string{"sfsap.cdc.account.>"},
			Retention:   jetstream.LimitsPolicy,
			MaxAge:      t.CDCMaxAge,
			Duplicates:  time.Hour,
			MaxMsgSize:  1 << 20,
			Storage:     jetstream.FileStorage,
			Replicas:    t.Replicas,
		},
		{
			Name:        StreamSAPJobs,
			Description: "SAP customer create jobs, at most one pending per account",
			Subjects:    []string{"sfsap.sap.create.*"},
			Retention:   jetstream.WorkQueuePolicy,
			Discard:     jetstream.DiscardNew,
			// One pending job per account: a second conversion event for
			// the same account while its job waits is rejected, not queued.
			MaxMsgsPerSubject:    1,
			DiscardNewPerSubject: true,
			Storage:              jetstream.FileStorage,
			Replicas:             t.Replicas,
		},
		{
			Name:        StreamWriteback,
			Description: "Write-back jobs: SAP customer numbers and failure reasons for Salesforce",
			Subjects:    []string{"sfsap.sf.writeback.*"},
			Retention:   jetstream.WorkQueuePolicy,
			Duplicates:  10 * time.Minute,
			Storage:     jetstream.FileStorage,
			Replicas:    t.Replicas,
		},
		{
			Name:        StreamDLQ,
			Description: "Work that failed for good, with the reason and the original message",
			Subjects:    []string{"sfsap.dlq.>"},
			Retention:   jetstream.LimitsPolicy,
			MaxAge:      90 * 24 * time.Hour,
			Duplicates:  10 * time.Minute,
			Storage:     jetstream.FileStorage,
			Replicas:    t.Replicas,
		},
		advisoryStream(t),
		{
			Name:        StreamResults,
			Description: "Audit trail: every sync outcome",
			Subjects:    []string{"sfsap.result.>"},
			Retention:   jetstream.LimitsPolicy,
			MaxAge:      365 * 24 * time.Hour,
			Storage:     jetstream.FileStorage,
			Replicas:    t.Replicas,
		},
	}
}

// Consumers returns the durable consumers by stream.
//
// NOTE: the consumers have no BackOff list, because every handler retries
// with an explicit nak delay. With BackOff, nats-server 2.15.3 redelivers
// a message naked on delivery n only after the delay plus BackOff[n-1]
// minus AckWait (consumer.go, processNak and checkPending), which would
// stretch those retries.
func (t Topology) Consumers() map[string]jetstream.ConsumerConfig {
	t = t.WithDefaults()
	return map[string]jetstream.ConsumerConfig{
		StreamCDC: {
			Durable:       ConsumerFilter,
			Description:   "filter: keeps conversions of Accounts to customers",
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       t.AckWait,
			MaxDeliver:    t.MaxDeliver,
			MaxAckPending: 256,
			FilterSubject: "sfsap.cdc.account.>",
		},
		StreamSAPJobs: {
			Durable:       ConsumerSAPWorker,
			Description:   "sapworker: creates SAP customers",
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       t.SAPAckWait,
			MaxDeliver:    t.MaxDeliver,
			MaxAckPending: t.SAPMaxAckPending,
		},
		StreamWriteback: {
			Durable:       ConsumerWriteback,
			Description:   "writeback: records outcomes on the Salesforce Account",
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       t.AckWait,
			MaxDeliver:    2 * t.MaxDeliver,
			MaxAckPending: 256,
		},
		StreamAdvisories: dlqMoverConsumer(t),
	}
}

// Buckets returns the configuration of every key-value bucket.
func (t Topology) Buckets() []jetstream.KeyValueConfig {
	t = t.WithDefaults()
	return []jetstream.KeyValueConfig{
		{Bucket: BucketLedger, Description: "per-account sync ledger", History: 16, Storage: jetstream.FileStorage, Replicas: t.Replicas},
		{Bucket: BucketCheckpoint, Description: "listener replay positions", History: 5, Storage: jetstream.FileStorage, Replicas: t.Replicas},
		{Bucket: BucketTypes, Description: "last Account Type seen per account", History: 1, Storage: jetstream.FileStorage, Replicas: t.Replicas},
		// The lease bucket is created here, by the provisioner, so the
		// listener needs no right to change stream configurations.
		{Bucket: BucketLeases, Description: "listener leases: the instance that consumes Salesforce events", History: 1, TTL: t.LeaseTTL, Storage: jetstream.FileStorage, Replicas: t.Replicas},
	}
}

// Ensure creates or updates every stream, consumer and bucket. It is safe
// to call from every service at every start.
func Ensure(ctx context.Context, js jetstream.JetStream, t Topology) error {
	for _, cfg := range t.Streams() {
		if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("creating stream %s: %w", cfg.Name, err)
		}
	}
	for stream, cfg := range t.Consumers() {
		if _, err := js.CreateOrUpdateConsumer(ctx, stream, cfg); err != nil {
			return fmt.Errorf("creating consumer %s on %s: %w", cfg.Durable, stream, err)
		}
	}
	for _, cfg := range t.Buckets() {
		if _, err := js.CreateOrUpdateKeyValue(ctx, cfg); err != nil {
			return fmt.Errorf("creating key-value bucket %s: %w", cfg.Bucket, err)
		}
	}
	return nil
}
