package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCheckStatusAndArguments(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.WriteHeader(http.StatusOK)
		case "/readyz":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	tests := []struct {
		args   []string
		wantOK bool
	}{
		{[]string{srv.URL + "/healthz"}, true},
		{[]string{srv.URL + "/readyz"}, false},
		{[]string{srv.URL + "/missing"}, false},
		{[]string{"http://127.0.0.1:1/healthz"}, false},
		{[]string{"::not a url"}, false},
		{nil, false},
		{[]string{srv.URL + "/healthz", "extra"}, false},
	}
	for _, tt := range tests {
		err := check(tt.args)
		if (err == nil) != tt.wantOK {
			t.Errorf("check(%q) = %v, want ok %v", tt.args, err, tt.wantOK)
		}
	}
}
