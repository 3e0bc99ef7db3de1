package odata

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sapsim"
)

// recordingTransport keeps the body of the last response to each method,
// such as POST for a create.
type recordingTransport struct {
	mu     sync.Mutex
	bodies map[string][]byte
}

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	rt.mu.Lock()
	rt.bodies[req.Method] = data
	rt.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return resp, nil
}

// benchCustomer is a German customer as the mapping produces it.
func benchCustomer() sap.Customer {
	return sap.Customer{
		Names:  []string{"Brennerei Alpenglück GmbH & Co. KG"},
		Street: "Talstraße", HouseNo: "7", PostalCode: "82467", City: "Garmisch-Partenkirchen",
		Country: "DE", Region: "09", Language: "de", Phone: "+49 8821 73055", Currency: "EUR",
		CompanyCode: "1000", SalesOrg: "1000", DistributionChannel: "10", Division: "00",
		ExternalRef: "001Hx0000000042IAA",
	}
}

// benchAdapter returns an adapter for an SAP simulator on loopback whose
// responses it records.
func benchAdapter(b *testing.B) (*Adapter, *recordingTransport) {
	b.Helper()
	sim := sapsim.New(sapsim.Options{User: "SFSAP_ODATA", Password: "bench"})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		b.Fatalf("starting SAP simulator: %v", err)
	}
	b.Cleanup(func() { _ = sim.Close() })
	rt := &recordingTransport{bodies: map[string][]byte{}}
	a, err := New(sim.URL(), Config{}, WithClient("100"), WithBasicAuth("SFSAP_ODATA", "bench"), WithHTTPClient(&http.Client{Transport: rt}))
	if err != nil {
		b.Fatalf("New() error = %v", err)
	}
	return a, rt
}

func BenchmarkRender(b *testing.B) {
	a, _ := benchAdapter(b)
	c := benchCustomer()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Render(c); err != nil {
			b.Fatalf("Render() error = %v", err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	a, rt := benchAdapter(b)
	ctx := context.Background()
	if _, err := a.Create(ctx, benchCustomer()); err != nil {
		b.Fatalf("Create() error = %v", err)
	}
	created := rt.bodies[http.MethodPost]
	if _, found, err := a.FindByExternalRef(ctx, benchCustomer().ExternalRef); err != nil || !found {
		b.Fatalf("FindByExternalRef() = found %v, error %v; want the created customer", found, err)
	}
	query := rt.bodies[http.MethodGet]
	bad := benchCustomer()
	bad.Country = "XX"
	bad.ExternalRef = "001Hx0000000043IAA"
	if _, err := a.Create(ctx, bad); err == nil {
		b.Fatal("Create() with country XX succeeded, want an error response to decode")
	}
	rejected := rt.bodies[http.MethodPost]

	b.Run("created entity", func(b *testing.B) {
		b.SetBytes(int64(len(created)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeEntity(created); err != nil {
				b.Fatalf("decodeEntity() error = %v", err)
			}
		}
	})
	b.Run("query results", func(b *testing.B) {
		b.SetBytes(int64(len(query)))
		b.ReportAllocs()
		for b.Loop() {
			if results, err := decodeResults(query); err != nil || len(results) != 1 {
				b.Fatalf("decodeResults() = %d results, error %v; want 1", len(results), err)
			}
		}
	})
	b.Run("error", func(b *testing.B) {
		b.SetBytes(int64(len(rejected)))
		b.ReportAllocs()
		for b.Loop() {
			if msgs, err := ParseError(rejected); err != nil || len(msgs) == 0 {
				b.Fatalf("ParseError() = %v, error %v; want messages", msgs, err)
			}
		}
	})
}
