package sfsim_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/sfsim"
)

const testToken = "sim-token"

// bayeuxTester sends raw Bayeux messages to a CometD handler over HTTP.
type bayeuxTester struct {
	t      *testing.T
	url    string
	http   *http.Client
	token  string
	store  *sfsim.Store
	faults *sfsim.CometDFaults
}

// startCometD serves a CometD handler over a new store on 127.0.0.1.
func startCometD(t *testing.T, opts sfsim.CometDOptions) *bayeuxTester {
	t.Helper()
	store := sfsim.NewStore()
	if opts.Faults == nil {
		opts.Faults = &sfsim.CometDFaults{}
	}
	if opts.Authorize == nil {
		opts.Authorize = func(r *http.Request) error {
			if r.Header.Get("Authorization") != "Bearer "+testToken {
				return errors.New("invalid token")
			}
			return nil
		}
	}
	if opts.ConnectTimeout == 0 {
		opts.ConnectTimeout = 200 * time.Millisecond
	}
	mux := http.NewServeMux()
	mux.Handle("/cometd/", sfsim.NewCometD(store, opts))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("creating cookie jar: %v", err)
	}
	return &bayeuxTester{
		t:      t,
		url:    srv.URL + "/cometd/60.0",
		http:   &http.Client{Jar: jar, Timeout: 30 * time.Second},
		token:  testToken,
		store:  store,
		faults: opts.Faults,
	}
}

// send posts msgs and returns the HTTP status and the reply messages.
func (b *bayeuxTester) send(msgs ...map[string]any) (int, []map[string]any) {
	b.t.Helper()
	return b.sendTo(b.url, msgs...)
}

func (b *bayeuxTester) sendTo(url string, msgs ...map[string]any) (int, []map[string]any) {
	b.t.Helper()
	body, err := json.Marshal(msgs)
	if err != nil {
		b.t.Fatalf("encoding request: %v", err)
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		b.t.Fatalf("building request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if b.token != "" {
		req.Header.Set("Authorization", "Bearer "+b.token)
	}
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	var replies []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&replies); err != nil {
		b.t.Fatalf("POST %s: decoding reply (HTTP %d): %v", url, resp.StatusCode, err)
	}
	return resp.StatusCode, replies
}

// handshake performs a successful handshake and returns the client id.
func (b *bayeuxTester) handshake() string {
	b.t.Helper()
	status, replies := b.send(map[string]any{
		"channel": "/meta/handshake", "version": "1.0", "id": "1",
		"supportedConnectionTypes": []string{"long-polling"}, "ext": map[string]any{"replay": true},
	})
	if status != http.StatusOK || len(replies) != 1 || replies[0]["successful"] != true {
		b.t.Fatalf("handshake = HTTP %d %v, want a successful reply", status, replies)
	}
	return replies[0]["clientId"].(string)
}

// subscribe subscribes to channel with a replay id and returns the reply.
func (b *bayeuxTester) subscribe(clientID, channel string, replayID int64) map[string]any {
	b.t.Helper()
	_, replies := b.send(map[string]any{
		"channel": "/meta/subscribe", "clientId": clientID, "subscription": channel, "id": "2",
		"ext": map[string]any{"replay": map[string]any{channel: replayID}},
	})
	if len(replies) != 1 {
		b.t.Fatalf("subscribe returned %d messages, want 1: %v", len(replies), replies)
	}
	return replies[0]
}

// connect sends /meta/connect and returns the event messages and the
// connect reply.
func (b *bayeuxTester) connect(clientID string) (int, []map[string]any, map[string]any) {
	b.t.Helper()
	status, replies := b.send(map[string]any{
		"channel": "/meta/connect", "clientId": clientID, "connectionType": "long-polling", "id": "3",
	})
	if len(replies) == 0 {
		b.t.Fatalf("connect returned no messages (HTTP %d)", status)
	}
	last := replies[len(replies)-1]
	if last["channel"] != "/meta/connect" {
		b.t.Fatalf("connect reply ends with %v, want the /meta/connect message", last)
	}
	return status, replies[:len(replies)-1], last
}

func TestCometDHandshake(t *testing.T) {
	t.Parallel()
	b := startCometD(t, sfsim.CometDOptions{})

	status, replies := b.send(map[string]any{
		"channel": "/meta/handshake", "version": "1.0", "id": "1",
		"supportedConnectionTypes": []string{"long-polling"}, "ext": map[string]any{"replay": true},
	})
	if status != http.StatusOK {
		t.Fatalf("handshake HTTP status = %d, want 200", status)
	}
	reply := replies[0]
	if reply["successful"] != true {
		t.Fatalf("handshake reply = %v, want successful", reply)
	}
	if id, _ := reply["clientId"].(string); id == "" {
		t.Errorf("handshake clientId = %v, want a non-empty id", reply["clientId"])
	}
	if reply["id"] != "1" {
		t.Errorf("handshake id = %v, want the request id 1", reply["id"])
	}
	wantExt := map[string]any{"replay": true, "payload.format": true}
	if diff := cmp.Diff(wantExt, reply["ext"]); diff != "" {
		t.Errorf("handshake ext mismatch (-want +got):\n%s", diff)
	}
	cookies := b.http.Jar.Cookies(mustURL(t, b.url))
	if len(cookies) != 1 || cookies[0].Name != "BAYEUX_BROWSER" || cookies[0].Value == "" {
		t.Errorf("cookies after handshake = %v, want one BAYEUX_BROWSER cookie", cookies)
	}
}

func TestCometDRequiresCookie(t *testing.T) {
	t.Parallel()
	b := startCometD(t, sfsim.CometDOptions{})
	clientID := b.handshake()

	// A client without a cookie jar sends no BAYEUX_BROWSER cookie.
	b.http = &http.Client{Timeout: 30 * time.Second}
	status, replies := b.send(map[string]any{
		"channel": "/meta/subscribe", "clientId": clientID, "subscription": "/data/AccountChangeEvent",
	})
	if status != http.StatusBadRequest {
		t.Errorf("subscribe without cookie: HTTP status = %d, want 400", status)
	}
	want := "400::Client " + clientID + " has established a session, but no BAYEUX_BROWSER cookie present"
	if replies[0]["error"] != want {
		t.Errorf("subscribe without cookie: error = %v, want %q", replies[0]["error"], want)
	}
}

func TestCometDUnknownClient(t *testing.T) {
	t.Parallel()
	b := startCometD(t, sfsim.CometDOptions{})
	b.handshake()

	_, _, reply := b.connect("no-such-client")
	if reply["error"] != "403::Unknown client" {
		t.Errorf("connect error = %v, want 403::Unknown client", reply["error"])
	}
	wantAdvice := map[string]any{"reconnect": "handshake", "interval": 0.0}
	if diff := cmp.Diff(wantAdvice, reply["advice"]); diff != "" {
		t.Errorf("connect advice mismatch (-want +got):\n%s", diff)
	}
}

func TestCometDSubscribeErrors(t *testing.T) {
	t.Parallel()
	b := startCometD(t, sfsim.CometDOptions{})
	id, err := b.store.Create(map[string]any{"Name": "Larchfield Tools Ltd"}, sfsim.WriteOptions{})
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	for _, typ := range []string{"Prospect", "Customer", "Other"} {
		if err := b.store.Update(id, map[string]any{"Type": typ}, sfsim.WriteOptions{}); err != nil {
			t.Fatalf("Update() error = %v", err)
		}
	}
	latest := b.store.LatestReplayID()
	// Replay ids are not contiguous, so some id between two events was
	// never issued.
	var between int64
	events := b.store.EventsAfter(0, 0)
	for i := 1; i < len(events) && between == 0; i++ {
		if events[i].ReplayID-events[i-1].ReplayID > 1 {
			between = events[i-1].ReplayID + 1
		}
	}
	if between == 0 {
		t.Fatalf("replay ids %v have no gap", events)
	}
	clientID := b.handshake()

	tests := []struct {
		name     string
		channel  string
		replayID int64
		want     string
	}{
		{"unknown channel", "/data/OpportunityChangeEvent", -1, "400::The channel you requested to subscribe to doesn't exist {/data/OpportunityChangeEvent}"},
		{"no leading slash", "data/AccountChangeEvent", -1, "400::Channel subscriptions must start with a leading '/'"},
		{"no channel", "", -1, "400::Channel name not specified"},
		{"replay id never issued", "/data/AccountChangeEvent", latest + 1000, "400::The replayId {" + itoa(latest+1000) + "} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events."},
		{"replay id between events", "/data/AccountChangeEvent", between, "400::The replayId {" + itoa(between) + "} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events."},
		{"negative replay id", "/data/AccountChangeEvent", -3, "400::The replayId {-3} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events."},
	}
	for _, tt := range tests {
		reply := b.subscribe(clientID, tt.channel, tt.replayID)
		if reply["successful"] != false {
			t.Errorf("%s: subscribe(%q, %d) successful = %v, want false", tt.name, tt.channel, tt.replayID, reply["successful"])
		}
		if reply["error"] != tt.want {
			t.Errorf("%s: subscribe(%q, %d) error = %v, want %q", tt.name, tt.channel, tt.replayID, reply["error"], tt.want)
		}
	}
}

func TestCometDPurgedReplayID(t *testing.T) {
	t.Parallel()
	b := startCometD(t, sfsim.CometDOptions{})
	id, err := b.store.Create(map[string]any{"Name": "Larchfield Tools Ltd"}, sfsim.WriteOptions{})
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	old := b.store.LatestReplayID()
	b.store.Purge(time.Now().Add(time.Hour))
	if err := b.store.Update(id, map[string]any{"Type": "Customer"}, sfsim.WriteOptions{}); err != nil {
		t.Fatalf("Update() error = %v", err)
	}
	clientID := b.handshake()

	reply := b.subscribe(clientID, "/data/AccountChangeEvent", old)
	if reply["successful"] != false {
		t.Fatalf("subscribe(purged %d) = %v, want a failure", old, reply)
	}
	if got, _ := reply["error"].(string); !strings.HasPrefix(got, "400::The replayId {"+itoa(old)+"} you provided was invalid.") {
		t.Errorf("subscribe(purged %d) error = %q, want the invalid replayId error", old, got)
	}
}

func TestCometDVersionErrors(t *testing.T) {
	t.Parallel()
	b := startCometD(t, sfsim.CometDOptions{})
	base := strings.TrimSuffix(b.url, "/60.0")
	tests := []struct {
		path string
		want string
	}{
		{"/", "400::API version in the URI is mandatory. URI format: '/cometd/NN.0'"},
		{"/latest", "400::API version in the URI is mandatory. URI format: '/cometd/NN.0'"},
		{"/36.0", "400::Unsupported API version. Only API versions '37.0' and later are supported."},
	}
	for _, tt := range tests {
		status, replies := b.sendTo(base+tt.path, map[string]any{"channel": "/meta/handshake"})
		if status != http.StatusBadRequest {
			t.Errorf("POST /cometd%s: HTTP status = %d, want 400", tt.path, status)
		}
		if len(replies) != 1 || replies[0]["error"] != tt.want {
			t.Errorf("POST /cometd%s: replies = %v, want error %q", tt.path, replies, tt.want)
		}
	}
}

func TestCometDAuthorization(t *testing.T) {
	t.Parallel()
	b := startCometD(t, sfsim.CometDOptions{})
	clientID := b.handshake()

	b.token = "revoked"
	status, _, reply := b.connect(clientID)
	if status != http.StatusUnauthorized {
		t.Errorf("connect with revoked token: HTTP status = %d, want 401", status)
	}
	if reply["error"] != "401::Authentication invalid" {
		t.Errorf("connect with revoked token: error = %v, want 401::Authentication invalid", reply["error"])
	}
	if advice, _ := reply["advice"].(map[string]any); advice["reconnect"] != "none" {
		t.Errorf("connect with revoked token: advice = %v, want reconnect none", reply["advice"])
	}

	b.token = ""
	_, _, reply = b.connect(clientID)
	if reply["error"] != "401::Request requires authentication" {
		t.Errorf("connect without token: error = %v, want 401::Request requires authentication", reply["error"])
	}

	b.token = "revoked"
	_, replies := b.send(map[string]any{
		"channel": "/meta/handshake", "supportedConnectionTypes": []string{"long-polling"},
	})
	if replies[0]["error"] != "403::Handshake denied" {
		t.Errorf("handshake with revoked token: error = %v, want 403::Handshake denied", replies[0]["error"])
	}
	ext, _ := replies[0]["ext"].(map[string]any)
	sfdc, _ := ext["sfdc"].(map[string]any)
	if sfdc["failureReason"] != "401::Authentication invalid" {
		t.Errorf("handshake with revoked token: ext = %v, want sfdc.failureReason 401::Authentication invalid", ext)
	}
}

func TestCometDConnectDeliversEvents(t *testing.T) {
	t.Parallel()
	b := startCometD(t, sfsim.CometDOptions{})
	clientID := b.handshake()
	if reply := b.subscribe(clientID, "/data/AccountChangeEvent", -1); reply["successful"] != true {
		t.Fatalf("subscribe(-1) = %v, want success", reply)
	}

	created := time.Date(2025, 3, 13, 8, 0, 0, 0, time.UTC)
	id, err := b.store.Create(map[string]any{
		"Name":          "Larchfield Tools Ltd",
		"Type":          "Prospect",
		"BillingCity":   "Eastbrook",
		"BillingStreet": "1 Mill Lane",
		"Phone":         nil,
		"SignedOn__c":   created,
	}, sfsim.WriteOptions{Origin: "com/salesforce/api/rest/60.0;client=test"})
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	if err := b.store.Update(id, map[string]any{"Type": "Customer", "BillingStreet": nil}, sfsim.WriteOptions{}); err != nil {
		t.Fatalf("Update() error = %v", err)
	}
	events := b.store.EventsAfter(0, 0)

	status, msgs, reply := b.connect(clientID)
	if status != http.StatusOK || reply["successful"] != true {
		t.Fatalf("connect = HTTP %d %v, want success", status, reply)
	}
	wantAdvice := map[string]any{"reconnect": "retry", "interval": 0.0, "timeout": 200.0}
	if diff := cmp.Diff(wantAdvice, reply["advice"]); diff != "" {
		t.Errorf("connect advice mismatch (-want +got):\n%s", diff)
	}
	if len(msgs) != 2 {
		t.Fatalf("connect delivered %d events, want 2 (CREATE, UPDATE): %v", len(msgs), msgs)
	}

	create := msgs[0]
	if create["channel"] != "/data/AccountChangeEvent" {
		t.Errorf("event channel = %v, want /data/AccountChangeEvent", create["channel"])
	}
	data := create["data"].(map[string]any)
	if got := data["event"].(map[string]any)["replayId"]; got != float64(events[0].ReplayID) {
		t.Errorf("CREATE replayId = %v, want %d", got, events[0].ReplayID)
	}
	if s, _ := data["schema"].(string); s == "" {
		t.Errorf("CREATE schema = %v, want a schema id", data["schema"])
	}
	payload := data["payload"].(map[string]any)
	header := payload["ChangeEventHeader"].(map[string]any)
	if header["changeType"] != "CREATE" || header["entityName"] != "Account" {
		t.Errorf("CREATE header = %v, want changeType CREATE of Account", header)
	}
	if diff := cmp.Diff([]any{id}, header["recordIds"]); diff != "" {
		t.Errorf("CREATE recordIds mismatch (-want +got):\n%s", diff)
	}
	if header["changeOrigin"] != "com/salesforce/api/rest/60.0;client=test" {
		t.Errorf("CREATE changeOrigin = %v, want the write's origin", header["changeOrigin"])
	}
	for _, key := range []string{"nulledFields", "diffFields"} {
		if _, ok := header[key]; ok {
			t.Errorf("CREATE header has %s, which CometD does not send", key)
		}
	}
	wantAddress := map[string]any{"City": "Eastbrook", "Street": "1 Mill Lane"}
	if diff := cmp.Diff(wantAddress, payload["BillingAddress"]); diff != "" {
		t.Errorf("CREATE BillingAddress mismatch (-want +got):\n%s", diff)
	}
	for _, flat := range []string{"BillingCity", "BillingStreet", "Phone"} {
		if _, ok := payload[flat]; ok {
			t.Errorf("CREATE payload has %s, want it nested or left out", flat)
		}
	}
	if payload["SignedOn__c"] != "2025-03-13T08:00:00.000Z" {
		t.Errorf("CREATE SignedOn__c = %v, want 2025-03-13T08:00:00.000Z", payload["SignedOn__c"])
	}
	if s, _ := payload["CreatedDate"].(string); !strings.HasSuffix(s, "Z") || len(s) != len("2006-01-02T15:04:05.000Z") {
		t.Errorf("CREATE CreatedDate = %v, want an ISO-8601 UTC string with milliseconds", payload["CreatedDate"])
	}

	update := msgs[1]["data"].(map[string]any)["payload"].(map[string]any)
	updateHeader := update["ChangeEventHeader"].(map[string]any)
	wantChanged := []any{"BillingAddress.Street", "LastModifiedDate", "Type"}
	if diff := cmp.Diff(wantChanged, updateHeader["changedFields"]); diff != "" {
		t.Errorf("UPDATE changedFields mismatch (-want +got):\n%s", diff)
	}
	if _, ok := update["BillingAddress"]; ok {
		t.Errorf("UPDATE payload has BillingAddress %v, want the nulled street left out", update["BillingAddress"])
	}
	if update["Type"] != "Customer" {
		t.Errorf("UPDATE Type = %v, want Customer", update["Type"])
	}
}

func TestCometDReplayPresets(t *testing.T) {
	t.Parallel()
	b := startCometD(t, sfsim.CometDOptions{})
	for _, name := range []string{"A", "B", "C"} {
		if _, err := b.store.Create(map[string]any{"Name": name}, sfsim.WriteOptions{}); err != nil {
			t.Fatalf("Create(%s) error = %v", name, err)
		}
	}
	all := b.store.EventsAfter(0, 0)

	tests := []struct {
		name     string
		replayID int64
		want     []int64
	}{
		{"all retained", -2, []int64{all[0].ReplayID, all[1].ReplayID, all[2].ReplayID}},
		{"after first", all[0].ReplayID, []int64{all[1].ReplayID, all[2].ReplayID}},
		{"after last", all[2].ReplayID, nil},
		{"new only", -1, nil},
	}
	for _, tt := range tests {
		clientID := b.handshake()
		if reply := b.subscribe(clientID, "/data/AccountChangeEvent", tt.replayID); reply["successful"] != true {
			t.Fatalf("%s: subscribe(%d) = %v, want success", tt.name, tt.replayID, reply)
		}
		_, msgs, _ := b.connect(clientID)
		var got []int64
		for _, m := range msgs {
			got = append(got, int64(m["data"].(map[string]any)["event"].(map[string]any)["replayId"].(float64)))
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: replay ids after subscribe(%d) mismatch (-want +got):\n%s", tt.name, tt.replayID, diff)
		}
	}
}

func TestCometDConnectHoldsUntilEvent(t *testing.T) {
	t.Parallel()
	b := startCometD(t, sfsim.CometDOptions{ConnectTimeout: time.Minute})
	clientID := b.handshake()
	b.subscribe(clientID, "/data/AccountChangeEvent", -1)

	type result struct {
		msgs  []map[string]any
		reply map[string]any
	}
	done := make(chan result, 1)
	go func() {
		_, msgs, reply := b.connect(clientID)
		done <- result{msgs, reply}
	}()
	// The connect may arrive before or after the write; either way the
	// event must come back in this connect.
	b.store.EmitGap("GAP_UPDATE", []string{"001Hx00000ABcDeIAL"})

	r := <-done
	if r.reply["successful"] != true {
		t.Fatalf("held connect reply = %v, want success", r.reply)
	}
	if len(r.msgs) != 1 {
		t.Fatalf("held connect delivered %d events, want 1", len(r.msgs))
	}
	payload := r.msgs[0]["data"].(map[string]any)["payload"].(map[string]any)
	if len(payload) != 1 {
		t.Errorf("gap event payload = %v, want the header only", payload)
	}
	header := payload["ChangeEventHeader"].(map[string]any)
	if header["changeType"] != "GAP_UPDATE" || header["changeOrigin"] != "" {
		t.Errorf("gap event header = %v, want GAP_UPDATE with empty changeOrigin", header)
	}
}

func TestCometDConnectTimesOutEmpty(t *testing.T) {
	t.Parallel()
	b := startCometD(t, sfsim.CometDOptions{ConnectTimeout: 50 * time.Millisecond})
	clientID := b.handshake()
	b.subscribe(clientID, "/data/AccountChangeEvent", -1)

	_, msgs, reply := b.connect(clientID)
	if reply["successful"] != true || len(msgs) != 0 {
		t.Errorf("connect without events = %v %v, want an empty successful reply", msgs, reply)
	}
}

func TestCometDClientExpiry(t *testing.T) {
	t.Parallel()
	b := startCometD(t, sfsim.CometDOptions{ClientExpiry: 20 * time.Millisecond})
	clientID := b.handshake()
	time.Sleep(100 * time.Millisecond)

	reply := b.subscribe(clientID, "/data/AccountChangeEvent", -1)
	if reply["error"] != "403::Unknown client" {
		t.Errorf("subscribe after expiry: error = %v, want 403::Unknown client", reply["error"])
	}
}

func TestCometDInjectedFaults(t *testing.T) {
	t.Parallel()
	b := startCometD(t, sfsim.CometDOptions{ConnectTimeout: time.Minute})
	clientID := b.handshake()
	b.subscribe(clientID, "/data/AccountChangeEvent", -1)

	// An unknown-client fault ends a connect that is already held.
	done := make(chan map[string]any, 1)
	go func() {
		_, _, reply := b.connect(clientID)
		done <- reply
	}()
	time.Sleep(50 * time.Millisecond)
	b.faults.InjectUnknownClient()
	reply := <-done
	if reply["error"] != "403::Unknown client" {
		t.Errorf("connect with unknown-client fault: error = %v, want 403::Unknown client", reply["error"])
	}
	if r := b.subscribe(clientID, "/data/AccountChangeEvent", -1); r["error"] != "403::Unknown client" {
		t.Errorf("subscribe after unknown-client fault: error = %v, want 403::Unknown client", r["error"])
	}

	b.faults.InjectHandshakeDenied()
	_, replies := b.send(map[string]any{"channel": "/meta/handshake", "supportedConnectionTypes": []string{"long-polling"}})
	if replies[0]["error"] != "403::Handshake denied" {
		t.Errorf("handshake with denied fault: error = %v, want 403::Handshake denied", replies[0]["error"])
	}

	clientID = b.handshake()
	b.faults.InjectConnectUnauthorized()
	status, _, reply := b.connect(clientID)
	if status != http.StatusUnauthorized || reply["error"] != "401::Authentication invalid" {
		t.Errorf("connect with unauthorized fault = HTTP %d %v, want HTTP 401 with 401::Authentication invalid", status, reply["error"])
	}
}

func TestCometDDisconnect(t *testing.T) {
	t.Parallel()
	b := startCometD(t, sfsim.CometDOptions{})
	clientID := b.handshake()

	_, replies := b.send(map[string]any{"channel": "/meta/disconnect", "clientId": clientID})
	if replies[0]["successful"] != true {
		t.Fatalf("disconnect = %v, want success", replies[0])
	}
	if _, _, reply := b.connect(clientID); reply["error"] != "403::Unknown client" {
		t.Errorf("connect after disconnect: error = %v, want 403::Unknown client", reply["error"])
	}
}

func TestCometDRequestTooLarge(t *testing.T) {
	t.Parallel()
	b := startCometD(t, sfsim.CometDOptions{})
	big := strings.Repeat("x", 40000)
	body, _ := json.Marshal([]map[string]any{{"channel": "/meta/handshake", "padding": big}})

	resp, err := b.http.Post(b.url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("POST of %d bytes: HTTP status = %d, want 413", len(body), resp.StatusCode)
	}
}

func itoa(n int64) string {
	return strconv.FormatInt(n, 10)
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parsing URL %q: %v", raw, err)
	}
	return u
}
