package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/cometd"
	"github.com/sfsap/sfsap/pkg/sfclient"
)

// lockedBuffer collects log output written from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// start runs the command with args until the test ends and waits until
// its health endpoint returns 200.
func start(t *testing.T, args ...string) (baseURL string) {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	logs := &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"--addr", addr}, args...), logs) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run ended with %v", err)
		}
		if t.Failed() {
			t.Logf("sfsim log:\n%s", logs.String())
		}
	})
	baseURL = "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(baseURL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return baseURL
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s/healthz never answered 200 (last error %v)", baseURL, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func writeAccounts(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "accounts.json")
	data := `[
  {"Name": "Prospect One", "Type": "Prospect", "BillingCountry": "DE"},
  {"Name": "Untyped Two", "BillingCountry": "FR"},
  {"Name": "Partner Three", "Type": "Technology Partner", "BillingCountry": "US"}
]`
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func login(t *testing.T, baseURL, clientID, secret string) *sfclient.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sf, err := sfclient.New(ctx, sfclient.Config{
		LoginURL:     baseURL,
		Flow:         sfclient.FlowClientCredentials,
		ClientID:     clientID,
		ClientSecret: secret,
	})
	if err != nil {
		t.Fatalf("logging in to the simulator at %s: %v", baseURL, err)
	}
	return sf
}

func TestSfsimLoadsAndConvertsAccounts(t *testing.T) {
	t.Parallel()
	baseURL := start(t, "--client-id", "demo-app", "--client-secret", "demo-secret",
		"--accounts", writeAccounts(t), "--convert-after", "100ms")
	sf := login(t, baseURL, "demo-app", "demo-secret")

	// The two prospects (Type "Prospect" and no Type) become customers;
	// the partner keeps its Type.
	deadline := time.Now().Add(20 * time.Second)
	for {
		recs, err := sf.QueryAccounts(context.Background(), "SELECT Id, Name, Type FROM Account")
		if err != nil {
			t.Fatalf("QueryAccounts: %v", err)
		}
		if len(recs) != 3 {
			t.Fatalf("QueryAccounts returned %d accounts, want 3", len(recs))
		}
		types := map[string]string{}
		for _, r := range recs {
			name, _ := r["Name"].(string)
			typ, _ := r["Type"].(string)
			types[name] = typ
		}
		converted := slices.Contains(account.DefaultCustomerTypes, types["Prospect One"]) &&
			slices.Contains(account.DefaultCustomerTypes, types["Untyped Two"])
		if converted {
			if got := types["Partner Three"]; got != "Technology Partner" {
				t.Errorf("Type of Partner Three = %q, want Technology Partner unchanged", got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("prospects were not converted: types %v", types)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSfsimRejectsWrongSecret(t *testing.T) {
	t.Parallel()
	baseURL := start(t, "--client-id", "demo-app", "--client-secret", "demo-secret")
	_, err := sfclient.New(context.Background(), sfclient.Config{
		LoginURL: baseURL, Flow: sfclient.FlowClientCredentials, ClientID: "demo-app", ClientSecret: "wrong",
	})
	if err == nil {
		t.Fatalf("sfclient.New with a wrong client secret = nil error, want a login failure")
	}
}

func TestSfsimServesChangeEventsOverCometD(t *testing.T) {
	t.Parallel()
	baseURL := start(t, "--accounts", writeAccounts(t))
	sf := login(t, baseURL, "sfsim-client", "sfsim-secret")

	client, err := cometd.New(cometd.Config{
		BaseURL:     sf.InstanceURL(),
		TokenSource: sf.AccessToken,
	})
	if err != nil {
		t.Fatalf("cometd.New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var events []cometd.Event
	err = client.Subscribe(ctx, -2, func(_ context.Context, ev cometd.Event) error {
		events = append(events, ev)
		if len(events) == 3 {
			cancel()
		}
		return nil
	})
	if len(events) != 3 {
		t.Fatalf("Subscribe from the earliest event delivered %d events (error %v), want 3 create events", len(events), err)
	}
}

func TestSfsimHealthz(t *testing.T) {
	t.Parallel()
	baseURL := start(t)
	resp, err := http.Get(baseURL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "ok\n" {
		t.Fatalf("GET /healthz = %d %q, want 200 \"ok\\n\"", resp.StatusCode, body)
	}
}

func TestSfsimBadAccountsFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(path, []byte(`{"Name": "not an array"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"--addr", "127.0.0.1:0", "--accounts", path}, io.Discard)
	if err == nil {
		t.Fatalf("run with an accounts file that is not an array = nil error, want a decoding error")
	}
}
