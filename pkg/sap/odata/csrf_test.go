package odata_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sap/odata"
	"github.com/sfsap/sfsap/pkg/sapsim"
)

// TestCSRFTokenRenewedOnce covers a POST that SAP rejects with 403 and
// "x-csrf-token: Required": the adapter fetches one new token, sends the
// POST again, and both creates in a row succeed with one customer each.
func TestCSRFTokenRenewedOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts sapsim.Options
		// between runs after the first create.
		between      func(*sapsim.Server)
		wantSessions int
	}{
		{"session expired", sapsim.Options{}, func(s *sapsim.Server) { s.ExpireODataSessions() }, 1},
		// The used session stays open beside the new one.
		{"token valid for one POST", sapsim.Options{OData: sapsim.ODataOptions{SingleUseTokens: true}}, func(*sapsim.Server) {}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.opts, odata.Config{})
			ctx := context.Background()

			first, err := b.adapter.Create(ctx, acme())
			if err != nil {
				t.Fatalf("first Create() error = %v", err)
			}
			tt.between(b.sim)

			second := acme()
			second.ExternalRef = "001Dn00000Abc13IAB"
			res, err := b.adapter.Create(ctx, second)
			if err != nil {
				t.Fatalf("second Create() error = %v, want success after one token renewal", err)
			}
			if res.CustomerNo == first.CustomerNo {
				t.Errorf("second Create() CustomerNo = %q, the same as the first", res.CustomerNo)
			}

			// One POST per create plus the rejected one.
			if n := b.sim.Calls(sapsim.ODataCreate); n != 3 {
				t.Errorf("Calls(%s) = %d, want 3", sapsim.ODataCreate, n)
			}
			if n := len(b.sim.Customers()); n != 2 {
				t.Errorf("len(Customers()) = %d, want 2", n)
			}
			for _, ref := range []string{acme().ExternalRef, second.ExternalRef} {
				if n := b.sim.CountByExternalRef(strings.ToUpper(ref)); n != 1 {
					t.Errorf("CountByExternalRef(%s) = %d, want 1", ref, n)
				}
			}
			if n := b.sim.ODataSessions(); n != tt.wantSessions {
				t.Errorf("ODataSessions() = %d, want %d", n, tt.wantSessions)
			}
		})
	}
}

// TestCSRFRejectedTwice puts a proxy that drops the cookies of every POST
// between adapter and simulator. SAP then rejects every token, so the
// adapter gives up after one renewal with a transient error, and nothing
// is created.
func TestCSRFRejectedTwice(t *testing.T) {
	t.Parallel()
	sim := startSim(t, sapsim.Options{})
	target, err := url.Parse(sim.URL())
	if err != nil {
		t.Fatalf("url.Parse() error = %v", err)
	}
	// A proxy that drops the session cookie from every POST.
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host
		if r.Out.Method == http.MethodPost {
			r.Out.Header.Del("Cookie")
		}
	}}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)

	a := newAdapter(t, srv.URL, odata.Config{})
	_, err = a.Create(context.Background(), acme())
	e := sapError(t, err)
	if e.Kind != sap.Transient || e.HTTPStatus != http.StatusForbidden {
		t.Errorf("Create() error = %v, want transient 403", err)
	}
	if !errors.Is(err, odata.ErrCSRFRejected) {
		t.Errorf("Create() error = %v, want it to wrap ErrCSRFRejected", err)
	}
	if n := sim.Calls(sapsim.ODataCreate); n != 2 {
		t.Errorf("Calls(%s) = %d, want 2 (the POST and its one repetition)", sapsim.ODataCreate, n)
	}
	if n := sim.ODataSessions(); n != 2 {
		t.Errorf("ODataSessions() = %d, want 2 token fetches", n)
	}
	if n := len(sim.Customers()); n != 0 {
		t.Errorf("len(Customers()) = %d, want 0", n)
	}
}

// TestCSRFConcurrentCreatesShareFetch runs creates in parallel against a
// fresh adapter. They share one token, so the simulator records one fetch.
func TestCSRFConcurrentCreatesShareFetch(t *testing.T) {
	t.Parallel()
	b := setup(t, sapsim.Options{}, odata.Config{})
	ids := []string{"001Dn00000Abc12IAB", "001Dn00000Abc13IAB", "001Dn00000Abc14IAB", "001Dn00000Abc15IAB"}

	var wg sync.WaitGroup
	errs := make([]error, len(ids))
	for i, id := range ids {
		wg.Go(func() {
			c := acme()
			c.ExternalRef = id
			_, errs[i] = b.adapter.Create(context.Background(), c)
		})
	}
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Errorf("Create(%s) error = %v", ids[i], err)
		}
	}
	if n := b.sim.ODataSessions(); n != 1 {
		t.Errorf("ODataSessions() = %d, want 1 shared token fetch", n)
	}
	if n := len(b.sim.Customers()); n != len(ids) {
		t.Errorf("len(Customers()) = %d, want %d", n, len(ids))
	}
}
