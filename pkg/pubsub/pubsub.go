// Package pubsub is a client of the Salesforce Pub/Sub API (gRPC) that
// receives Change Data Capture events.
//
// Subscribe keeps one subscription alive. It pulls events with credits
// (FetchRequest.num_requested), decodes their Avro payloads with the
// writer schema from GetSchema, turns the changedFields, nulledFields and
// diffFields bitmaps into field names, and hands each event to a handler
// as a cdc.Event. Receiving runs apart from handling, so a slow handler
// does not let the stream run out of credits. Replay ids stay opaque byte
// strings from the wire to the handler and back.
package pubsub

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	pb "github.com/sfsap/sfsap/pkg/pubsub/eventbusv1"
)

// Defaults of Config.
const (
	// DefaultAddr is the Salesforce Pub/Sub API endpoint.
	DefaultAddr = "api.pubsub.salesforce.com:7443"
	// DefaultTopic is the Change Data Capture topic of Account.
	DefaultTopic = "/data/AccountChangeEvent"
	// MaxBatchSize is the most credits Salesforce grants a subscription at
	// a time; a larger num_requested counts as 100.
	MaxBatchSize = 100
)

// Config configures a Client. TokenSource, InstanceURL and TenantID are
// required.
type Config struct {
	// Addr is the host:port of the Pub/Sub API. Defaults to DefaultAddr.
	Addr string
	// CAPEM holds the PEM certificates of the authorities that may sign
	// the server's certificate. Empty means the system roots, which is
	// right for Salesforce; tests pass the simulator's CA.
	CAPEM []byte
	// TokenSource returns the OAuth access token sent with every call.
	// The client calls it before each call and each Subscribe stream,
	// which includes the one after Salesforce rejected the previous token,
	// so it should cache the token.
	TokenSource func(ctx context.Context) (string, error)
	// TokenRejected, if set, is called with a token that Salesforce
	// rejected before the client calls TokenSource again, so that a
	// caching source can drop the token and fetch a new one.
	TokenRejected func(token string)
	// InstanceURL is the org's URL, such as
	// https://example.my.salesforce.com, sent as instanceurl metadata.
	InstanceURL string
	// TenantID is the org id, sent as tenantid metadata.
	TenantID string
	// TopicName is the topic to subscribe to. Defaults to DefaultTopic.
	TopicName string
	// BatchSize is the num_requested of each FetchRequest: the most
	// events the server may send before the client asks again. Defaults
	// to MaxBatchSize, and larger values are lowered to it.
	BatchSize int
	// BufferSize is the most events received but not yet handled. The
	// client asks for more only while the buffer has room. Defaults to
	// twice BatchSize, and is raised to BatchSize when smaller.
	BufferSize int
	// StreamTimeout is how long a stream may stay silent before the
	// client drops it and subscribes again. Salesforce sends a keepalive
	// at least every 270 s. Defaults to 5 min.
	StreamTimeout time.Duration
	// RetryBaseDelay and RetryMaxDelay bound the exponential backoff
	// between subscription attempts and between calls of a failing
	// handler. Default to 1 s and 1 min.
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
	// CallTimeout bounds GetTopic and GetSchema. Defaults to 30 s.
	CallTimeout time.Duration
	// Logger receives retries and failures. Tokens are never logged.
	// Defaults to slog.Default().
	Logger *slog.Logger
}

// Client talks to the Pub/Sub API over one gRPC connection. Its methods
// are safe for concurrent use.
type Client struct {
	cfg  Config
	conn *grpc.ClientConn
	api  pb.PubSubClient
	log  *slog.Logger
	// sleep waits for d or until ctx ends. Tests may replace it.
	sleep func(ctx context.Context, d time.Duration) error

	mu      sync.Mutex
	schemas map[string]*Schema
}

// TopicInfo describes a topic, as GetTopic returns it.
type TopicInfo struct {
	Name         string
	TenantGUID   string
	CanPublish   bool
	CanSubscribe bool
	// SchemaID is the id of the schema that new events use.
	SchemaID string
}

// New returns a client for cfg. It does not connect yet. It returns an
// error when a required field is missing or CAPEM holds no certificate.
func New(cfg Config) (*Client, error) {
	if cfg.TokenSource == nil {
		return nil, errors.New("pubsub: Config.TokenSource is missing; pass a function that returns the access token")
	}
	if cfg.InstanceURL == "" {
		return nil, errors.New("pubsub: Config.InstanceURL is missing; set the org's URL, such as https://example.my.salesforce.com")
	}
	if cfg.TenantID == "" {
		return nil, errors.New("pubsub: Config.TenantID is missing; set the org id from the login or the userinfo endpoint")
	}
	cfg = cfg.withDefaults()

	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(cfg.CAPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(cfg.CAPEM) {
			return nil, errors.New("pubsub: Config.CAPEM contains no PEM certificate; pass the CA certificate in PEM form or leave it empty for the system roots")
		}
		tlsConfig.RootCAs = pool
	}
	conn, err := grpc.NewClient(cfg.Addr, grpc.WithTransportCredentials(credentials.NewTLS(tlsConfig)))
	if err != nil {
		return nil, fmt.Errorf("pubsub: creating gRPC client for %s: %w", cfg.Addr, err)
	}

	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return &Client{
		cfg:     cfg,
		conn:    conn,
		api:     pb.NewPubSubClient(conn),
		log:     logger.With("topic", cfg.TopicName),
		sleep:   sleepContext,
		schemas: map[string]*Schema{},
	}, nil
}

func (cfg Config) withDefaults() Config {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.TopicName == "" {
		cfg.TopicName = DefaultTopic
	}
	if cfg.BatchSize <= 0 || cfg.BatchSize > MaxBatchSize {
		cfg.BatchSize = MaxBatchSize
	}
	if cfg.BufferSize <= 0 {
		cfg.BufferSize = 2 * cfg.BatchSize
	}
	cfg.BufferSize = max(cfg.BufferSize, cfg.BatchSize)
	if cfg.StreamTimeout <= 0 {
		cfg.StreamTimeout = 5 * time.Minute
	}
	if cfg.RetryBaseDelay <= 0 {
		cfg.RetryBaseDelay = time.Second
	}
	if cfg.RetryMaxDelay <= 0 {
		cfg.RetryMaxDelay = time.Minute
	}
	cfg.RetryMaxDelay = max(cfg.RetryMaxDelay, cfg.RetryBaseDelay)
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 30 * time.Second
	}
	return cfg
}

// Close closes the connection. Subscribe calls in progress fail.
func (c *Client) Close() error {
	return c.conn.Close()
}

// GetTopic returns the metadata of a topic. It returns an *Error when
// Salesforce rejects the call, such as codes.NotFound for an unknown
// topic.
func (c *Client) GetTopic(ctx context.Context, topic string) (TopicInfo, error) {
	var info *pb.TopicInfo
	err := c.unary(ctx, "GetTopic", func(ctx context.Context, opts ...grpc.CallOption) error {
		var err error
		info, err = c.api.GetTopic(ctx, &pb.TopicRequest{TopicName: topic}, opts...)
		return err
	})
	if err != nil {
		return TopicInfo{}, fmt.Errorf("getting topic %s: %w", topic, err)
	}
	return TopicInfo{
		Name:         info.GetTopicName(),
		TenantGUID:   info.GetTenantGuid(),
		CanPublish:   info.GetCanPublish(),
		CanSubscribe: info.GetCanSubscribe(),
		SchemaID:     info.GetSchemaId(),
	}, nil
}

// Schema returns the schema with the given id, from the cache or from
// GetSchema. Schemas never change under their id, so a cached one is kept
// for the client's lifetime. It returns an *Error when Salesforce rejects
// the call.
func (c *Client) Schema(ctx context.Context, id string) (*Schema, error) {
	c.mu.Lock()
	s, ok := c.schemas[id]
	c.mu.Unlock()
	if ok {
		return s, nil
	}

	var info *pb.SchemaInfo
	err := c.unary(ctx, "GetSchema", func(ctx context.Context, opts ...grpc.CallOption) error {
		var err error
		info, err = c.api.GetSchema(ctx, &pb.SchemaRequest{SchemaId: id}, opts...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("getting schema %s: %w", id, err)
	}
	s, err = ParseSchema(id, info.GetSchemaJson())
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.schemas[id] = s
	c.mu.Unlock()
	return s, nil
}

// unary runs one unary call with the credentials and the call timeout.
// When Salesforce rejects the token, it reports it through TokenRejected
// and tries once more with a new one.
func (c *Client) unary(ctx context.Context, op string, call func(ctx context.Context, opts ...grpc.CallOption) error) error {
	for attempt := 1; ; attempt++ {
		token, err := c.cfg.TokenSource(ctx)
		if err != nil {
			return fmt.Errorf("getting access token: %w", err)
		}
		callCtx, cancel := context.WithTimeout(c.outgoing(ctx, token), c.cfg.CallTimeout)
		var trailer metadata.MD
		err = call(callCtx, grpc.Trailer(&trailer))
		cancel()
		if err == nil {
			return nil
		}
		e := newError(op, err, trailer)
		if e.authFailed() && attempt == 1 {
			c.rejectToken(token)
			continue
		}
		return e
	}
}

// outgoing returns ctx with the authentication metadata.
func (c *Client) outgoing(ctx context.Context, token string) context.Context {
	return metadata.NewOutgoingContext(ctx, metadata.Pairs(
		"accesstoken", token,
		"instanceurl", c.cfg.InstanceURL,
		"tenantid", c.cfg.TenantID,
	))
}

func (c *Client) rejectToken(token string) {
	if c.cfg.TokenRejected != nil {
		c.cfg.TokenRejected(token)
	}
}

// finalCode reports whether a status code means that retrying the same
// subscription cannot succeed.
func finalCode(code codes.Code) bool {
	switch code {
	case codes.InvalidArgument, codes.NotFound, codes.PermissionDenied, codes.Unimplemented, codes.FailedPrecondition, codes.OutOfRange:
		return true
	}
	return false
}

func sleepContext(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
