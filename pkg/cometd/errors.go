package cometd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ReplayInvalidError reports that Salesforce rejected the replay id of a
// subscription, because the event expired from the retention window (72
// hours for change events) or never existed. Subscribe returns it instead
// of retrying. The caller should alert, resubscribe from -1 or -2 and
// reconcile the records changed in between.
type ReplayInvalidError struct {
	Channel  string
	ReplayID int64
	// Message is the error text Salesforce sent.
	Message string
}

func (e *ReplayInvalidError) Error() string {
	return fmt.Sprintf("subscribing to %s from replay id %d: Salesforce rejected the replay id (%s); resubscribe from -1 or -2 and reconcile the gap", e.Channel, e.ReplayID, e.Message)
}

// Error is a failed Bayeux reply, such as "403::Unknown client" or
// "400::The channel you requested to subscribe to doesn't exist".
// Subscribe returns it for a subscription that Salesforce rejects for a
// reason that retrying cannot fix.
type Error struct {
	// Channel is the meta channel of the reply, such as /meta/subscribe.
	Channel string
	// Code is the number before "::", such as 403, or 0 when the error
	// text has none.
	Code int
	// Message is the text after "::".
	Message string
}

func (e *Error) Error() string {
	if e.Code == 0 {
		return fmt.Sprintf("%s failed: %s", e.Channel, e.Message)
	}
	return fmt.Sprintf("%s failed: %d::%s", e.Channel, e.Code, e.Message)
}

// parseError splits a Bayeux error text of the form "<code>::<message>".
func parseError(channel, text string) *Error {
	codeText, message, ok := strings.Cut(text, "::")
	if !ok {
		return &Error{Channel: channel, Message: text}
	}
	code, err := strconv.Atoi(codeText)
	if err != nil {
		return &Error{Channel: channel, Message: text}
	}
	return &Error{Channel: channel, Code: code, Message: message}
}

// ErrReplayUnsupported reports a handshake reply without ext.replay true:
// the server would ignore replay ids, so events missed during a reconnect
// would be lost without notice.
var ErrReplayUnsupported = errors.New("cometd: server does not support the replay extension; use API version 37.0 or later")
