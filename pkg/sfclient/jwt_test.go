package sfclient_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/pkg/sfsim"
)

// newKeyPair returns an RSA key in PKCS #8 PEM form and a self-signed
// certificate for it, as an admin uploads to a connected app.
func newKeyPair(t *testing.T) ([]byte, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generating RSA key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sfsap connected app"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("creating certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parsing certificate: %v", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("encoding key: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), cert
}

func jwtConfig(sim *sfsim.Server, key []byte) sfclient.Config {
	return sfclient.Config{
		LoginURL:   sim.URL(),
		Flow:       sfclient.FlowJWT,
		ClientID:   clientID,
		Username:   username,
		PrivateKey: key,
		Logger:     slog.New(slog.DiscardHandler),
	}
}

func TestJWTBearerLogin(t *testing.T) {
	t.Parallel()
	key, cert := newKeyPair(t)
	sim := startSim(t, sfsim.Options{JWTCertificate: cert})
	id := seed(t, sim, map[string]any{"Name": "Acme"})

	// The key comes from a file, as in a deployment.
	path := filepath.Join(t.TempDir(), "connected-app.key")
	if err := os.WriteFile(path, key, 0o600); err != nil {
		t.Fatalf("writing key file: %v", err)
	}
	cfg := jwtConfig(sim, nil)
	cfg.Flow = ""
	cfg.PrivateKeyFile = path
	c := newClient(t, cfg)
	if got := sim.Calls()[sfsim.CallToken]; got != 1 {
		t.Fatalf("token requests = %d, want 1", got)
	}
	if _, err := c.GetAccount(context.Background(), id); err != nil {
		t.Fatalf("GetAccount: %v", err)
	}

	// An expired session is renewed with a new assertion.
	sim.ExpireTokens()
	if _, err := c.GetAccount(context.Background(), id); err != nil {
		t.Fatalf("GetAccount after the session expired: %v", err)
	}
	if got := sim.Calls()[sfsim.CallToken]; got != 2 {
		t.Errorf("token requests = %d, want 2 after the renewal", got)
	}
}

func TestJWTAssertionClaims(t *testing.T) {
	t.Parallel()
	key, _ := newKeyPair(t)
	sim := sfsim.New(sfsim.Options{ClientID: clientID, Username: username})
	var mu sync.Mutex
	var claims jwt.RegisteredClaims
	var alg string
	sim.RegisterGrant(sfsim.GrantTypeJWT, func(r *http.Request) (sfsim.TokenGrant, *sfsim.OAuthError) {
		mu.Lock()
		defer mu.Unlock()
		tok, _, err := jwt.NewParser().ParseUnverified(r.PostForm.Get("assertion"), &claims)
		if err != nil {
			return sfsim.TokenGrant{}, &sfsim.OAuthError{Code: "invalid_grant", Description: err.Error()}
		}
		alg = tok.Method.Alg()
		return sfsim.TokenGrant{UserID: sfsim.DefaultIntegrationUserID}, nil
	})
	if err := sim.Start(""); err != nil {
		t.Fatalf("starting simulator: %v", err)
	}
	t.Cleanup(sim.Close)
	newClient(t, jwtConfig(sim, key))

	mu.Lock()
	defer mu.Unlock()
	if alg != "RS256" {
		t.Errorf("assertion alg = %q, want RS256", alg)
	}
	if claims.Issuer != clientID || claims.Subject != username {
		t.Errorf("assertion iss, sub = %q, %q, want %q, %q", claims.Issuer, claims.Subject, clientID, username)
	}
	if len(claims.Audience) != 1 || claims.Audience[0] != sim.URL() {
		t.Errorf("assertion aud = %v, want the login URL %s", claims.Audience, sim.URL())
	}
	if claims.ExpiresAt == nil || time.Until(claims.ExpiresAt.Time) > 3*time.Minute {
		t.Errorf("assertion exp = %v, want at most 3 minutes from now", claims.ExpiresAt)
	}
}

func TestJWTBearerRejected(t *testing.T) {
	t.Parallel()
	key, cert := newKeyPair(t)
	otherKey, _ := newKeyPair(t)
	sim := startSim(t, sfsim.Options{JWTCertificate: cert})
	tests := []struct {
		name   string
		mutate func(*sfclient.Config)
		code   string
		text   string
	}{
		{"key of another app", func(c *sfclient.Config) { c.PrivateKey = otherKey }, "invalid_grant", "invalid assertion"},
		{"unknown client id", func(c *sfclient.Config) { c.ClientID = "another-app" }, "invalid_client_id", "client identifier invalid"},
		{"wrong audience", func(c *sfclient.Config) { c.Audience = "https://login.example.com" }, "invalid_grant", "audience is invalid"},
		{"unknown user", func(c *sfclient.Config) { c.Username = "someone@example.com" }, "invalid_grant", "approved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := jwtConfig(sim, key)
			tt.mutate(&cfg)
			_, err := sfclient.New(context.Background(), cfg)
			var apiErr *sfclient.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("New = %v, want an APIError", err)
			}
			if apiErr.ErrorCode != tt.code || !strings.Contains(apiErr.Message, tt.text) {
				t.Fatalf("APIError = %s %q, want %s containing %q", apiErr.ErrorCode, apiErr.Message, tt.code, tt.text)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Fatalf("error %q contains the private key", err)
			}
		})
	}
}

func TestJWTConfigValidation(t *testing.T) {
	t.Parallel()
	key, _ := newKeyPair(t)
	tests := []struct {
		name string
		cfg  sfclient.Config
		want string
	}{
		{"no username", sfclient.Config{Flow: sfclient.FlowJWT, ClientID: "a", PrivateKey: key}, "needs the connected app's client ID"},
		{"no key", sfclient.Config{Flow: sfclient.FlowJWT, ClientID: "a", Username: "u"}, "needs a private key"},
		{"missing key file", sfclient.Config{ClientID: "a", Username: "u", PrivateKeyFile: "/nonexistent/key.pem"}, "reading the JWT private key"},
		{"not PEM", sfclient.Config{ClientID: "a", Username: "u", PrivateKey: []byte("secret")}, "no PEM block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.cfg.LoginURL = "http://127.0.0.1:1"
			_, err := sfclient.New(context.Background(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New(%s) = %v, want an error containing %q", tt.name, err, tt.want)
			}
		})
	}
	cfg := sfclient.Config{LoginURL: "https://login.example.com", ClientID: "a", Username: "u", PrivateKey: key}
	if s := cfg.String(); strings.Contains(s, "PRIVATE KEY") || !strings.Contains(s, "[redacted]") {
		t.Errorf("Config.String() = %q, want the key redacted", s)
	}
}
