package cometd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// subscription is the state of one Subscribe call across its Bayeux
// sessions.
type subscription struct {
	client  *Client
	handler func(ctx context.Context, ev Event) error

	// replayID is the replay id of the last event the handler accepted,
	// or the -1 or -2 preset until it accepted one.
	replayID int64
	// failures counts failed attempts since the last successful connect.
	// It sets the backoff before the next handshake.
	failures int
	// watchdog reports a subscription that stays down too long.
	watchdog *watchdog

	// Session state, set by the handshake.
	clientID string
	token    string
	// hold and interval come from the server's advice: how long it may
	// hold /meta/connect, and how long to wait before the next one.
	hold     time.Duration
	interval time.Duration
	lastID   int
}

// message is a Bayeux message received from the server.
type message struct {
	Channel      string          `json:"channel"`
	ClientID     string          `json:"clientId"`
	Subscription string          `json:"subscription"`
	Successful   bool            `json:"successful"`
	Error        string          `json:"error"`
	Advice       *advice         `json:"advice"`
	Ext          json.RawMessage `json:"ext"`
	Data         json.RawMessage `json:"data"`
}

type advice struct {
	Reconnect string `json:"reconnect"`
	// Interval and Timeout are in milliseconds; nil when absent.
	Interval *int64 `json:"interval"`
	Timeout  *int64 `json:"timeout"`
}

const (
	channelHandshake   = "/meta/handshake"
	channelSubscribe   = "/meta/subscribe"
	channelConnect     = "/meta/connect"
	channelDisconnect  = "/meta/disconnect"
	connectionTypeLong = "long-polling"
)

// run handshakes, subscribes and then long-polls until the session ends.
// It returns why the session ended; a *finalError ends Subscribe too.
func (s *subscription) run(ctx context.Context) error {
	if err := s.handshake(ctx); err != nil {
		return err
	}
	if err := s.subscribe(ctx); err != nil {
		return err
	}
	return s.connectLoop(ctx)
}

func (s *subscription) handshake(ctx context.Context) error {
	s.clientID = ""
	token, err := s.client.cfg.TokenSource(ctx)
	if err != nil {
		return fmt.Errorf("getting access token for the handshake: %w", err)
	}
	s.token = token

	reply, _, err := s.exchange(ctx, s.client.cfg.RequestTimeout, map[string]any{
		"channel":                  channelHandshake,
		"version":                  "1.0",
		"minimumVersion":           "1.0",
		"supportedConnectionTypes": []string{connectionTypeLong},
		"ext":                      map[string]any{"replay": true},
	})
	if err != nil {
		return fmt.Errorf("handshaking: %w", err)
	}

	var ext struct {
		Replay bool `json:"replay"`
		SFDC   struct {
			FailureReason string `json:"failureReason"`
		} `json:"sfdc"`
	}
	if len(reply.Ext) > 0 {
		if err := json.Unmarshal(reply.Ext, &ext); err != nil {
			return fmt.Errorf("handshaking: invalid ext in reply: %w", err)
		}
	}
	if !reply.Successful {
		e := parseError(channelHandshake, reply.Error)
		reason := ext.SFDC.FailureReason
		if e.Code == 401 || strings.HasPrefix(reason, "401::") {
			s.rejectToken()
		}
		if reason != "" {
			return fmt.Errorf("handshaking: %w (failure reason %s)", e, reason)
		}
		return fmt.Errorf("handshaking: %w", e)
	}
	if !ext.Replay {
		return &finalError{ErrReplayUnsupported}
	}
	if reply.ClientID == "" {
		return errors.New("handshaking: reply has no clientId")
	}
	s.clientID = reply.ClientID
	s.applyAdvice(reply.Advice)
	return nil
}

func (s *subscription) subscribe(ctx context.Context) error {
	channel := s.client.cfg.Channel
	reply, _, err := s.exchange(ctx, s.client.cfg.RequestTimeout, map[string]any{
		"channel":      channelSubscribe,
		"clientId":     s.clientID,
		"subscription": channel,
		"ext":          map[string]any{"replay": map[string]int64{channel: s.replayID}},
	})
	if err != nil {
		return fmt.Errorf("subscribing to %s: %w", channel, err)
	}
	if !reply.Successful {
		e := parseError(channelSubscribe, reply.Error)
		switch {
		// Salesforce words it "The replayId {N} you provided was
		// invalid.", with code 400.
		case e.Code == 400 && strings.Contains(e.Message, "replayId"):
			return &finalError{&ReplayInvalidError{Channel: channel, ReplayID: s.replayID, Message: reply.Error}}
		case e.Code == 401:
			s.rejectToken()
			return fmt.Errorf("subscribing to %s: %w", channel, e)
		case e.Code == 403:
			return fmt.Errorf("subscribing to %s: %w", channel, e)
		}
		return &finalError{fmt.Errorf("subscribing to %s from replay id %d: %w", channel, s.replayID, e)}
	}
	s.client.log.Info("cometd: subscribed", "replay_id", s.replayID)
	s.watchdog.subscribed()
	return nil
}

// connectLoop long-polls /meta/connect and hands the events to the
// handler. It returns when the server or the network ends the session.
func (s *subscription) connectLoop(ctx context.Context) error {
	for {
		if s.interval > 0 {
			if err := s.client.sleep(ctx, s.interval); err != nil {
				return err
			}
		}

		reply, events, err := s.exchange(ctx, s.hold+connectMargin, map[string]any{
			"channel":        channelConnect,
			"clientId":       s.clientID,
			"connectionType": connectionTypeLong,
		})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// The server may still know the client and the position of
			// its subscription, so poll again before handshaking.
			if err := s.retryAfterBackoff(ctx, "cometd: connect failed; retrying", err); err != nil {
				return err
			}
			continue
		}

		for _, ev := range events {
			if err := s.deliver(ctx, ev); err != nil {
				return err
			}
		}

		if reply.Successful {
			s.failures = 0
			s.applyAdvice(reply.Advice)
			if reply.Advice != nil && reply.Advice.Reconnect != "" && reply.Advice.Reconnect != "retry" {
				return fmt.Errorf("connect: server advised reconnect=%s", reply.Advice.Reconnect)
			}
			continue
		}

		e := parseError(channelConnect, reply.Error)
		if e.Code == 401 {
			s.rejectToken()
			return e
		}
		if reply.Advice != nil && reply.Advice.Reconnect == "retry" {
			if err := s.retryAfterBackoff(ctx, "cometd: connect rejected; retrying", e); err != nil {
				return err
			}
			continue
		}
		// 403::Unknown client and every other failure: handshake again.
		return e
	}
}

func (s *subscription) retryAfterBackoff(ctx context.Context, logMessage string, cause error) error {
	s.failures++
	delay := s.client.backoff(s.failures - 1)
	s.client.log.Warn(logMessage, "attempt", s.failures, "retry_in", delay, "error", cause)
	return s.client.sleep(ctx, delay)
}

// deliver calls the handler for one event message until it accepts the
// event, and then advances the replay id. It returns only when the
// handler accepted the event or ctx ended.
func (s *subscription) deliver(ctx context.Context, m message) error {
	ev := Event{Channel: m.Channel, Data: m.Data}
	var envelope struct {
		Event struct {
			ReplayID int64 `json:"replayId"`
		} `json:"event"`
	}
	if err := json.Unmarshal(m.Data, &envelope); err == nil {
		ev.ReplayID = envelope.Event.ReplayID
	}
	if ev.ReplayID == 0 {
		s.client.log.Warn("cometd: event has no replay id; a resubscription may deliver earlier events again", "replay_id", s.replayID)
	}

	for attempt := 0; ; attempt++ {
		err := s.handler(ctx, ev)
		if err == nil {
			if ev.ReplayID != 0 {
				s.replayID = ev.ReplayID
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		delay := s.client.backoff(attempt)
		s.client.log.Warn("cometd: event handler failed; retrying the same event", "replay_id", ev.ReplayID, "attempt", attempt+1, "retry_in", delay, "error", err)
		if err := s.client.sleep(ctx, delay); err != nil {
			return err
		}
	}
}

// disconnect ends the server session, if any, without waiting long. It
// runs when Subscribe returns, so it must work after ctx has ended.
func (s *subscription) disconnect(ctx context.Context) {
	if s.clientID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, _, err := s.exchange(ctx, 5*time.Second, map[string]any{
		"channel":  channelDisconnect,
		"clientId": s.clientID,
	})
	if err != nil {
		s.client.log.Debug("cometd: disconnect failed", "error", err)
	}
	s.clientID = ""
}

// rejectToken passes a token that Salesforce rejected to
// Config.TokenRejected.
func (s *subscription) rejectToken() {
	s.client.log.Warn("cometd: Salesforce rejected the access token; requesting a new one before the next handshake")
	if s.token != "" && s.client.cfg.TokenRejected != nil {
		s.client.cfg.TokenRejected(s.token)
	}
	s.token = ""
}

func (s *subscription) applyAdvice(a *advice) {
	if a == nil {
		return
	}
	if a.Timeout != nil && *a.Timeout > 0 {
		s.hold = time.Duration(*a.Timeout) * time.Millisecond
	}
	if a.Interval != nil && *a.Interval >= 0 {
		s.interval = time.Duration(*a.Interval) * time.Millisecond
	}
}

func (s *subscription) nextMessageID() string {
	s.lastID++
	return strconv.Itoa(s.lastID)
}
