// Package cometd is a Bayeux (CometD long-polling) client for the
// Salesforce Streaming API, used to receive Change Data Capture events.
//
// Subscribe keeps one subscription alive: it handshakes, subscribes with a
// replay id, and long-polls /meta/connect. When Salesforce drops the
// client or rejects its token, it handshakes again and resubscribes from
// the replay id of the last event the handler accepted, so no event is
// skipped and accepted events are not delivered again.
package cometd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// Config configures a Client. BaseURL and TokenSource are required.
type Config struct {
	// BaseURL is the Salesforce instance URL, such as
	// https://example.my.salesforce.com. Requests go to
	// BaseURL/cometd/APIVersion.
	BaseURL string
	// APIVersion is the Streaming API version. Replay needs 37.0 or later.
	// Defaults to "60.0".
	APIVersion string
	// Channel is the channel to subscribe to. Defaults to
	// "/data/AccountChangeEvent".
	Channel string
	// TokenSource returns the OAuth access token sent with every request.
	// The client calls it before each handshake, which includes the one
	// after Salesforce rejected the previous token.
	TokenSource func(ctx context.Context) (string, error)
	// TokenRejected, if set, is called with a token that Salesforce
	// rejected (401::Authentication invalid), before the client calls
	// TokenSource again, so that a caching source can drop the token and
	// fetch a new one.
	TokenRejected func(token string)
	// HTTPClient sends the requests. The client needs a cookie jar, so a
	// client without one is copied and given a new jar. Its Timeout must
	// be zero or above 140 s (the 110 s connect hold plus 30 s), because a
	// shorter one would cut off held connects. Each request gets its own
	// deadline anyway. Defaults to a client with a jar and no overall
	// timeout.
	HTTPClient *http.Client
	// Logger receives retries and failures. Tokens are never logged.
	// Defaults to slog.Default().
	Logger *slog.Logger
	// RetryBaseDelay and RetryMaxDelay bound the exponential backoff
	// between handshake attempts and between calls of a failing handler.
	// Default to 1 s and 1 min.
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
	// RequestTimeout bounds every request except /meta/connect, whose
	// deadline is the server's advice.timeout plus 30 s. Defaults to 30 s.
	RequestTimeout time.Duration
	// Watchdog is how long Subscribe may go without a live subscription
	// before it logs an error, once per outage, such as when handshakes
	// keep failing after Salesforce dropped the client. Defaults to 5 min.
	Watchdog time.Duration
	// StallChanged, if set, is called with true when the watchdog reports
	// a stall and with false when a subscription succeeds again, for
	// example to set a metric.
	StallChanged func(stalled bool)
}

// Defaults of Config.
const (
	DefaultAPIVersion = "60.0"
	DefaultChannel    = "/data/AccountChangeEvent"
)

const (
	// defaultConnectHold is how long Salesforce holds /meta/connect
	// until the server's advice sets another timeout.
	defaultConnectHold = 110 * time.Second
	// connectMargin is added to the hold for the connect deadline, so a
	// slow reply is not cut off.
	connectMargin = 30 * time.Second
)

// Client receives events from one Salesforce channel. Its methods are
// safe for concurrent use, but each Subscribe call keeps its own Bayeux
// session.
type Client struct {
	cfg      Config
	endpoint string
	http     *http.Client
	log      *slog.Logger
	// sleep waits for d or until ctx ends. Tests replace it to record the
	// backoff delays without waiting.
	sleep func(ctx context.Context, d time.Duration) error
}

// Event is one message delivered on the subscribed channel.
type Event struct {
	Channel string
	// ReplayID is data.event.replayId, or 0 when the message has none.
	ReplayID int64
	// Data is the message's data member as received. For change events it
	// holds schema, payload and event; see cdc.DecodeCometD.
	Data json.RawMessage
}

// New returns a client for cfg. It returns an error when BaseURL or
// TokenSource is missing, BaseURL is not an absolute http(s) URL, or
// HTTPClient.Timeout would cut off held connects.
func New(cfg Config) (*Client, error) {
	if cfg.TokenSource == nil {
		return nil, errors.New("cometd: Config.TokenSource is missing; pass a function that returns the access token")
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("cometd: invalid Config.BaseURL %q: want the instance URL, such as https://example.my.salesforce.com", cfg.BaseURL)
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	}
	if cfg.Channel == "" {
		cfg.Channel = DefaultChannel
	}
	if cfg.RetryBaseDelay <= 0 {
		cfg.RetryBaseDelay = time.Second
	}
	if cfg.RetryMaxDelay <= 0 {
		cfg.RetryMaxDelay = time.Minute
	}
	cfg.RetryMaxDelay = max(cfg.RetryMaxDelay, cfg.RetryBaseDelay)
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.Watchdog <= 0 {
		cfg.Watchdog = 5 * time.Minute
	}

	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	if t := httpClient.Timeout; t > 0 && t <= defaultConnectHold+connectMargin {
		return nil, fmt.Errorf("cometd: Config.HTTPClient.Timeout %s would cut off /meta/connect, which Salesforce holds for up to %s; set it to 0 or above %s", t, defaultConnectHold, defaultConnectHold+connectMargin)
	}
	if httpClient.Jar == nil {
		jar, err := cookiejar.New(nil)
		if err != nil {
			return nil, fmt.Errorf("cometd: creating cookie jar: %w", err)
		}
		copied := *httpClient
		copied.Jar = jar
		httpClient = &copied
	}

	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return &Client{
		cfg:      cfg,
		endpoint: strings.TrimSuffix(cfg.BaseURL, "/") + "/cometd/" + cfg.APIVersion,
		http:     httpClient,
		log:      logger.With("channel", cfg.Channel),
		sleep:    sleepContext,
	}, nil
}

// Subscribe receives the events of the configured channel and calls
// handler for each, in order, until ctx ends. replayFrom is the replay id
// to start after, or -1 for new events only, or -2 for all retained
// events.
//
// The replay id advances only when handler returns nil. A handler error
// is logged and the same event is handed over again after a backoff, so
// events are never skipped. After a lost session (403::Unknown client), a
// rejected token or a network failure, Subscribe handshakes again with
// backoff and resubscribes from the last accepted replay id.
//
// Subscribe returns ctx.Err() when ctx ends. It returns a
// *ReplayInvalidError when Salesforce rejects the replay id, an *Error
// when Salesforce rejects the subscription for another reason (such as a
// channel that does not exist), and ErrReplayUnsupported when the server
// does not support replay.
func (c *Client) Subscribe(ctx context.Context, replayFrom int64, handler func(ctx context.Context, ev Event) error) error {
	if handler == nil {
		return errors.New("cometd: Subscribe needs a handler; pass a function that processes each event")
	}
	s := &subscription{
		client:   c,
		handler:  handler,
		replayID: replayFrom,
		hold:     defaultConnectHold,
		watchdog: newWatchdog(c.cfg.Watchdog, c.log, c.cfg.StallChanged),
	}
	defer s.disconnect(ctx)
	stopWatchdog := s.watchdog.start(ctx)
	defer stopWatchdog()

	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.failures > 0 {
			delay := c.backoff(s.failures - 1)
			c.log.Info("cometd: handshaking again after backoff", "retry_in", delay, "attempt", s.failures)
			if err := c.sleep(ctx, delay); err != nil {
				return err
			}
		}

		err := s.run(ctx)
		s.watchdog.lost()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if final, ok := errors.AsType[*finalError](err); ok {
			c.log.Error("cometd: subscription rejected; not retrying", "replay_id", s.replayID, "error", final.err)
			return final.err
		}
		s.failures++
		c.log.Warn("cometd: session ended; handshaking again", "replay_id", s.replayID, "attempt", s.failures, "error", err)
	}
}

// finalError marks an error that ends Subscribe rather than a session.
type finalError struct{ err error }

func (e *finalError) Error() string { return e.err.Error() }
func (e *finalError) Unwrap() error { return e.err }

// backoff returns the delay before retry number attempt (0 for the first
// retry): RetryBaseDelay doubled per attempt and capped at RetryMaxDelay,
// less a random jitter of up to half, so that many clients do not retry in
// step.
func (c *Client) backoff(attempt int) time.Duration {
	delay := c.cfg.RetryBaseDelay
	for range attempt {
		if delay > c.cfg.RetryMaxDelay/2 {
			delay = c.cfg.RetryMaxDelay
			break
		}
		delay *= 2
	}
	delay = min(delay, c.cfg.RetryMaxDelay)
	return delay - rand.N(delay/2+1)
}

func sleepContext(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
