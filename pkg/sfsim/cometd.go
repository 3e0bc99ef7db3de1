package sfsim

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CometDOptions configure the CometD endpoint of NewCometD. The zero value
// is usable.
type CometDOptions struct {
	// Authorize checks the access token of each request and returns an
	// error to reject it. A rejected handshake gets 403::Handshake denied,
	// any other rejected message 401::Authentication invalid (or
	// 401::Request requires authentication without an Authorization
	// header). Nil accepts every request.
	Authorize func(*http.Request) error
	// ConnectTimeout is how long /meta/connect is held while no event is
	// pending. The server advertises it as advice.timeout. Defaults to
	// 110 s, as Salesforce does.
	ConnectTimeout time.Duration
	// ClientExpiry is how long the server keeps a client after its
	// handshake or a /meta/connect reply. A client that sends nothing
	// within that time is dropped and gets 403::Unknown client.
	// Defaults to 40 s, the window Salesforce gives after delivering
	// events.
	ClientExpiry time.Duration
	// Faults injects failures into coming requests. Nil injects none.
	Faults *CometDFaults
}

// CometDFaults injects CometD failures, each into one coming request. The
// zero value is ready to use and safe for concurrent use.
type CometDFaults struct {
	mu      sync.Mutex
	pending [cometdFaultKinds]int
	// wake is closed when a fault is added, so held connects notice it.
	wake chan struct{}
}

type cometdFault int

const (
	cometdUnknownClient cometdFault = iota
	cometdHandshakeDenied
	cometdConnectUnauthorized
	cometdFaultKinds
)

// InjectUnknownClient makes the next /meta/connect, or one held now, fail
// with 403::Unknown client and advice reconnect=handshake. The server
// drops that client and its subscriptions, as Salesforce does after a
// client timed out.
func (f *CometDFaults) InjectUnknownClient() {
	f.add(cometdUnknownClient)
}

// InjectHandshakeDenied makes the next /meta/handshake fail with
// 403::Handshake denied and failureReason 401::Authentication invalid, as
// for a revoked token.
func (f *CometDFaults) InjectHandshakeDenied() {
	f.add(cometdHandshakeDenied)
}

// InjectConnectUnauthorized makes the next /meta/connect fail with HTTP
// 401, 401::Authentication invalid and advice reconnect=none, as for an
// expired token.
func (f *CometDFaults) InjectConnectUnauthorized() {
	f.add(cometdConnectUnauthorized)
}

func (f *CometDFaults) add(kind cometdFault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending[kind]++
	if f.wake != nil {
		close(f.wake)
		f.wake = nil
	}
}

// take consumes one pending fault of the kind and reports whether there
// was one. A nil receiver has no faults.
func (f *CometDFaults) take(kind cometdFault) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pending[kind] == 0 {
		return false
	}
	f.pending[kind]--
	return true
}

// wakeChan returns a channel that is closed when the next fault is added.
func (f *CometDFaults) wakeChan() <-chan struct{} {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.wake == nil {
		f.wake = make(chan struct{})
	}
	return f.wake
}

// Wire constants of the Salesforce Streaming API.
const (
	cometdBrowserCookie   = "BAYEUX_BROWSER"
	cometdMaxRequestBytes = 32768
	cometdMinAPIVersion   = 37
	cometdLongPolling     = "long-polling"
	// cometdMaxBatch caps the events in one /meta/connect reply.
	cometdMaxBatch = 100
)

// cometdChannels are the channels that deliver the store's Account change
// events: the object's own channel and the one for all selected objects.
var cometdChannels = []string{"/data/AccountChangeEvent", "/data/ChangeEvents"}

// NewCometD returns the Streaming API (CometD, Bayeux long-polling) handler
// for Change Data Capture of the store's Accounts. Mount it at "/cometd/":
// it serves POST /cometd/{version}, such as /cometd/60.0, with
// /meta/handshake, /meta/subscribe (replay extension: -1 new events only,
// -2 all retained events, N events after N), /meta/connect,
// /meta/unsubscribe and /meta/disconnect.
//
// After a successful handshake every request must carry the BAYEUX_BROWSER
// cookie the handshake set; otherwise it gets HTTP 400.
func NewCometD(store *Store, opts CometDOptions) http.Handler {
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 110 * time.Second
	}
	if opts.ClientExpiry <= 0 {
		opts.ClientExpiry = 40 * time.Second
	}
	return &cometdServer{store: store, opts: opts, clients: map[string]*cometdClient{}}
}

type cometdServer struct {
	store *Store
	opts  CometDOptions

	mu      sync.Mutex
	clients map[string]*cometdClient
}

// cometdClient is the server's state of one handshaken client.
type cometdClient struct {
	id      string
	browser string
	// subscriptions maps each subscribed channel to the replay id of the
	// last event delivered on it.
	subscriptions map[string]int64
	expires       time.Time
	// holding counts the client's /meta/connect requests in progress; a
	// client is never expired while one is held.
	holding int
	// gone is closed when the server drops the client.
	gone chan struct{}
}

// bayeuxRequest is one message of a request body.
type bayeuxRequest struct {
	Channel                  string                     `json:"channel"`
	ID                       json.RawMessage            `json:"id,omitempty"`
	ClientID                 string                     `json:"clientId,omitempty"`
	Subscription             string                     `json:"subscription,omitempty"`
	ConnectionType           string                     `json:"connectionType,omitempty"`
	SupportedConnectionTypes []string                   `json:"supportedConnectionTypes,omitempty"`
	Ext                      map[string]json.RawMessage `json:"ext,omitempty"`
}

// bayeuxReply is the server's reply to one meta message.
type bayeuxReply struct {
	Channel                  string          `json:"channel"`
	ID                       json.RawMessage `json:"id,omitempty"`
	ClientID                 string          `json:"clientId,omitempty"`
	Subscription             string          `json:"subscription,omitempty"`
	Version                  string          `json:"version,omitempty"`
	MinimumVersion           string          `json:"minimumVersion,omitempty"`
	SupportedConnectionTypes []string        `json:"supportedConnectionTypes,omitempty"`
	Ext                      map[string]any  `json:"ext,omitempty"`
	Advice                   *bayeuxAdvice   `json:"advice,omitempty"`
	Successful               bool            `json:"successful"`
	Error                    string          `json:"error,omitempty"`
}

type bayeuxAdvice struct {
	Reconnect string `json:"reconnect"`
	Interval  int64  `json:"interval"`
	Timeout   int64  `json:"timeout,omitempty"`
}

// cometdExchange is one HTTP request in progress. Replies collect the
// response messages; status becomes the HTTP status of the first message
// that fails at the HTTP level.
type cometdExchange struct {
	w       http.ResponseWriter
	r       *http.Request
	authErr error
	status  int
	replies []any
}

func (x *cometdExchange) fail(status int) {
	if x.status == http.StatusOK {
		x.status = status
	}
}

func (s *cometdServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "CometD requests must use POST", http.StatusMethodNotAllowed)
		return
	}
	if msg := checkCometDVersion(r.URL.Path); msg != "" {
		writeBayeux(w, http.StatusBadRequest, []any{bayeuxReply{Error: "400::" + msg}})
		return
	}
	msgs, err := readBayeuxRequest(w, r)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "Maximum Request Size Exceeded", http.StatusRequestEntityTooLarge)
			return
		}
		writeBayeux(w, http.StatusBadRequest, []any{bayeuxReply{Error: "400::Invalid request body: " + err.Error()}})
		return
	}

	x := &cometdExchange{w: w, r: r, status: http.StatusOK}
	if s.opts.Authorize != nil {
		x.authErr = s.opts.Authorize(r)
	}
	for _, m := range msgs {
		s.handleMessage(x, m)
	}
	if r.Context().Err() != nil {
		return
	}
	writeBayeux(w, x.status, x.replies)
}

// checkCometDVersion returns the Salesforce error text for a path without
// a supported API version, or "" when the version is fine.
func checkCometDVersion(path string) string {
	_, rest, _ := strings.Cut(path, "/cometd/")
	rest = strings.TrimSuffix(rest, "/")
	major, minor, ok := strings.Cut(rest, ".")
	n, err := strconv.Atoi(major)
	if !ok || err != nil || minor != "0" {
		return "API version in the URI is mandatory. URI format: '/cometd/NN.0'"
	}
	if n < cometdMinAPIVersion {
		return "Unsupported API version. Only API versions '37.0' and later are supported."
	}
	return ""
}

// readBayeuxRequest decodes a body holding one message or an array of
// them.
func readBayeuxRequest(w http.ResponseWriter, r *http.Request) ([]bayeuxRequest, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, cometdMaxRequestBytes))
	if err != nil {
		return nil, err
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '{' {
		var m bayeuxRequest
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, err
		}
		return []bayeuxRequest{m}, nil
	}
	var msgs []bayeuxRequest
	if err := json.Unmarshal(body, &msgs); err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return nil, errors.New("no messages")
	}
	return msgs, nil
}

func writeBayeux(w http.ResponseWriter, status int, msgs []any) {
	body, err := json.Marshal(msgs)
	if err != nil {
		http.Error(w, "encoding CometD response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *cometdServer) handleMessage(x *cometdExchange, m bayeuxRequest) {
	reply := bayeuxReply{Channel: m.Channel, ID: m.ID, ClientID: m.ClientID}
	if m.Channel == "/meta/handshake" {
		x.replies = append(x.replies, s.handshake(x, m, reply))
		return
	}

	if x.authErr != nil {
		// NOTE: Salesforce documents the 401 error texts but not the HTTP
		// status that comes with them. The simulator sends HTTP 401, so
		// that a client notices whether it checks the status or the body.
		reply.Error = "401::Authentication invalid"
		if x.r.Header.Get("Authorization") == "" {
			reply.Error = "401::Request requires authentication"
		}
		reply.Advice = &bayeuxAdvice{Reconnect: "none"}
		x.fail(http.StatusUnauthorized)
		x.replies = append(x.replies, reply)
		return
	}
	c, errText := s.lookupClient(m.ClientID)
	if c == nil {
		reply.Error = errText
		reply.Advice = &bayeuxAdvice{Reconnect: "handshake"}
		x.replies = append(x.replies, reply)
		return
	}
	if cookie, err := x.r.Cookie(cometdBrowserCookie); err != nil || cookie.Value != c.browser {
		reply.Error = fmt.Sprintf("400::Client %s has established a session, but no %s cookie present", c.id, cometdBrowserCookie)
		x.fail(http.StatusBadRequest)
		x.replies = append(x.replies, reply)
		return
	}

	switch m.Channel {
	case "/meta/connect":
		s.connect(x, m, c, reply)
	case "/meta/subscribe":
		x.replies = append(x.replies, s.subscribe(m, c, reply))
	case "/meta/unsubscribe":
		s.mu.Lock()
		delete(c.subscriptions, m.Subscription)
		s.mu.Unlock()
		reply.Subscription = m.Subscription
		reply.Successful = true
		x.replies = append(x.replies, reply)
	case "/meta/disconnect":
		s.mu.Lock()
		s.forgetLocked(c)
		s.mu.Unlock()
		reply.Successful = true
		x.replies = append(x.replies, reply)
	default:
		reply.Error = fmt.Sprintf("403::Publishing to %s is not allowed", m.Channel)
		x.replies = append(x.replies, reply)
	}
}

func (s *cometdServer) handshake(x *cometdExchange, m bayeuxRequest, reply bayeuxReply) bayeuxReply {
	reply.Ext = map[string]any{"replay": true, "payload.format": true}
	if x.authErr != nil || s.opts.Faults.take(cometdHandshakeDenied) {
		reason := "401::Authentication invalid"
		if x.authErr != nil && x.r.Header.Get("Authorization") == "" {
			reason = "401::Request requires authentication"
		}
		reply.Ext["sfdc"] = map[string]any{"failureReason": reason}
		reply.Error = "403::Handshake denied"
		reply.Advice = &bayeuxAdvice{Reconnect: "none"}
		return reply
	}
	if !slices.Contains(m.SupportedConnectionTypes, cometdLongPolling) {
		reply.Error = fmt.Sprintf("400::Invalid connection type {%s}", strings.Join(m.SupportedConnectionTypes, ","))
		return reply
	}

	c := &cometdClient{
		id:            strings.ToLower(rand.Text()),
		browser:       strings.ToLower(rand.Text()),
		subscriptions: map[string]int64{},
		gone:          make(chan struct{}),
	}
	now := time.Now()
	s.mu.Lock()
	for _, old := range s.clients {
		if old.expiredLocked(now) {
			s.forgetLocked(old)
		}
	}
	c.expires = now.Add(s.opts.ClientExpiry)
	s.clients[c.id] = c
	s.mu.Unlock()

	http.SetCookie(x.w, &http.Cookie{Name: cometdBrowserCookie, Value: c.browser, Path: "/", HttpOnly: true})
	reply.ClientID = c.id
	reply.Version = "1.0"
	reply.MinimumVersion = "1.0"
	reply.SupportedConnectionTypes = []string{cometdLongPolling}
	reply.Successful = true
	return reply
}

// lookupClient returns the live client with the id, or nil and the error
// text for the reply.
func (s *cometdServer) lookupClient(id string) (*cometdClient, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return nil, "403::Unknown client"
	}
	if c.expiredLocked(time.Now()) {
		s.forgetLocked(c)
		return nil, "403::Unknown client"
	}
	return c, ""
}

func (c *cometdClient) expiredLocked(now time.Time) bool {
	return c.holding == 0 && now.After(c.expires)
}

func (s *cometdServer) forgetLocked(c *cometdClient) {
	if s.clients[c.id] == c {
		delete(s.clients, c.id)
		close(c.gone)
	}
}

func (s *cometdServer) subscribe(m bayeuxRequest, c *cometdClient, reply bayeuxReply) bayeuxReply {
	channel := m.Subscription
	reply.Subscription = channel
	switch {
	case channel == "":
		reply.Error = "400::Channel name not specified"
		return reply
	case !strings.HasPrefix(channel, "/"):
		reply.Error = "400::Channel subscriptions must start with a leading '/'"
		return reply
	case !slices.Contains(cometdChannels, channel):
		reply.Error = fmt.Sprintf("400::The channel you requested to subscribe to doesn't exist {%s}", channel)
		return reply
	}

	replayFrom, err := subscribeReplayID(m.Ext, channel)
	if err != nil {
		reply.Error = "400::" + err.Error()
		return reply
	}
	position, ok := s.replayPosition(replayFrom)
	if !ok {
		reply.Error = fmt.Sprintf("400::The replayId {%d} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.", replayFrom)
		return reply
	}

	s.mu.Lock()
	c.subscriptions[channel] = position
	s.mu.Unlock()
	reply.Successful = true
	return reply
}

// subscribeReplayID returns the replay id that the replay extension of a
// subscribe message gives for channel, or -1 (new events only) when it
// gives none.
func subscribeReplayID(ext map[string]json.RawMessage, channel string) (int64, error) {
	raw, ok := ext["replay"]
	if !ok {
		return -1, nil
	}
	var byChannel map[string]json.Number
	if err := json.Unmarshal(raw, &byChannel); err != nil {
		return 0, fmt.Errorf("invalid replay extension %s: want an object of channel to replayId", raw)
	}
	value, ok := byChannel[channel]
	if !ok {
		return -1, nil
	}
	id, err := value.Int64()
	if err != nil {
		return 0, fmt.Errorf("invalid replayId %s for %s: want an integer", value, channel)
	}
	return id, nil
}

// replayPosition returns the replay id after which a subscription with
// replayFrom starts, and false when replayFrom names no retained event.
func (s *cometdServer) replayPosition(replayFrom int64) (int64, bool) {
	switch {
	case replayFrom == -1:
		return s.store.LatestReplayID(), true
	case replayFrom == -2:
		if earliest := s.store.EarliestReplayID(); earliest > 0 {
			return earliest - 1, true
		}
		return s.store.LatestReplayID(), true
	case replayFrom < 0:
		return 0, false
	}
	next := s.store.EventsAfter(replayFrom-1, 1)
	if len(next) == 0 || next[0].ReplayID != replayFrom {
		return 0, false
	}
	return replayFrom, true
}
