package sfsim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/sfsap/sfsap/pkg/pubsub/eventbusv1"
)

// Values of the error-code trailer that the Pub/Sub endpoint sends with a
// failed call.
const (
	// PubSubErrAuth reports missing or rejected credentials; the client
	// must authenticate again.
	PubSubErrAuth = "sfdc.platform.eventbus.grpc.service.auth.error"
	// PubSubErrReplayCorrupted reports a replay id that is malformed,
	// unknown or outside the retention window.
	PubSubErrReplayCorrupted = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
	// PubSubErrTopicNotFound reports an unknown topic.
	// NOTE: Salesforce does not document this value; it is a guess.
	PubSubErrTopicNotFound = "sfdc.platform.eventbus.grpc.subscription.topic.notfound"
	// PubSubErrSchemaNotFound reports an unknown schema id.
	// NOTE: Salesforce does not document this value; it is a guess.
	PubSubErrSchemaNotFound = "sfdc.platform.eventbus.grpc.schema.notfound"
	// PubSubErrInvalidRequest reports a malformed FetchRequest, such as a
	// topic that differs from the first request's.
	// NOTE: Salesforce does not document this value; it is a guess.
	PubSubErrInvalidRequest = "sfdc.platform.eventbus.grpc.subscription.fetch.invalid"
)

// pubsubTopics are the topics that deliver the store's Account change
// events: the object's own channel and the one for all selected objects.
var pubsubTopics = []string{"/data/AccountChangeEvent", "/data/ChangeEvents"}

// PubSubOptions configure the Pub/Sub API endpoint of NewPubSub. The zero
// value is usable.
type PubSubOptions struct {
	// Authorize checks the credentials of each call and of each open
	// Subscribe stream whenever it receives a FetchRequest or sends a
	// keepalive. An error rejects the call with UNAUTHENTICATED and the
	// error-code PubSubErrAuth. Nil accepts every call that carries all
	// three metadata keys. (*Server).AuthorizePubSub checks them against a
	// simulated org.
	Authorize func(PubSubCredentials) error
	// KeepaliveInterval is how long a Subscribe stream may go without a
	// FetchResponse before the server sends one without events.
	// Defaults to 270 s, the longest gap Salesforce documents.
	KeepaliveInterval time.Duration
	// IdleTimeout is how long a Subscribe stream stays open while it has
	// no credits left and receives no FetchRequest. The server then ends
	// it with UNAVAILABLE. Defaults to 60 s.
	// NOTE: Salesforce does not document the timeout; 60 s is the value
	// users report.
	IdleTimeout time.Duration
	// OmitCompoundParentBit leaves the top-level bit of an address field
	// unset when only its components are listed in changedFields or
	// nulledFields. Salesforce's documented examples show both forms.
	// Defaults to false: the parent bit is set.
	OmitCompoundParentBit bool
	// CustomFields adds custom Account fields, typed string, to the event
	// schema after the ones sfsap uses by default. Store fields outside
	// the schema are not sent.
	CustomFields []string
	// Faults injects failures into Subscribe streams. Nil injects none.
	Faults *PubSubFaults
	// Logger receives the simulator's own errors. Defaults to discarding
	// them.
	Logger *slog.Logger
}

// PubSubCredentials are the authentication metadata of one call.
type PubSubCredentials struct {
	AccessToken string
	InstanceURL string
	TenantID    string
}

// AuthorizePubSub checks Pub/Sub credentials against the org: the access
// token must be a live session, the tenant id must be the org id (15 or 18
// characters) and the instance URL must be set. It returns
// ErrInvalidSession for a rejected token.
func (s *Server) AuthorizePubSub(c PubSubCredentials) error {
	if _, err := s.CheckAccessToken(c.AccessToken); err != nil {
		return err
	}
	org := s.store.orgID
	if c.TenantID != org && c.TenantID != org[:15] {
		return fmt.Errorf("tenantid %q is not this org's id %s", c.TenantID, org)
	}
	if c.InstanceURL == "" {
		return errors.New("instanceurl metadata is empty")
	}
	return nil
}

// PubSub is a simulated Salesforce Pub/Sub API endpoint (gRPC over TLS)
// that serves the Store's Account change events. It implements GetTopic,
// GetSchema and Subscribe. Publish, PublishStream and ManagedSubscribe
// return UNIMPLEMENTED.
type PubSub struct {
	pb.UnimplementedPubSubServer

	store  *Store
	opts   PubSubOptions
	schema *eventSchema
	tls    *selfSignedTLS
	grpc   *grpc.Server

	mu    sync.Mutex
	addr  string
	stats PubSubStats
}

// PubSubStats counts what the endpoint saw, for tests.
type PubSubStats struct {
	// Streams counts Subscribe streams opened.
	Streams int
	// FetchRequests counts FetchRequests received on all streams.
	FetchRequests int
	// MaxNumRequested is the largest num_requested received.
	MaxNumRequested int32
	// Keepalives counts FetchResponses sent without events.
	Keepalives int
	// IdleCloses counts streams ended because they had no credits and
	// received no FetchRequest within IdleTimeout.
	IdleCloses int
	// Delivered counts events sent.
	Delivered int
	// SchemaRequests counts GetSchema calls.
	SchemaRequests int
	// CustomReplayIDs lists the replay_id of every Subscribe stream that
	// started with the CUSTOM preset, as received.
	CustomReplayIDs [][]byte
}

// NewPubSub returns a Pub/Sub API endpoint for the store's change events,
// with a certificate authority and server certificate it generated for
// 127.0.0.1, ::1 and localhost. Clients trust it through CAPEM. Call Start,
// or Serve with a listener, to accept connections.
func NewPubSub(store *Store, opts PubSubOptions) (*PubSub, error) {
	if opts.KeepaliveInterval <= 0 {
		opts.KeepaliveInterval = 270 * time.Second
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 60 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	schema, err := newEventSchema(opts.CustomFields)
	if err != nil {
		return nil, fmt.Errorf("creating Pub/Sub simulator: %w", err)
	}
	certs, err := newSelfSignedTLS()
	if err != nil {
		return nil, fmt.Errorf("creating Pub/Sub simulator certificate: %w", err)
	}

	p := &PubSub{store: store, opts: opts, schema: schema, tls: certs}
	creds := credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{certs.server},
		MinVersion:   tls.VersionTLS12,
	})
	p.grpc = grpc.NewServer(
		grpc.Creds(creds),
		grpc.ChainUnaryInterceptor(p.authorizeUnary),
		grpc.ChainStreamInterceptor(p.authorizeStream),
	)
	pb.RegisterPubSubServer(p.grpc, p)
	return p, nil
}

// CAPEM returns the PEM of the certificate authority that signed the
// server certificate.
func (p *PubSub) CAPEM() []byte { return p.tls.caPEM }

// SchemaID returns the id of the AccountChangeEvent schema.
func (p *PubSub) SchemaID() string { return p.schema.id }

// SchemaJSON returns the AccountChangeEvent schema as JSON, as GetSchema
// returns it.
func (p *PubSub) SchemaJSON() string { return p.schema.json }

// Stats returns the counters since the endpoint was created.
func (p *PubSub) Stats() PubSubStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.stats
	st.CustomReplayIDs = make([][]byte, len(p.stats.CustomReplayIDs))
	for i, id := range p.stats.CustomReplayIDs {
		st.CustomReplayIDs[i] = slices.Clone(id)
	}
	return st
}

// Start listens on addr, 127.0.0.1:0 when empty, and serves in the
// background until Close.
func (p *PubSub) Start(addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("starting Pub/Sub simulator on %s: %w", addr, err)
	}
	p.mu.Lock()
	p.addr = ln.Addr().String()
	p.mu.Unlock()
	go func() {
		if err := p.grpc.Serve(ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			p.opts.Logger.Error("Pub/Sub simulator stopped serving", "error", err)
		}
	}()
	return nil
}

// Serve accepts connections on ln until Close. It returns nil after Close.
func (p *PubSub) Serve(ln net.Listener) error {
	p.mu.Lock()
	p.addr = ln.Addr().String()
	p.mu.Unlock()
	if err := p.grpc.Serve(ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("serving Pub/Sub simulator: %w", err)
	}
	return nil
}

// Addr returns the address the endpoint listens on, such as
// 127.0.0.1:41234, or "" before Start or Serve.
func (p *PubSub) Addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

// Close stops the endpoint and ends open streams.
func (p *PubSub) Close() {
	p.grpc.Stop()
}

// GetTopic implements PubSubServer.
func (p *PubSub) GetTopic(ctx context.Context, req *pb.TopicRequest) (*pb.TopicInfo, error) {
	rpcID := uuid.NewString()
	if !isPubSubTopic(req.GetTopicName()) {
		return nil, unaryError(ctx, codes.NotFound, PubSubErrTopicNotFound, rpcID,
			fmt.Sprintf("topic %q not found; subscribe to one of %s", req.GetTopicName(), strings.Join(pubsubTopics, ", ")))
	}
	return &pb.TopicInfo{
		TopicName:    req.GetTopicName(),
		TenantGuid:   p.store.orgID,
		CanPublish:   false,
		CanSubscribe: true,
		SchemaId:     p.schema.id,
		RpcId:        rpcID,
	}, nil
}

// GetSchema implements PubSubServer.
func (p *PubSub) GetSchema(ctx context.Context, req *pb.SchemaRequest) (*pb.SchemaInfo, error) {
	rpcID := uuid.NewString()
	p.count(func(st *PubSubStats) { st.SchemaRequests++ })
	if req.GetSchemaId() != p.schema.id {
		return nil, unaryError(ctx, codes.NotFound, PubSubErrSchemaNotFound, rpcID,
			fmt.Sprintf("schema %q not found", req.GetSchemaId()))
	}
	return &pb.SchemaInfo{SchemaJson: p.schema.json, SchemaId: p.schema.id, RpcId: rpcID}, nil
}

func isPubSubTopic(name string) bool {
	return slices.Contains(pubsubTopics, name)
}

// credentialsKey is the context key of a call's PubSubCredentials.
type credentialsKey struct{}

func (p *PubSub) authorizeUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	creds, err := p.authorize(ctx)
	if err != nil {
		return nil, unaryError(ctx, codes.Unauthenticated, PubSubErrAuth, uuid.NewString(), err.Error())
	}
	return handler(context.WithValue(ctx, credentialsKey{}, creds), req)
}

func (p *PubSub) authorizeStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	creds, err := p.authorize(ss.Context())
	if err != nil {
		return streamError(ss, codes.Unauthenticated, PubSubErrAuth, uuid.NewString(), err.Error())
	}
	return handler(srv, &credentialStream{ServerStream: ss, creds: creds})
}

// authorize reads the credentials from the call's metadata and checks
// them.
func (p *PubSub) authorize(ctx context.Context) (PubSubCredentials, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	creds := PubSubCredentials{
		AccessToken: firstValue(md, "accesstoken"),
		InstanceURL: firstValue(md, "instanceurl"),
		TenantID:    firstValue(md, "tenantid"),
	}
	var missing []string
	for _, kv := range [][2]string{{"accesstoken", creds.AccessToken}, {"instanceurl", creds.InstanceURL}, {"tenantid", creds.TenantID}} {
		if kv[1] == "" {
			missing = append(missing, kv[0])
		}
	}
	if len(missing) > 0 {
		return creds, fmt.Errorf("missing authentication metadata %s", strings.Join(missing, ", "))
	}
	return creds, p.checkCredentials(creds)
}

func (p *PubSub) checkCredentials(creds PubSubCredentials) error {
	if p.opts.Authorize == nil {
		return nil
	}
	if err := p.opts.Authorize(creds); err != nil {
		return fmt.Errorf("authentication failed: %w", err)
	}
	return nil
}

func firstValue(md metadata.MD, key string) string {
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// credentialStream carries the checked credentials into the handler.
type credentialStream struct {
	grpc.ServerStream
	creds PubSubCredentials
}

func (s *credentialStream) Context() context.Context {
	return context.WithValue(s.ServerStream.Context(), credentialsKey{}, s.creds)
}

// unaryError sets the error-code and rpc-id trailers of a unary call and
// returns its status error. Salesforce quotes the rpc id in the message.
func unaryError(ctx context.Context, code codes.Code, errorCode, rpcID, message string) error {
	_ = grpc.SetTrailer(ctx, metadata.Pairs("error-code", errorCode, "rpc-id", rpcID))
	return status.Errorf(code, "%s rpcId: %s", message, rpcID)
}

// streamError is unaryError for a stream. An empty errorCode leaves the
// error-code trailer out.
func streamError(ss grpc.ServerStream, code codes.Code, errorCode, rpcID, message string) error {
	md := metadata.Pairs("rpc-id", rpcID)
	if errorCode != "" {
		md.Set("error-code", errorCode)
	}
	ss.SetTrailer(md)
	return status.Errorf(code, "%s rpcId: %s", message, rpcID)
}
