package sfclient_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/pkg/sfsim"
)

// Credentials of the simulated org in these tests.
const (
	clientID      = "sfsap-test-client"
	clientSecret  = "client-secret-value"
	username      = "integration@example.com"
	password      = "password-value"
	securityToken = "TOKENvalue"
)

func startSim(t *testing.T, opts sfsim.Options) *sfsim.Server {
	t.Helper()
	opts.ClientID, opts.ClientSecret = clientID, clientSecret
	opts.Username, opts.Password, opts.SecurityToken = username, password, securityToken
	sim := sfsim.New(opts)
	if err := sim.Start(""); err != nil {
		t.Fatalf("starting simulator: %v", err)
	}
	t.Cleanup(sim.Close)
	return sim
}

func clientCredentialsConfig(sim *sfsim.Server) sfclient.Config {
	return sfclient.Config{
		LoginURL:     sim.URL(),
		ClientID:     clientID,
		ClientSecret: clientSecret,
		Logger:       slog.New(slog.DiscardHandler),
	}
}

func passwordConfig(sim *sfsim.Server) sfclient.Config {
	return sfclient.Config{
		LoginURL:      sim.URL(),
		Username:      username,
		Password:      password,
		SecurityToken: securityToken,
		Logger:        slog.New(slog.DiscardHandler),
	}
}

func newClient(t *testing.T, cfg sfclient.Config) *sfclient.Client {
	t.Helper()
	c, err := sfclient.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func seed(t *testing.T, sim *sfsim.Server, fields map[string]any) string {
	t.Helper()
	id, err := sim.Store().Create(fields, sfsim.WriteOptions{})
	if err != nil {
		t.Fatalf("Store.Create: %v", err)
	}
	return id
}

func TestSessionRenewedAfterExpiry(t *testing.T) {
	t.Parallel()
	flows := []struct {
		name      string
		config    func(*sfsim.Server) sfclient.Config
		loginKind string
	}{
		{"client credentials", clientCredentialsConfig, sfsim.CallToken},
		{"password", passwordConfig, sfsim.CallSOAPLogin},
	}
	for _, flow := range flows {
		t.Run(flow.name, func(t *testing.T) {
			t.Parallel()
			sim := startSim(t, sfsim.Options{})
			id := seed(t, sim, map[string]any{"Name": "Acme"})
			c := newClient(t, flow.config(sim))
			ctx := context.Background()

			if err := c.UpdateAccount(ctx, id, map[string]any{"Phone": "1"}); err != nil {
				t.Fatalf("UpdateAccount before expiry: %v", err)
			}
			sim.ExpireTokens()
			if err := c.UpdateAccount(ctx, id, map[string]any{"Phone": "2"}); err != nil {
				t.Fatalf("UpdateAccount after expiry: %v", err)
			}
			if rec, _ := sim.Store().Get(id); rec["Phone"] != "2" {
				t.Fatalf("Phone = %v, want 2", rec["Phone"])
			}
			calls := sim.Calls()
			if calls[flow.loginKind] != 2 {
				t.Fatalf("logins = %d, want 2 (initial and one renewal); calls %v", calls[flow.loginKind], calls)
			}
			if calls[sfsim.CallUpdateAccount] != 3 {
				t.Fatalf("PATCH calls = %d, want 3 (one repeated after renewal)", calls[sfsim.CallUpdateAccount])
			}
		})
	}
}

func TestSessionRenewedOnlyOnce(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{})
	id := seed(t, sim, map[string]any{"Name": "Acme"})
	c := newClient(t, clientCredentialsConfig(sim))
	sim.Faults().Add(sfsim.Fault{PathPrefix: "sobjects/Account", Status: http.StatusUnauthorized, ErrorCode: "INVALID_SESSION_ID", Message: "Session expired or invalid"})

	err := c.UpdateAccount(context.Background(), id, map[string]any{"Phone": "1"})
	if !sfclient.IsSessionError(err) {
		t.Fatalf("UpdateAccount with a persistent session error = %v, want a session error", err)
	}
	if got := sim.Calls()[sfsim.CallToken]; got != 2 {
		t.Fatalf("token requests = %d, want 2: one login and one renewal", got)
	}
	if got := sim.Calls()[sfsim.CallUpdateAccount]; got != 2 {
		t.Fatalf("PATCH calls = %d, want 2", got)
	}
}

func TestSessionRenewalFailure(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{})
	id := seed(t, sim, map[string]any{"Name": "Acme"})
	c := newClient(t, clientCredentialsConfig(sim))
	sim.ExpireTokens()
	sim.Faults().Add(sfsim.Fault{PathPrefix: "/services/oauth2/token", Status: http.StatusBadRequest, ErrorCode: "invalid_client", Message: "app blocked"})

	err := c.UpdateAccount(context.Background(), id, map[string]any{"Phone": "1"})
	var apiErr *sfclient.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != "invalid_client" {
		t.Fatalf("UpdateAccount with a failing renewal = %v, want an invalid_client APIError", err)
	}
	if sfclient.Permanent(err) {
		t.Fatalf("Permanent(%v) = true, want false: a login failure is not the record's fault", err)
	}
}

func TestConcurrentCallsRenewOnce(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{})
	id := seed(t, sim, map[string]any{"Name": "Acme"})
	c := newClient(t, clientCredentialsConfig(sim))
	sim.ExpireTokens()

	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = c.GetAccount(context.Background(), id)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("GetAccount %d: %v", i, err)
		}
	}
	if got := sim.Calls()[sfsim.CallToken]; got != 2 {
		t.Fatalf("token requests = %d, want 2: one login and one shared renewal", got)
	}
}

func TestTimeoutIsTransient(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{})
	id := seed(t, sim, map[string]any{"Name": "Acme"})
	cfg := clientCredentialsConfig(sim)
	cfg.Timeout = 200 * time.Millisecond
	c := newClient(t, cfg)
	sim.Faults().Add(sfsim.Fault{Method: http.MethodPatch, Times: 1, Delay: time.Minute})

	err := c.UpdateAccount(context.Background(), id, map[string]any{"Phone": "1"})
	if err == nil {
		t.Fatalf("UpdateAccount with a one-minute delay = nil, want a timeout")
	}
	var apiErr *sfclient.APIError
	if errors.As(err, &apiErr) {
		t.Fatalf("UpdateAccount timeout = %v, want a transport error, not an APIError", err)
	}
	if sfclient.Permanent(err) {
		t.Fatalf("Permanent(%v) = true, want false", err)
	}
}

func TestContextCancelStopsCall(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{})
	id := seed(t, sim, map[string]any{"Name": "Acme"})
	c := newClient(t, clientCredentialsConfig(sim))
	sim.Faults().Add(sfsim.Fault{Method: http.MethodGet, Times: 1, Delay: time.Minute})

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := c.GetAccount(ctx, id)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("GetAccount with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestAPIUsage(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{DailyAPILimit: 5000})
	c := newClient(t, clientCredentialsConfig(sim))
	if used, limit := c.APIUsage(); used != 0 || limit != 0 {
		t.Fatalf("APIUsage before any call = %d/%d, want 0/0", used, limit)
	}
	for range 3 {
		if _, err := c.QueryAccounts(context.Background(), "SELECT Id FROM Account"); err != nil {
			t.Fatalf("QueryAccounts: %v", err)
		}
	}
	if used, limit := c.APIUsage(); used != 3 || limit != 5000 {
		t.Fatalf("APIUsage = %d/%d, want 3/5000", used, limit)
	}
}

func TestLimitExceeded(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{DailyAPILimit: 1})
	c := newClient(t, clientCredentialsConfig(sim))
	if _, err := c.QueryAccounts(context.Background(), "SELECT Id FROM Account"); err != nil {
		t.Fatalf("first QueryAccounts: %v", err)
	}
	_, err := c.QueryAccounts(context.Background(), "SELECT Id FROM Account")
	if !sfclient.IsLimitError(err) {
		t.Fatalf("QueryAccounts over the limit = %v, want a limit error", err)
	}
	if sfclient.Permanent(err) {
		t.Fatalf("Permanent(%v) = true, want false", err)
	}
}

func TestEmptyErrorArrayDoesNotPanic(t *testing.T) {
	t.Parallel()
	sim := sfsim.New(sfsim.Options{ClientID: clientID, ClientSecret: clientSecret})
	// A gateway in front of Salesforce may respond with an empty error
	// array, and simpleforce's own parser panics on it.
	sim.Handle("PATCH /services/data/v60.0/sobjects/Account/001Hx00000EmptyIAB", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "[]")
	}))
	if err := sim.Start(""); err != nil {
		t.Fatalf("starting simulator: %v", err)
	}
	t.Cleanup(sim.Close)
	c := newClient(t, clientCredentialsConfig(sim))

	err := c.UpdateAccount(context.Background(), "001Hx00000EmptyIAB", map[string]any{"Phone": "1"})
	var apiErr *sfclient.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("UpdateAccount = %v, want an APIError", err)
	}
	if apiErr.Status != http.StatusBadRequest || apiErr.ErrorCode != "" {
		t.Fatalf("APIError = %+v, want status 400 and no code", apiErr)
	}
}

func TestSessionRenewedBetweenPages(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{QueryBatchSize: 2})
	for range 5 {
		seed(t, sim, map[string]any{"Name": "Acme"})
	}
	c := newClient(t, clientCredentialsConfig(sim))
	// The session expires after the first page: the request for the
	// second page is the first to see it.
	sim.Faults().Add(sfsim.Fault{Method: http.MethodGet, PathPrefix: "query/", Times: 1, Status: http.StatusUnauthorized, ErrorCode: "INVALID_SESSION_ID", Message: "Session expired or invalid"})

	got, err := c.QueryAccounts(context.Background(), "SELECT Id FROM Account")
	if err != nil {
		t.Fatalf("QueryAccounts: %v", err)
	}
	if len(got) != 5 {
		t.Fatalf("QueryAccounts returned %d records, want 5", len(got))
	}
	if n := sim.Calls()[sfsim.CallToken]; n != 2 {
		t.Fatalf("token requests = %d, want 2", n)
	}
	if n := sim.Calls()[sfsim.CallQueryMore]; n != 3 {
		t.Fatalf("next-page requests = %d, want 3 (one repeated after renewal)", n)
	}
}

func TestAccessTokenAfterRejection(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{})
	c := newClient(t, clientCredentialsConfig(sim))
	ctx := context.Background()

	first, err := c.AccessToken(ctx)
	if err != nil {
		t.Fatalf("AccessToken: %v", err)
	}
	if again, err := c.AccessToken(ctx); err != nil || again != first {
		t.Fatalf("second AccessToken = %v, want the same token without a login", err)
	}
	sim.ExpireTokens()
	c.TokenRejected(first)
	second, err := c.AccessToken(ctx)
	if err != nil {
		t.Fatalf("AccessToken after TokenRejected: %v", err)
	}
	if second == first {
		t.Fatalf("AccessToken after TokenRejected returned the rejected token")
	}
	if _, err := sim.CheckAccessToken(second); err != nil {
		t.Fatalf("new token is not valid in the simulator: %v", err)
	}
	c.TokenRejected(first)
	if third, err := c.AccessToken(ctx); err != nil || third != second {
		t.Fatalf("AccessToken after a stale rejection = %v, want the current token without a login", err)
	}
	if n := sim.Calls()[sfsim.CallToken]; n != 2 {
		t.Fatalf("token requests = %d, want 2", n)
	}
}
