package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sap/ecc"
	"github.com/sfsap/sfsap/pkg/sap/soaprfc"
)

// start runs the command with args until the test ends and waits until
// its health endpoint returns 200.
func start(t *testing.T, args ...string) (baseURL string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"--addr", addr}, args...), io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run ended with %v", err)
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

func adapter(t *testing.T, baseURL, client, user, password string) *ecc.Adapter {
	t.Helper()
	caller, err := soaprfc.New(baseURL, soaprfc.WithClient(client), soaprfc.WithBasicAuth(user, password))
	if err != nil {
		t.Fatalf("soaprfc.New(%s): %v", baseURL, err)
	}
	a, err := ecc.New(caller, ecc.Config{})
	if err != nil {
		t.Fatalf("ecc.New: %v", err)
	}
	return a
}

func customer(accountID string) sap.Customer {
	return sap.Customer{
		Names: []string{"Harbour Freight Ltd"}, Street: "Quay Road", HouseNo: "14", PostalCode: "62701",
		City: "Springfield", Country: "US", Region: "IL", Language: "en",
		SalesOrg: "1000", DistributionChannel: "10", Division: "00", ReferenceCustomer: "99999",
		ExternalRef: accountID,
	}
}

func TestSapsimCreatesAndFindsCustomer(t *testing.T) {
	t.Parallel()
	baseURL := start(t, "--user", "RFC_DEMO", "--password", "pw-1", "--client", "200")
	a := adapter(t, baseURL, "200", "RFC_DEMO", "pw-1")
	ctx := context.Background()
	const accountID = "001Hx00000Acme1IAB"

	if no, found, err := a.FindByExternalRef(ctx, accountID); err != nil || found {
		t.Fatalf("FindByExternalRef(%s) before create = %q, %v, %v; want not found", accountID, no, found, err)
	}
	res, err := a.Create(ctx, customer(accountID))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	no, found, err := a.FindByExternalRef(ctx, accountID)
	if err != nil || !found {
		t.Fatalf("FindByExternalRef(%s) after create = %q, %v, %v; want found", accountID, no, found, err)
	}
	if sap.NormalizeCustomerNo(no) != sap.NormalizeCustomerNo(res.CustomerNo) {
		t.Errorf("FindByExternalRef(%s) = %q, want the created %q", accountID, no, res.CustomerNo)
	}
}

func TestSapsimRejectsWrongLogon(t *testing.T) {
	t.Parallel()
	baseURL := start(t, "--user", "RFC_DEMO", "--password", "pw-1")
	tests := []struct {
		name, client, user, password string
	}{
		{"wrong password", "100", "RFC_DEMO", "pw-2"},
		{"wrong user", "100", "SOMEONE", "pw-1"},
		{"wrong client", "300", "RFC_DEMO", "pw-1"},
	}
	for _, tt := range tests {
		a := adapter(t, baseURL, tt.client, tt.user, tt.password)
		_, _, err := a.FindByExternalRef(context.Background(), "001Hx00000Acme1IAB")
		if err == nil {
			t.Errorf("%s: FindByExternalRef = nil error, want a logon failure", tt.name)
		}
	}
}

func TestSapsimBadAddress(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"--addr", "127.0.0.1:-1"}, io.Discard)
	if err == nil {
		t.Fatalf("run with an invalid address = nil error, want a listen error")
	}
}
