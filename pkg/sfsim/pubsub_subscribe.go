package sfsim

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	pb "github.com/sfsap/sfsap/pkg/pubsub/eventbusv1"
)

// pubsubMaxCredits caps the credits a stream holds: Salesforce treats a
// num_requested above 100 as 100, and 100 is also the cap across all
// outstanding requests. One FetchResponse carries at most this many events.
const pubsubMaxCredits = 100

// pubsubEventIDs is the namespace of the UUIDs used as ProducerEvent ids,
// derived from the replay id so that a redelivered event keeps its id.
// NOTE: Salesforce does not document the id format of change events.
var pubsubEventIDs = uuid.MustParse("7b0d4f4e-5b8c-4f0e-9a53-2f6d1c3e8a10")

// EncodeReplayID returns the Pub/Sub replay id of a store replay id: 8
// bytes, big-endian. Clients must treat the bytes as opaque.
func EncodeReplayID(replayID int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(replayID))
}

// Subscribe implements PubSubServer. The first FetchRequest names the
// topic and the start position; every FetchRequest adds num_requested
// credits, and the stream sends at most that many events. With nothing to
// send it sends a keepalive every KeepaliveInterval; with no credits and
// no FetchRequest for IdleTimeout it ends with UNAVAILABLE.
func (p *PubSub) Subscribe(stream grpc.BidiStreamingServer[pb.FetchRequest, pb.FetchResponse]) error {
	ctx := stream.Context()
	rpcID := uuid.NewString()
	p.count(func(st *PubSubStats) { st.Streams++ })

	first, err := stream.Recv()
	if err != nil {
		return nil // The client closed the stream before its first request.
	}
	p.countRequest(first)
	topic := first.GetTopicName()
	if !isPubSubTopic(topic) {
		return streamError(stream, codes.NotFound, PubSubErrTopicNotFound, rpcID,
			fmt.Sprintf("topic %q not found; subscribe to /data/AccountChangeEvent", topic))
	}
	if first.GetNumRequested() < 0 {
		return streamError(stream, codes.InvalidArgument, PubSubErrInvalidRequest, rpcID,
			fmt.Sprintf("num_requested %d is negative", first.GetNumRequested()))
	}
	position, err := p.startPosition(first)
	if err != nil {
		return streamError(stream, codes.InvalidArgument, PubSubErrReplayCorrupted, rpcID, err.Error())
	}

	creds, _ := ctx.Value(credentialsKey{}).(PubSubCredentials)
	s := &pubsubStream{
		server:   p,
		stream:   stream,
		creds:    creds,
		rpcID:    rpcID,
		topic:    topic,
		position: position,
		credits:  addCredits(0, first.GetNumRequested()),
	}
	return s.run(ctx)
}

// startPosition returns the store replay id after which the stream
// starts, or an error for a replay id that is not a retained position.
func (p *PubSub) startPosition(req *pb.FetchRequest) (int64, error) {
	if p.opts.Faults.take(pubsubReplayCorrupted) {
		return 0, fmt.Errorf("replay id %x is corrupted or expired; subscribe with EARLIEST or LATEST", req.GetReplayId())
	}
	switch req.GetReplayPreset() {
	case pb.ReplayPreset_LATEST:
		return p.store.LatestReplayID(), nil
	case pb.ReplayPreset_EARLIEST:
		if earliest := p.store.EarliestReplayID(); earliest > 0 {
			return earliest - 1, nil
		}
		return p.store.LatestReplayID(), nil
	case pb.ReplayPreset_CUSTOM:
		raw := req.GetReplayId()
		p.count(func(st *PubSubStats) { st.CustomReplayIDs = append(st.CustomReplayIDs, slices.Clone(raw)) })
		if len(raw) != 8 {
			return 0, fmt.Errorf("replay id %x is corrupted: want the %d-byte replay id of a delivered event, got %d bytes", raw, 8, len(raw))
		}
		id := int64(binary.BigEndian.Uint64(raw))
		if !p.retained(id) {
			return 0, fmt.Errorf("replay id %x is unknown or outside the retention window; subscribe with EARLIEST or LATEST", raw)
		}
		return id, nil
	}
	return 0, fmt.Errorf("unknown replay preset %d", req.GetReplayPreset())
}

// retained reports whether a subscription may start after id: id is a
// retained event, or the position just before the oldest one, or 0 while
// the store retains no event.
func (p *PubSub) retained(id int64) bool {
	earliest := p.store.EarliestReplayID()
	if earliest == 0 {
		return id == 0
	}
	if id == earliest-1 {
		return true
	}
	next := p.store.EventsAfter(id-1, 1)
	return len(next) == 1 && next[0].ReplayID == id
}

func addCredits(credits, requested int32) int32 {
	return min(credits+min(max(requested, 0), pubsubMaxCredits), pubsubMaxCredits)
}

func (p *PubSub) count(update func(*PubSubStats)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	update(&p.stats)
}

func (p *PubSub) countRequest(req *pb.FetchRequest) {
	p.count(func(st *PubSubStats) {
		st.FetchRequests++
		st.MaxNumRequested = max(st.MaxNumRequested, req.GetNumRequested())
	})
}

// pubsubStream is the state of one open Subscribe stream.
type pubsubStream struct {
	server *PubSub
	stream grpc.BidiStreamingServer[pb.FetchRequest, pb.FetchResponse]
	creds  PubSubCredentials
	rpcID  string
	topic  string
	// position is the replay id of the last event sent, or the start
	// position before the first.
	position int64
	// credits is the number of events the client may still receive.
	credits int32
}

// run sends events and keepalives until the client goes away or the
// stream fails.
func (s *pubsubStream) run(ctx context.Context) error {
	p := s.server
	requests := make(chan *pb.FetchRequest)
	recvErr := make(chan error, 1)
	go func() {
		for {
			req, err := s.stream.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			select {
			case requests <- req:
			case <-ctx.Done():
				return
			}
		}
	}()

	keepalive := time.NewTimer(p.opts.KeepaliveInterval)
	defer keepalive.Stop()
	var idle *time.Timer
	idleC := func() <-chan time.Time {
		if idle == nil {
			return nil
		}
		return idle.C
	}
	// restartIdle starts the idle window while the stream has no credits
	// and stops it otherwise.
	restartIdle := func() {
		if idle != nil {
			idle.Stop()
			idle = nil
		}
		if s.credits == 0 {
			idle = time.NewTimer(p.opts.IdleTimeout)
		}
	}
	restartIdle()
	defer func() {
		if idle != nil {
			idle.Stop()
		}
	}()

	for {
		// Take the wake channel before checking for faults, so that a
		// fault added after the check still ends the wait below.
		wake := p.opts.Faults.wakeChan()
		if err := s.injectedFault(); err != nil {
			return err
		}

		sent, err := s.sendEvents()
		if err != nil {
			return err
		}
		if sent {
			keepalive.Reset(p.opts.KeepaliveInterval)
			if s.credits == 0 {
				restartIdle()
			}
			continue
		}

		waitCtx, stopWait := context.WithCancel(ctx)
		arrived := s.waitForEvents(waitCtx)
		select {
		case <-ctx.Done():
			stopWait()
			return nil
		case err := <-recvErr:
			stopWait()
			if errors.Is(err, io.EOF) {
				return nil // The client closed its side: it wants no more events.
			}
			return err
		case req := <-requests:
			if err := s.handleRequest(req); err != nil {
				stopWait()
				return err
			}
			restartIdle()
		case <-arrived:
		case <-keepalive.C:
			if err := s.sendKeepalive(); err != nil {
				stopWait()
				return err
			}
			keepalive.Reset(p.opts.KeepaliveInterval)
		case <-idleC():
			stopWait()
			p.count(func(st *PubSubStats) { st.IdleCloses++ })
			return streamError(s.stream, codes.Unavailable, "", s.rpcID,
				fmt.Sprintf("stream closed: no FetchRequest within %s while no events were requested", p.opts.IdleTimeout))
		case <-wake:
		}
		stopWait()
	}
}

// injectedFault returns the error that ends the stream when a fault is
// pending, or nil.
func (s *pubsubStream) injectedFault() error {
	faults := s.server.opts.Faults
	switch {
	case faults.take(pubsubAuthExpired):
		return streamError(s.stream, codes.Unauthenticated, PubSubErrAuth, s.rpcID, "session expired or invalid")
	case faults.take(pubsubUnavailable):
		return streamError(s.stream, codes.Unavailable, "", s.rpcID, "stream closed by the server")
	}
	return nil
}

// handleRequest checks a later FetchRequest and adds its credits.
func (s *pubsubStream) handleRequest(req *pb.FetchRequest) error {
	s.server.countRequest(req)
	if name := req.GetTopicName(); name != "" && name != s.topic {
		return streamError(s.stream, codes.InvalidArgument, PubSubErrInvalidRequest, s.rpcID,
			fmt.Sprintf("topic_name %q differs from the stream's topic %q", name, s.topic))
	}
	if req.GetNumRequested() < 0 {
		return streamError(s.stream, codes.InvalidArgument, PubSubErrInvalidRequest, s.rpcID,
			fmt.Sprintf("num_requested %d is negative", req.GetNumRequested()))
	}
	if err := s.server.checkCredentials(s.creds); err != nil {
		return streamError(s.stream, codes.Unauthenticated, PubSubErrAuth, s.rpcID, err.Error())
	}
	s.credits = addCredits(s.credits, req.GetNumRequested())
	return nil
}

// waitForEvents returns a channel that is closed when the store has an
// event after the stream's position, or nil while the stream has no
// credits to send one.
func (s *pubsubStream) waitForEvents(ctx context.Context) <-chan struct{} {
	if s.credits == 0 {
		return nil
	}
	arrived := make(chan struct{})
	position := s.position
	go func() {
		if s.server.store.WaitEvents(ctx, position) {
			close(arrived)
		}
	}()
	return arrived
}

// sendEvents sends the events after the position that the credits allow,
// in one FetchResponse, and reports whether it sent any.
func (s *pubsubStream) sendEvents() (bool, error) {
	if s.credits == 0 {
		return false, nil
	}
	p := s.server
	events := p.store.EventsAfter(s.position, int(s.credits))
	if len(events) == 0 {
		return false, nil
	}

	resp := &pb.FetchResponse{RpcId: s.rpcID}
	for _, ev := range events {
		payload, err := p.schema.encode(ev, p.opts.OmitCompoundParentBit)
		if err != nil {
			p.opts.Logger.Error("Pub/Sub simulator cannot encode a change event", "replay_id", ev.ReplayID, "error", err)
			return false, streamError(s.stream, codes.Internal, "", s.rpcID, err.Error())
		}
		replayID := EncodeReplayID(ev.ReplayID)
		resp.Events = append(resp.Events, &pb.ConsumerEvent{
			Event: &pb.ProducerEvent{
				Id:       uuid.NewSHA1(pubsubEventIDs, replayID).String(),
				SchemaId: p.schema.id,
				Payload:  payload,
			},
			ReplayId: replayID,
		})
	}
	s.position = events[len(events)-1].ReplayID
	s.credits -= int32(len(events))
	resp.LatestReplayId = EncodeReplayID(s.position)
	resp.PendingNumRequested = s.credits
	if err := s.stream.Send(resp); err != nil {
		return false, err
	}
	p.count(func(st *PubSubStats) { st.Delivered += len(events) })
	return true, nil
}

// sendKeepalive sends a FetchResponse without events, after checking that
// the stream's credentials are still valid. Its latest_replay_id is the
// stream's position; it is empty while the store has never had an event.
func (s *pubsubStream) sendKeepalive() error {
	if err := s.server.checkCredentials(s.creds); err != nil {
		return streamError(s.stream, codes.Unauthenticated, PubSubErrAuth, s.rpcID, err.Error())
	}
	resp := &pb.FetchResponse{RpcId: s.rpcID, PendingNumRequested: s.credits}
	if s.position > 0 {
		resp.LatestReplayId = EncodeReplayID(s.position)
	}
	if err := s.stream.Send(resp); err != nil {
		return err
	}
	s.server.count(func(st *PubSubStats) { st.Keepalives++ })
	return nil
}
