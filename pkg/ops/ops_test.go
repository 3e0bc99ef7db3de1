package ops

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandlerEndpoints(t *testing.T) {
	t.Parallel()
	var ready error
	srv := httptest.NewServer(Handler(func(context.Context) error { return ready }))
	defer srv.Close()

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}

	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz = %d, want 200", code)
	}
	if code, _ := get("/readyz"); code != http.StatusOK {
		t.Errorf("GET /readyz when ready = %d, want 200", code)
	}
	ready = errors.New("not connected to NATS")
	code, body := get("/readyz")
	if code != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz when not ready = %d, want 503", code)
	}
	if !strings.Contains(body, "not connected to NATS") {
		t.Errorf("GET /readyz body = %q, want the reason", body)
	}
	if code, body := get("/metrics"); code != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Errorf("GET /metrics = %d with %d bytes, want 200 with Go runtime metrics", code, len(body))
	}
}

func TestListenBusyPort(t *testing.T) {
	t.Parallel()
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Listen(ln.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "--http") {
		t.Fatalf("Listen on a busy port: err = %v, want an error naming --http", err)
	}
}
