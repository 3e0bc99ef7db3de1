package sfclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/pkg/sfsim"
)

func TestLoginFlows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		config    func(*sfsim.Server) sfclient.Config
		loginKind string
	}{
		{"client credentials", clientCredentialsConfig, sfsim.CallToken},
		{"password over SOAP", passwordConfig, sfsim.CallSOAPLogin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := startSim(t, sfsim.Options{})
			id := seed(t, sim, map[string]any{"Name": "Acme"})
			c := newClient(t, tt.config(sim))
			if c.InstanceURL() != sim.URL() {
				t.Fatalf("InstanceURL() = %q, want %q", c.InstanceURL(), sim.URL())
			}
			if got := sim.Calls()[tt.loginKind]; got != 1 {
				t.Fatalf("logins of kind %s = %d, want 1", tt.loginKind, got)
			}
			a, err := c.GetAccount(context.Background(), id)
			if err != nil {
				t.Fatalf("GetAccount: %v", err)
			}
			if a.Name != "Acme" {
				t.Fatalf("GetAccount(%s).Name = %q, want Acme", id, a.Name)
			}
		})
	}
}

func TestLoginErrors(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{})
	tests := []struct {
		name   string
		config sfclient.Config
		status int
		code   string
	}{
		{"wrong client secret", sfclient.Config{ClientID: clientID, ClientSecret: "wrong-secret"}, http.StatusBadRequest, "invalid_client"},
		{"unknown client id", sfclient.Config{ClientID: "unknown", ClientSecret: clientSecret}, http.StatusBadRequest, "invalid_client_id"},
		{"wrong password", sfclient.Config{Username: username, Password: "wrong-password", SecurityToken: securityToken}, http.StatusInternalServerError, "INVALID_LOGIN"},
		{"missing security token", sfclient.Config{Username: username, Password: password}, http.StatusInternalServerError, "INVALID_LOGIN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.config
			cfg.LoginURL = sim.URL()
			cfg.Logger = slog.New(slog.DiscardHandler)
			_, err := sfclient.New(context.Background(), cfg)
			var apiErr *sfclient.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("New = %v, want an APIError", err)
			}
			if apiErr.Status != tt.status || apiErr.ErrorCode != tt.code {
				t.Fatalf("APIError = %d %s, want %d %s", apiErr.Status, apiErr.ErrorCode, tt.status, tt.code)
			}
			for _, secret := range []string{"wrong-secret", "wrong-password", clientSecret, password, securityToken} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error %q contains the secret %q", err, secret)
				}
			}
			if sfclient.Permanent(err) {
				t.Fatalf("Permanent(%v) = true, want false", err)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		config sfclient.Config
		want   string
	}{
		{"no login URL", sfclient.Config{ClientID: "a", ClientSecret: "b"}, "login URL is empty"},
		{"relative login URL", sfclient.Config{LoginURL: "login.salesforce.com", ClientID: "a", ClientSecret: "b"}, "invalid login URL"},
		{"no credentials", sfclient.Config{LoginURL: "http://127.0.0.1:1"}, "needs a client ID and a client secret"},
		{"password without password", sfclient.Config{LoginURL: "http://127.0.0.1:1", Username: "u"}, "needs a username and a password"},
		{"unknown flow", sfclient.Config{LoginURL: "http://127.0.0.1:1", Flow: "saml"}, `unknown flow "saml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := sfclient.New(context.Background(), tt.config)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New(%s) = %v, want an error containing %q", tt.name, err, tt.want)
			}
		})
	}
}

func TestConfigHidesSecrets(t *testing.T) {
	t.Parallel()
	cfg := sfclient.Config{
		LoginURL:      "https://login.example.com",
		ClientID:      "consumer-key",
		ClientSecret:  "s3cr3t-client",
		Username:      "user@example.com",
		Password:      "s3cr3t-password",
		SecurityToken: "s3cr3t-token",
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "config", cfg)
	outputs := map[string]string{
		"%v":     fmt.Sprintf("%v", cfg),
		"%+v":    fmt.Sprintf("%+v", cfg),
		"%#v":    fmt.Sprintf("%#v", cfg),
		"String": cfg.String(),
		"slog":   logged.String(),
	}
	for format, out := range outputs {
		if strings.Contains(out, "s3cr3t") {
			t.Fatalf("%s output %q contains a secret", format, out)
		}
		if !strings.Contains(out, "user@example.com") || !strings.Contains(out, "[redacted]") {
			t.Fatalf("%s output %q, want the username and [redacted] in place of secrets", format, out)
		}
	}
}

func TestCallOptionsClientInChangeOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		client string
		want   string
	}{
		{"default", "", "com/salesforce/api/rest/60.0;client=sfsap"},
		{"configured", "sfsap-writeback", "com/salesforce/api/rest/60.0;client=sfsap-writeback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := startSim(t, sfsim.Options{})
			id := seed(t, sim, map[string]any{"Name": "Acme"})
			cfg := clientCredentialsConfig(sim)
			cfg.CallOptionsClient = tt.client
			c := newClient(t, cfg)
			if err := c.UpdateAccount(context.Background(), id, map[string]any{"SAP_ID__c": "0000104711"}); err != nil {
				t.Fatalf("UpdateAccount: %v", err)
			}
			events := sim.Store().EventsAfter(0, 0)
			header := events[len(events)-1].Header
			if header.ChangeOrigin != tt.want {
				t.Fatalf("changeOrigin = %q, want %q", header.ChangeOrigin, tt.want)
			}
			if header.CommitUser != sfsim.DefaultIntegrationUserID {
				t.Fatalf("commitUser = %q, want the integration user %q", header.CommitUser, sfsim.DefaultIntegrationUserID)
			}
		})
	}
}

func TestAPIVersionUsed(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sfsim.Options{APIVersions: []string{"58.0"}})
	id := seed(t, sim, map[string]any{"Name": "Acme"})

	cfg := clientCredentialsConfig(sim)
	c := newClient(t, cfg)
	if _, err := c.GetAccount(context.Background(), id); !sfclient.IsNotFound(err) {
		t.Fatalf("GetAccount with the default version 60.0 against a 58.0 org = %v, want NOT_FOUND", err)
	}

	cfg.APIVersion = "v58.0"
	c = newClient(t, cfg)
	if _, err := c.GetAccount(context.Background(), id); err != nil {
		t.Fatalf("GetAccount with version v58.0: %v", err)
	}
}
