package sfsim_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hamba/avro/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/sfsap/sfsap/pkg/pubsub/eventbusv1"
	"github.com/sfsap/sfsap/pkg/sfsim"
)

// streamWait bounds how long a test waits for a response before it fails
// instead of hanging. It is a guard, not a latency requirement.
const streamWait = 30 * time.Second

const pubsubTopic = "/data/AccountChangeEvent"

// pubsubTester talks to a simulated Pub/Sub endpoint over TLS on
// 127.0.0.1 with the generated gRPC client.
type pubsubTester struct {
	t      *testing.T
	sim    *sfsim.PubSub
	store  *sfsim.Store
	faults *sfsim.PubSubFaults
	api    pb.PubSubClient
}

func startPubSub(t *testing.T, opts sfsim.PubSubOptions) *pubsubTester {
	t.Helper()
	store := sfsim.NewStore()
	if opts.Faults == nil {
		opts.Faults = &sfsim.PubSubFaults{}
	}
	if opts.Authorize == nil {
		opts.Authorize = func(c sfsim.PubSubCredentials) error {
			if c.AccessToken != testToken {
				return errors.New("unknown token")
			}
			return nil
		}
	}
	sim, err := sfsim.NewPubSub(store, opts)
	if err != nil {
		t.Fatalf("NewPubSub: %v", err)
	}
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(sim.Close)

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(sim.CAPEM()) {
		t.Fatalf("CAPEM() holds no certificate")
	}
	conn, err := grpc.NewClient(sim.Addr(), grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool})))
	if err != nil {
		t.Fatalf("grpc.NewClient(%s): %v", sim.Addr(), err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &pubsubTester{t: t, sim: sim, store: store, faults: opts.Faults, api: pb.NewPubSubClient(conn)}
}

// authCtx returns a context with the authentication metadata.
func authCtx(t *testing.T, token string) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), streamWait)
	t.Cleanup(cancel)
	return metadata.NewOutgoingContext(ctx, metadata.Pairs(
		"accesstoken", token, "instanceurl", "https://sfsim.example", "tenantid", "00D5e000000SfSaEAK"))
}

// subscribe opens a stream and sends the first request.
func (p *pubsubTester) subscribe(first *pb.FetchRequest) pb.PubSub_SubscribeClient {
	p.t.Helper()
	stream, err := p.api.Subscribe(authCtx(p.t, testToken))
	if err != nil {
		p.t.Fatalf("Subscribe: %v", err)
	}
	if err := stream.Send(first); err != nil {
		p.t.Fatalf("sending first FetchRequest: %v", err)
	}
	return stream
}

// recvEvents receives FetchResponses until n events arrived, skipping
// keepalives.
func recvEvents(t *testing.T, stream pb.PubSub_SubscribeClient, n int) []*pb.FetchResponse {
	t.Helper()
	var out []*pb.FetchResponse
	got := 0
	for got < n {
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("Recv after %d of %d events: %v", got, n, err)
		}
		if len(resp.GetEvents()) == 0 {
			continue
		}
		out = append(out, resp)
		got += len(resp.GetEvents())
	}
	return out
}

// recvStatus receives until the stream fails and returns its status and
// error-code trailer.
func recvStatus(t *testing.T, stream pb.PubSub_SubscribeClient) (*status.Status, string) {
	t.Helper()
	for {
		_, err := stream.Recv()
		if err != nil {
			st, _ := status.FromError(err)
			code := stream.Trailer().Get("error-code")
			if len(code) == 0 {
				return st, ""
			}
			return st, code[0]
		}
	}
}

func createAccounts(t *testing.T, store *sfsim.Store, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		id, err := store.Create(map[string]any{"Name": "Account " + string(rune('A'+i)), "Type": "Prospect"}, sfsim.WriteOptions{})
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		ids[i] = id
	}
	return ids
}

func TestPubSubGetTopicAndSchema(t *testing.T) {
	t.Parallel()
	p := startPubSub(t, sfsim.PubSubOptions{})
	ctx := authCtx(t, testToken)

	info, err := p.api.GetTopic(ctx, &pb.TopicRequest{TopicName: pubsubTopic})
	if err != nil {
		t.Fatalf("GetTopic(%s): %v", pubsubTopic, err)
	}
	if info.GetSchemaId() != p.sim.SchemaID() || !info.GetCanSubscribe() || info.GetCanPublish() {
		t.Fatalf("GetTopic(%s) = %v, want schema %s, can_subscribe true, can_publish false", pubsubTopic, info, p.sim.SchemaID())
	}

	schema, err := p.api.GetSchema(ctx, &pb.SchemaRequest{SchemaId: info.GetSchemaId()})
	if err != nil {
		t.Fatalf("GetSchema(%s): %v", info.GetSchemaId(), err)
	}
	if schema.GetSchemaJson() != p.sim.SchemaJSON() {
		t.Fatalf("GetSchema(%s) returned another schema than SchemaJSON()", info.GetSchemaId())
	}

	var trailer metadata.MD
	_, err = p.api.GetSchema(ctx, &pb.SchemaRequest{SchemaId: "nope"}, grpc.Trailer(&trailer))
	if status.Code(err) != codes.NotFound {
		t.Fatalf("GetSchema(nope) error = %v, want NotFound", err)
	}
	if got := trailer.Get("rpc-id"); len(got) == 0 {
		t.Fatalf("GetSchema(nope) trailer %v has no rpc-id", trailer)
	}
	_, err = p.api.GetTopic(ctx, &pb.TopicRequest{TopicName: "/data/NoSuchEvent"})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("GetTopic(/data/NoSuchEvent) error = %v, want NotFound", err)
	}
}

func TestPubSubRejectsMissingCredentials(t *testing.T) {
	t.Parallel()
	p := startPubSub(t, sfsim.PubSubOptions{})
	tests := []struct {
		name string
		md   metadata.MD
	}{
		{"no metadata", metadata.MD{}},
		{"no tenant", metadata.Pairs("accesstoken", testToken, "instanceurl", "https://sfsim.example")},
		{"wrong token", metadata.Pairs("accesstoken", "other", "instanceurl", "https://sfsim.example", "tenantid", "00D5e000000SfSaEAK")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), streamWait)
			defer cancel()
			var trailer metadata.MD
			_, err := p.api.GetTopic(metadata.NewOutgoingContext(ctx, tt.md), &pb.TopicRequest{TopicName: pubsubTopic}, grpc.Trailer(&trailer))
			if status.Code(err) != codes.Unauthenticated {
				t.Fatalf("GetTopic error = %v, want Unauthenticated", err)
			}
			if got := trailer.Get("error-code"); len(got) != 1 || got[0] != sfsim.PubSubErrAuth {
				t.Fatalf("GetTopic error-code = %v, want %s", got, sfsim.PubSubErrAuth)
			}

			stream, err := p.api.Subscribe(metadata.NewOutgoingContext(ctx, tt.md))
			if err != nil {
				t.Fatalf("Subscribe: %v", err)
			}
			st, code := recvStatus(t, stream)
			if st.Code() != codes.Unauthenticated || code != sfsim.PubSubErrAuth {
				t.Fatalf("Subscribe ended with %v, error-code %q; want Unauthenticated, %s", st, code, sfsim.PubSubErrAuth)
			}
		})
	}
}

func TestPubSubCreditsCapAndPending(t *testing.T) {
	t.Parallel()
	p := startPubSub(t, sfsim.PubSubOptions{})
	createAccounts(t, p.store, 130)

	stream := p.subscribe(&pb.FetchRequest{TopicName: pubsubTopic, ReplayPreset: pb.ReplayPreset_EARLIEST, NumRequested: 500})
	resps := recvEvents(t, stream, 100)
	if got := len(resps[0].GetEvents()); got != 100 {
		t.Fatalf("first FetchResponse for num_requested 500 has %d events, want the cap of 100", got)
	}
	if got := resps[0].GetPendingNumRequested(); got != 0 {
		t.Fatalf("pending_num_requested after 100 events = %d, want 0", got)
	}
	last := resps[0].GetEvents()[99].GetReplayId()
	if !cmp.Equal(resps[0].GetLatestReplayId(), last) {
		t.Fatalf("latest_replay_id = %x, want the last event's %x", resps[0].GetLatestReplayId(), last)
	}

	// Two requests of 20 accumulate to 40 credits, of which 30 are used.
	for range 2 {
		if err := stream.Send(&pb.FetchRequest{NumRequested: 20}); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	resps = recvEvents(t, stream, 30)
	final := resps[len(resps)-1]
	if got := final.GetPendingNumRequested(); got != 10 {
		t.Fatalf("pending_num_requested after 30 of 40 credits = %d, want 10", got)
	}
}

func TestPubSubReplayPresets(t *testing.T) {
	t.Parallel()
	p := startPubSub(t, sfsim.PubSubOptions{KeepaliveInterval: 20 * time.Millisecond})
	createAccounts(t, p.store, 3)
	events := p.store.EventsAfter(0, 0)

	tests := []struct {
		name  string
		first *pb.FetchRequest
		want  int64 // replay id of the first event expected
	}{
		{"earliest", &pb.FetchRequest{ReplayPreset: pb.ReplayPreset_EARLIEST}, events[0].ReplayID},
		{"custom after first", &pb.FetchRequest{ReplayPreset: pb.ReplayPreset_CUSTOM, ReplayId: sfsim.EncodeReplayID(events[0].ReplayID)}, events[1].ReplayID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.first.TopicName = pubsubTopic
			tt.first.NumRequested = 1
			stream := p.subscribe(tt.first)
			resps := recvEvents(t, stream, 1)
			got := resps[0].GetEvents()[0].GetReplayId()
			if want := sfsim.EncodeReplayID(tt.want); !cmp.Equal(got, want) {
				t.Fatalf("first replay id = %x, want %x", got, want)
			}
		})
	}

	t.Run("latest sends keepalive at the tip", func(t *testing.T) {
		stream := p.subscribe(&pb.FetchRequest{TopicName: pubsubTopic, NumRequested: 5})
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		want := sfsim.EncodeReplayID(events[2].ReplayID)
		if len(resp.GetEvents()) != 0 || !cmp.Equal(resp.GetLatestReplayId(), want) || resp.GetPendingNumRequested() != 5 {
			t.Fatalf("first response = %v, want a keepalive with latest_replay_id %x and 5 pending", resp, want)
		}
	})
}

func TestPubSubReplayIDRejected(t *testing.T) {
	t.Parallel()
	p := startPubSub(t, sfsim.PubSubOptions{})
	createAccounts(t, p.store, 3)
	events := p.store.EventsAfter(0, 0)
	// Replay ids grow with gaps; find an id between two events.
	var between int64
	for i := range len(events) - 1 {
		if events[i+1].ReplayID-events[i].ReplayID > 1 {
			between = events[i].ReplayID + 1
		}
	}
	if between == 0 {
		t.Fatalf("replay ids %v have no gap", events)
	}

	tests := []struct {
		name     string
		replayID []byte
	}{
		{"decimal text", []byte("1002")},
		{"ten bytes", []byte{0, 0, 0, 0, 0, 0x10, 0xdb, 0x4d, 0, 0}},
		{"beyond the newest event", sfsim.EncodeReplayID(events[2].ReplayID + 1000)},
		{"between two events", sfsim.EncodeReplayID(between)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stream := p.subscribe(&pb.FetchRequest{TopicName: pubsubTopic, ReplayPreset: pb.ReplayPreset_CUSTOM, ReplayId: tt.replayID, NumRequested: 1})
			st, code := recvStatus(t, stream)
			if st.Code() != codes.InvalidArgument || code != sfsim.PubSubErrReplayCorrupted {
				t.Fatalf("Subscribe from %x ended with %v, error-code %q; want InvalidArgument, %s", tt.replayID, st, code, sfsim.PubSubErrReplayCorrupted)
			}
		})
	}
}

func TestPubSubPurgedReplayID(t *testing.T) {
	t.Parallel()
	p := startPubSub(t, sfsim.PubSubOptions{})
	createAccounts(t, p.store, 2)
	old := p.store.EventsAfter(0, 0)[0].ReplayID
	p.store.Purge(time.Now().Add(time.Hour))
	createAccounts(t, p.store, 1)

	stream := p.subscribe(&pb.FetchRequest{TopicName: pubsubTopic, ReplayPreset: pb.ReplayPreset_CUSTOM, ReplayId: sfsim.EncodeReplayID(old), NumRequested: 1})
	st, code := recvStatus(t, stream)
	if st.Code() != codes.InvalidArgument || code != sfsim.PubSubErrReplayCorrupted {
		t.Fatalf("Subscribe from purged %d ended with %v, error-code %q; want InvalidArgument, %s", old, st, code, sfsim.PubSubErrReplayCorrupted)
	}
}

func TestPubSubIdleClose(t *testing.T) {
	t.Parallel()
	p := startPubSub(t, sfsim.PubSubOptions{IdleTimeout: 50 * time.Millisecond, KeepaliveInterval: time.Hour})
	createAccounts(t, p.store, 2)

	stream := p.subscribe(&pb.FetchRequest{TopicName: pubsubTopic, ReplayPreset: pb.ReplayPreset_EARLIEST, NumRequested: 2})
	recvEvents(t, stream, 2)
	st, _ := recvStatus(t, stream)
	if st.Code() != codes.Unavailable {
		t.Fatalf("stream without credits ended with %v, want Unavailable", st)
	}
	if got := p.sim.Stats().IdleCloses; got != 1 {
		t.Fatalf("Stats().IdleCloses = %d, want 1", got)
	}
}

func TestPubSubRejectsTopicChange(t *testing.T) {
	t.Parallel()
	p := startPubSub(t, sfsim.PubSubOptions{})
	stream := p.subscribe(&pb.FetchRequest{TopicName: pubsubTopic, NumRequested: 1})
	if err := stream.Send(&pb.FetchRequest{TopicName: "/data/ChangeEvents", NumRequested: 1}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	st, _ := recvStatus(t, stream)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("stream after a topic change ended with %v, want InvalidArgument", st)
	}
}

func TestPubSubFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		inject   func(*sfsim.PubSubFaults)
		wantCode codes.Code
		wantErr  string
	}{
		{"auth expired", (*sfsim.PubSubFaults).InjectAuthExpired, codes.Unauthenticated, sfsim.PubSubErrAuth},
		{"unavailable", (*sfsim.PubSubFaults).InjectUnavailable, codes.Unavailable, ""},
		{"replay corrupted", (*sfsim.PubSubFaults).InjectReplayCorrupted, codes.InvalidArgument, sfsim.PubSubErrReplayCorrupted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := startPubSub(t, sfsim.PubSubOptions{})
			tt.inject(p.faults)
			stream := p.subscribe(&pb.FetchRequest{TopicName: pubsubTopic, NumRequested: 1})
			st, code := recvStatus(t, stream)
			if st.Code() != tt.wantCode || code != tt.wantErr {
				t.Fatalf("stream ended with %v, error-code %q; want %v, %q", st, code, tt.wantCode, tt.wantErr)
			}
		})
	}
}

// decodeHeader decodes the ChangeEventHeader of an event payload.
func decodeHeader(t *testing.T, schemaJSON string, payload []byte) map[string]any {
	t.Helper()
	schema, err := avro.ParseWithCache(schemaJSON, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatalf("parsing schema: %v", err)
	}
	var record map[string]any
	if err := avro.Unmarshal(schema, payload, &record); err != nil {
		t.Fatalf("decoding payload: %v", err)
	}
	return record["ChangeEventHeader"].(map[string]any)
}

func TestPubSubHeaderBitmaps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		omitParent  bool
		update      map[string]any
		wantChanged []any
		wantNulled  []any
	}{
		// Fax is field 7 and LastModifiedDate field 22, as in Salesforce's
		// documented example of an enriched event.
		{"fax", false, map[string]any{"Fax": "+1 555 0100"}, []any{"0x400080"}, []any{}},
		{"billing city", false, map[string]any{"BillingCity": "Eastbrook"}, []any{"0x400010", "4-0x02"}, []any{}},
		{"billing city without parent bit", true, map[string]any{"BillingCity": "Eastbrook"}, []any{"0x400000", "4-0x02"}, []any{}},
		{"phone nulled", false, map[string]any{"Phone": nil}, []any{"0x400040"}, []any{"0x40"}},
		{"custom field", false, map[string]any{"SAP_ID__c": "0000104711"}, []any{"0x1000400000"}, []any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := startPubSub(t, sfsim.PubSubOptions{OmitCompoundParentBit: tt.omitParent})
			id, err := p.store.Create(map[string]any{"Name": "Larchfield Tools Ltd", "Phone": "+44 20 7946 0000"}, sfsim.WriteOptions{})
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if err := p.store.Update(id, tt.update, sfsim.WriteOptions{}); err != nil {
				t.Fatalf("Update(%v): %v", tt.update, err)
			}
			stream := p.subscribe(&pb.FetchRequest{TopicName: pubsubTopic, ReplayPreset: pb.ReplayPreset_EARLIEST, NumRequested: 2})
			resps := recvEvents(t, stream, 2)
			var events []*pb.ConsumerEvent
			for _, r := range resps {
				events = append(events, r.GetEvents()...)
			}

			create := decodeHeader(t, p.sim.SchemaJSON(), events[0].GetEvent().GetPayload())
			if diff := cmp.Diff([]any{}, create["changedFields"]); diff != "" {
				t.Errorf("CREATE changedFields (-want +got):\n%s", diff)
			}
			update := decodeHeader(t, p.sim.SchemaJSON(), events[1].GetEvent().GetPayload())
			if diff := cmp.Diff(tt.wantChanged, update["changedFields"]); diff != "" {
				t.Errorf("UPDATE changedFields (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantNulled, update["nulledFields"]); diff != "" {
				t.Errorf("UPDATE nulledFields (-want +got):\n%s", diff)
			}
		})
	}
}
