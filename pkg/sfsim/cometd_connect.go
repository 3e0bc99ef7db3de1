package sfsim

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
)

// cometdSchemaID is the data.schema value of the simulator's change
// events. Salesforce sends the id of the event's Avro schema there.
const cometdSchemaID = "sfsimAccountChangeEvent1"

// cometdTimeLayout is the form of datetimes in CometD change events.
const cometdTimeLayout = "2006-01-02T15:04:05.000Z"

// connect replies to /meta/connect: at once with the pending events of the
// client's subscriptions, or after holding the request until an event
// arrives or ConnectTimeout passes. The reply ends with the connect
// message, which carries the advice.
func (s *cometdServer) connect(x *cometdExchange, m bayeuxRequest, c *cometdClient, reply bayeuxReply) {
	if m.ConnectionType != cometdLongPolling {
		reply.Error = fmt.Sprintf("400::Invalid connection type {%s}", m.ConnectionType)
		x.replies = append(x.replies, reply)
		return
	}
	if s.opts.Faults.take(cometdConnectUnauthorized) {
		reply.Error = "401::Authentication invalid"
		reply.Advice = &bayeuxAdvice{Reconnect: "none"}
		x.fail(http.StatusUnauthorized)
		x.replies = append(x.replies, reply)
		return
	}

	s.mu.Lock()
	c.holding++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		c.holding--
		c.expires = time.Now().Add(s.opts.ClientExpiry)
		s.mu.Unlock()
	}()

	deadline := time.Now().Add(s.opts.ConnectTimeout)
	var events []any
	for {
		// Take the wake channel before checking for a fault, so a fault
		// added after the check still ends the wait.
		wake := s.opts.Faults.wakeChan()
		if s.opts.Faults.take(cometdUnknownClient) {
			s.mu.Lock()
			s.forgetLocked(c)
			s.mu.Unlock()
		}
		var after int64
		var alive bool
		events, after, alive = s.collectEvents(c)
		if !alive {
			reply.Error = "403::Unknown client"
			reply.Advice = &bayeuxAdvice{Reconnect: "handshake"}
			x.replies = append(x.replies, reply)
			return
		}
		if len(events) > 0 || !time.Now().Before(deadline) || x.r.Context().Err() != nil {
			break
		}
		s.waitForEvents(x.r.Context(), c, after, wake, deadline)
	}

	x.replies = append(x.replies, events...)
	reply.Successful = true
	reply.Advice = &bayeuxAdvice{Reconnect: "retry", Interval: 0, Timeout: s.opts.ConnectTimeout.Milliseconds()}
	x.replies = append(x.replies, reply)
}

// collectEvents returns the event messages pending for c, at most
// cometdMaxBatch per subscription in replay id order, and advances the
// subscriptions past them. It also returns the smallest replay id that a
// wait must pass, and false when the server has forgotten c.
func (s *cometdServer) collectEvents(c *cometdClient) ([]any, int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clients[c.id] != c {
		return nil, 0, false
	}

	type delivery struct {
		channel string
		event   ChangeEvent
	}
	var pending []delivery
	waitAfter := int64(math.MaxInt64)
	for _, channel := range slices.Sorted(maps.Keys(c.subscriptions)) {
		position := c.subscriptions[channel]
		events := s.store.EventsAfter(position, cometdMaxBatch)
		for _, ev := range events {
			pending = append(pending, delivery{channel, ev})
		}
		if len(events) > 0 {
			position = events[len(events)-1].ReplayID
			c.subscriptions[channel] = position
		}
		waitAfter = min(waitAfter, position)
	}
	slices.SortStableFunc(pending, func(a, b delivery) int {
		return cmp.Compare(a.event.ReplayID, b.event.ReplayID)
	})

	out := make([]any, len(pending))
	for i, d := range pending {
		out[i] = cometdEventMessage(d.channel, d.event)
	}
	return out, waitAfter, true
}

// waitForEvents blocks until the store has an event after the replay id,
// the deadline passes, the request ends, the client is forgotten, or a
// fault is injected.
func (s *cometdServer) waitForEvents(ctx context.Context, c *cometdClient, after int64, wake <-chan struct{}, deadline time.Time) {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	go func() {
		select {
		case <-c.gone:
		case <-wake:
		case <-ctx.Done():
		}
		cancel()
	}()
	s.store.WaitEvents(ctx, after)
}

// cometdEventMessage builds the message that delivers ev on channel: the
// header without nulledFields and diffFields, the non-null fields with
// address components nested under their compound field, and datetimes as
// ISO-8601 strings in UTC.
func cometdEventMessage(channel string, ev ChangeEvent) map[string]any {
	h := ev.Header
	payload := map[string]any{
		"ChangeEventHeader": map[string]any{
			"entityName":      h.EntityName,
			"recordIds":       h.RecordIDs,
			"changeType":      h.ChangeType,
			"changeOrigin":    h.ChangeOrigin,
			"transactionKey":  h.TransactionKey,
			"sequenceNumber":  h.SequenceNumber,
			"commitTimestamp": h.CommitTimestamp,
			"commitNumber":    h.CommitNumber,
			"commitUser":      h.CommitUser,
			"changedFields":   h.ChangedFields,
		},
	}
	for field, value := range ev.Fields {
		if value == nil {
			continue
		}
		name := EventFieldName(field)
		compound, component, ok := strings.Cut(name, ".")
		if !ok {
			payload[name] = cometdValue(value)
			continue
		}
		nested, _ := payload[compound].(map[string]any)
		if nested == nil {
			nested = map[string]any{}
			payload[compound] = nested
		}
		nested[component] = cometdValue(value)
	}
	return map[string]any{
		"data": map[string]any{
			"schema":  cometdSchemaID,
			"payload": payload,
			"event":   map[string]any{"replayId": ev.ReplayID},
		},
		"channel": channel,
	}
}

func cometdValue(v any) any {
	if t, ok := v.(time.Time); ok {
		return t.UTC().Format(cometdTimeLayout)
	}
	return v
}
