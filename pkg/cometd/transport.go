package cometd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// maxResponseBytes bounds a response body. A /meta/connect reply holds a
// batch of events, each at most 1 MB in Salesforce.
const maxResponseBytes = 64 << 20

// exchange sends one Bayeux message and returns the server's reply to it,
// plus the event messages that came with it in their order. It adds the
// message id and the access token.
//
// Failed replies come back as messages with Successful false, whatever
// the HTTP status, because Salesforce sends some failures with HTTP 400,
// 401 or 403 and a Bayeux body. An error means the exchange itself failed: the
// network, an HTTP status without a Bayeux body, or a body that is not a
// Bayeux reply.
func (s *subscription) exchange(ctx context.Context, timeout time.Duration, msg map[string]any) (message, []message, error) {
	channel := msg["channel"].(string)
	msg["id"] = s.nextMessageID()
	body, err := json.Marshal([]any{msg})
	if err != nil {
		return message{}, nil, fmt.Errorf("encoding %s: %w", channel, err)
	}

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.client.endpoint, bytes.NewReader(body))
	if err != nil {
		return message{}, nil, fmt.Errorf("building %s request: %w", channel, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}

	resp, err := s.client.http.Do(req)
	if err != nil {
		return message{}, nil, fmt.Errorf("sending %s: %w", channel, err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return message{}, nil, fmt.Errorf("reading %s reply: %w", channel, err)
	}

	var msgs []message
	jsonErr := json.Unmarshal(respBody, &msgs)
	switch {
	case jsonErr == nil:
	case resp.StatusCode == http.StatusUnauthorized:
		// A 401 without a Bayeux body still means the token was rejected.
		return message{Channel: channel, Error: "401::Authentication invalid (HTTP 401)"}, nil, nil
	case resp.StatusCode != http.StatusOK:
		return message{}, nil, fmt.Errorf("sending %s: HTTP %d: %s", channel, resp.StatusCode, snippet(respBody))
	default:
		return message{}, nil, fmt.Errorf("decoding %s reply: %w: %s", channel, jsonErr, snippet(respBody))
	}

	var reply *message
	var events []message
	for i := range msgs {
		m := msgs[i]
		switch {
		case m.Channel == channel && reply == nil:
			reply = &msgs[i]
		case m.Channel == s.client.cfg.Channel && len(m.Data) > 0:
			events = append(events, m)
		default:
			s.client.log.Debug("cometd: ignoring message", "message_channel", m.Channel)
		}
	}
	if reply == nil {
		if resp.StatusCode == http.StatusUnauthorized {
			return message{Channel: channel, Error: "401::Authentication invalid (HTTP 401)"}, events, nil
		}
		return message{}, events, fmt.Errorf("sending %s: HTTP %d response contains no %s reply", channel, resp.StatusCode, channel)
	}
	return *reply, events, nil
}

// snippet returns the start of a response body for an error message.
func snippet(body []byte) string {
	const maxLen = 200
	if len(body) > maxLen {
		return string(body[:maxLen]) + "..."
	}
	return string(body)
}
