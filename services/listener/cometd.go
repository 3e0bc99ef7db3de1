package listener

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/sfsap/sfsap/pkg/cdc"
	"github.com/sfsap/sfsap/pkg/cometd"
)

// CometDSource adapts the Streaming API client to Source. Positions are
// replay ids written as decimal text.
type CometDSource struct {
	Client *cometd.Client
	// Preset is the replay id used without a stored position: -1 for new
	// events only, -2 for all retained events.
	Preset int64
}

// Subscribe implements Source.
func (s *CometDSource) Subscribe(ctx context.Context, from []byte, handle func(ctx context.Context, ev Event) error) error {
	replay := s.Preset
	if replay == 0 {
		replay = -1
	}
	if len(from) > 0 {
		n, err := strconv.ParseInt(string(from), 10, 64)
		if err != nil {
			return fmt.Errorf("%w: stored CometD replay id %q is not a number: %v", ErrPositionRejected, from, err)
		}
		replay = n
	}
	err := s.Client.Subscribe(ctx, replay, func(ctx context.Context, ev cometd.Event) error {
		pos := []byte(strconv.FormatInt(ev.ReplayID, 10))
		changes, err := cdc.DecodeCometD(ev.Data)
		if err != nil {
			err = fmt.Errorf("decoding change event at replay id %d: %w", ev.ReplayID, err)
			return handle(ctx, Event{Position: pos, Raw: ev.Data, DecodeErr: err})
		}
		return handle(ctx, Event{Changes: changes, Position: pos})
	})
	var invalid *cometd.ReplayInvalidError
	if errors.As(err, &invalid) {
		return fmt.Errorf("%w: %w", ErrPositionRejected, err)
	}
	return err
}

// Transport returns "cometd".
func (s *CometDSource) Transport() string { return "cometd" }
