package soaprfc

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/sfsap/sfsap/pkg/sapsim"
)

// recordingTransport keeps the body and content type of the last response
// it passed on.
type recordingTransport struct {
	mu        sync.Mutex
	last      []byte
	lastCType string
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
	rt.last, rt.lastCType = data, resp.Header.Get("Content-Type")
	rt.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return resp, nil
}

// benchCreateParams are the parameters of a create through the Z wrapper
// for a German customer, as the ecc adapter sends them.
func benchCreateParams() map[string]any {
	return map[string]any{
		"PI_COMPANYDATA": map[string]any{
			"NAME": "Brennerei Alpenglück GmbH & Co. KG", "STREET": "Talstraße", "HOUSE_NO": "7",
			"POSTL_COD1": "82467", "CITY": "Garmisch-Partenkirchen", "COUNTRY": "DE", "COUNTRYISO": "DE",
			"REGION": "09", "TEL1_NUMBR": "+49 8821 73055", "LANGU_ISO": "DE", "CURRENCY": "EUR",
		},
		"PI_COPYREFERENCE": map[string]any{
			"SALESORG": "1000", "DISTR_CHAN": "10", "DIVISION": "00", "REF_CUSTMR": "0000099999",
		},
		"EXTERNAL_REF": "001HX0000000001IAA",
	}
}

// simResponses calls the SAP simulator once per function module that a
// create makes and returns each response body and its content type.
func simResponses(b *testing.B) map[string][2]string {
	b.Helper()
	sim := sapsim.New(sapsim.Options{User: "SFSAP_RFC", Password: "bench"})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		b.Fatalf("starting SAP simulator: %v", err)
	}
	b.Cleanup(func() { _ = sim.Close() })
	rt := &recordingTransport{}
	c, err := New(sim.URL(), WithClient("100"), WithBasicAuth("SFSAP_RFC", "bench"), WithHTTPClient(&http.Client{Transport: rt}))
	if err != nil {
		b.Fatalf("New() error = %v", err)
	}

	ctx := context.Background()
	out := map[string][2]string{}
	record := func(fm string, params map[string]any) map[string]any {
		res, err := c.Call(ctx, fm, params)
		if err != nil {
			b.Fatalf("calling %s: %v", fm, err)
		}
		rt.mu.Lock()
		out[fm] = [2]string{string(rt.last), rt.lastCType}
		rt.mu.Unlock()
		return res
	}
	created := record("Z_SFSAP_CUSTOMER_CREATE", benchCreateParams())
	no, _ := created["CUSTOMERNO"].(string)
	record("BAPI_CUSTOMER_FIND", map[string]any{
		"MAX_CNT": "100", "PL_HOLD": "",
		"SELOPT_TAB": []map[string]any{{"TABNAME": "KNA1", "FIELDNAME": "ZZSFID", "FIELDVALUE": "001HX0000000001IAA"}},
	})
	record("BAPI_CUSTOMER_GETDETAIL2", map[string]any{"CUSTOMERNO": no})
	return out
}

func BenchmarkEncodeRequest(b *testing.B) {
	params := benchCreateParams()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeRequest("Z_SFSAP_CUSTOMER_CREATE", params); err != nil {
			b.Fatalf("encodeRequest() error = %v", err)
		}
	}
}

func BenchmarkDecodeResponse(b *testing.B) {
	responses := simResponses(b)
	for _, fm := range []string{"BAPI_CUSTOMER_FIND", "Z_SFSAP_CUSTOMER_CREATE", "BAPI_CUSTOMER_GETDETAIL2"} {
		body, contentType := []byte(responses[fm][0]), responses[fm][1]
		b.Run(fm, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, fault, err := decodeResponse(fm, body, contentType); err != nil || fault != nil {
					b.Fatalf("decodeResponse(%s) error = %v, fault = %v", fm, err, fault)
				}
			}
		})
	}
}

// BenchmarkCallLoopback measures one whole call over HTTP to the SAP
// simulator on loopback, both sides in this process.
func BenchmarkCallLoopback(b *testing.B) {
	sim := sapsim.New(sapsim.Options{User: "SFSAP_RFC", Password: "bench"})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		b.Fatalf("starting SAP simulator: %v", err)
	}
	b.Cleanup(func() { _ = sim.Close() })
	c, err := New(sim.URL(), WithClient("100"), WithBasicAuth("SFSAP_RFC", "bench"))
	if err != nil {
		b.Fatalf("New() error = %v", err)
	}
	params := map[string]any{
		"MAX_CNT": "100", "PL_HOLD": "",
		"SELOPT_TAB": []map[string]any{{"TABNAME": "KNA1", "FIELDNAME": "ZZSFID", "FIELDVALUE": "001HX0000000001IAA"}},
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Call(ctx, "BAPI_CUSTOMER_FIND", params); err != nil {
			b.Fatalf("Call(BAPI_CUSTOMER_FIND) error = %v", err)
		}
	}
}
