package listener

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sfsap/sfsap/pkg/pubsub"
)

// PubSubSource adapts the Pub/Sub API client to Source. Positions are the
// replay ids exactly as Salesforce sent them. Keepalives move the position
// forward too, so the stored position stays inside the retention window
// while no Account changes.
type PubSubSource struct {
	Client *pubsub.Client
	// Preset is the start of a subscription without a stored position.
	// Defaults to pubsub.ReplayLatest.
	Preset pubsub.ReplayPreset
}

// Subscribe implements Source. A position Salesforce rejects is returned
// wrapped in ErrPositionRejected.
func (s *PubSubSource) Subscribe(ctx context.Context, from []byte, handle func(ctx context.Context, ev Event) error) error {
	if len(from) == 0 {
		from = nil
	}
	err := s.Client.Subscribe(ctx, from, s.Preset, func(ctx context.Context, ev pubsub.Event) error {
		if ev.Keepalive {
			return handle(ctx, Event{Position: ev.ReplayID})
		}
		decodeErr := ev.DecodeErr
		if decodeErr == nil {
			changes, err := ev.Change.AccountChanges()
			if err == nil {
				return handle(ctx, Event{Changes: changes, Position: ev.ReplayID})
			}
			decodeErr = err
		}
		return handle(ctx, Event{
			Position:  ev.ReplayID,
			Raw:       undecodedEvent(ev),
			DecodeErr: fmt.Errorf("decoding change event at replay id %x: %w", ev.ReplayID, decodeErr),
		})
	})
	if _, ok := errors.AsType[*pubsub.ReplayInvalidError](err); ok {
		return fmt.Errorf("%w: %w", ErrPositionRejected, err)
	}
	return err
}

// undecodedEvent returns a JSON record of an event that could not be
// decoded, with the binary fields in base64, for the dead-letter stream.
func undecodedEvent(ev pubsub.Event) []byte {
	raw, err := json.Marshal(struct {
		ReplayID []byte `json:"replay_id"`
		EventID  string `json:"event_id"`
		SchemaID string `json:"schema_id"`
		Payload  []byte `json:"payload"`
	}{ev.ReplayID, ev.ID, ev.SchemaID, ev.Payload})
	if err != nil {
		// json.Marshal fails only on unsupported types, and this struct
		// has none.
		panic(fmt.Sprintf("encoding undecodable event: %v", err))
	}
	return raw
}

// Transport names the source's transport in metrics.
func (s *PubSubSource) Transport() string { return "pubsub" }
