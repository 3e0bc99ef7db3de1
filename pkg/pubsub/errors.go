package pubsub

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Values of the error-code trailer that the client acts on.
const (
	// ErrorCodeAuth means that Salesforce rejected the credentials.
	ErrorCodeAuth = "sfdc.platform.eventbus.grpc.service.auth.error"
	// ErrorCodeReplayCorrupted means that the replay id is malformed,
	// unknown or outside the retention window.
	ErrorCodeReplayCorrupted = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
)

// Error is a call that Salesforce failed with a gRPC status.
type Error struct {
	// Op is the RPC, such as Subscribe or GetSchema.
	Op   string
	Code codes.Code
	// ErrorCode is the error-code trailer, such as ErrorCodeAuth, or ""
	// when the server sent none.
	ErrorCode string
	// RPCID is the rpc-id trailer that identifies the call to Salesforce
	// support, or "".
	RPCID   string
	Message string
}

func (e *Error) Error() string {
	if e.ErrorCode == "" {
		return fmt.Sprintf("%s failed: %s: %s", e.Op, e.Code, e.Message)
	}
	return fmt.Sprintf("%s failed: %s (%s): %s", e.Op, e.Code, e.ErrorCode, e.Message)
}

// authFailed reports whether Salesforce rejected the credentials, so the
// client must authenticate again.
func (e *Error) authFailed() bool {
	return e.Code == codes.Unauthenticated || strings.Contains(e.ErrorCode, ".auth.")
}

// ReplayInvalidError reports that Salesforce rejected the replay id a
// subscription started from, because it is malformed or the event left
// the retention window (72 hours for change events). Subscribe returns it
// instead of retrying. The caller should alert, subscribe again from
// ReplayLatest or ReplayEarliest and reconcile the records changed in
// between.
type ReplayInvalidError struct {
	Topic string
	// ReplayID is the rejected replay id, as sent.
	ReplayID []byte
	Err      *Error
}

func (e *ReplayInvalidError) Error() string {
	return fmt.Sprintf("subscribing to %s from replay id %x: Salesforce rejected the replay id (%v); subscribe from the latest or earliest event and reconcile the gap", e.Topic, e.ReplayID, e.Err)
}

func (e *ReplayInvalidError) Unwrap() error { return e.Err }

// newError converts a gRPC call error and its trailer to an *Error.
func newError(op string, err error, trailer metadata.MD) *Error {
	st, _ := status.FromError(err)
	e := &Error{Op: op, Code: st.Code(), Message: st.Message()}
	if errors.Is(err, context.DeadlineExceeded) {
		e.Code = codes.DeadlineExceeded
	}
	if v := trailer.Get("error-code"); len(v) > 0 {
		e.ErrorCode = v[0]
	}
	if v := trailer.Get("rpc-id"); len(v) > 0 {
		e.RPCID = v[0]
	}
	return e
}
