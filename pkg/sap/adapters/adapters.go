// Package adapters builds the SAP adapter that the configuration selects:
// SAP ECC over SOAP-RFC (package ecc), S/4HANA over OData (package odata)
// or a REST gateway service (package restgw). Every adapter it returns
// can also render the create request it would send, which the dry run
// prints.
package adapters

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sap/ecc"
	"github.com/sfsap/sfsap/pkg/sap/odata"
	"github.com/sfsap/sfsap/pkg/sap/restgw"
	"github.com/sfsap/sfsap/pkg/sap/soaprfc"
)

// Renderer renders a create request without sending it.
type Renderer interface {
	// Render returns the body of the request that creates c: a SOAP
	// envelope for ECC and JSON for S/4HANA and the REST gateway.
	Render(c sap.Customer) ([]byte, error)
}

// Adapter is an SAP adapter that can also render its create request.
type Adapter interface {
	sap.Adapter
	Renderer
}

var (
	_ Adapter = ECC{}
	_ Adapter = (*odata.Adapter)(nil)
	_ Adapter = (*restgw.Adapter)(nil)
)

// New returns the adapter that c.Adapter names, connected with c's URL,
// client, language, credentials and timeout. It reaches SAP only when a
// method sends a request. log receives the adapter's log lines, and nil
// means slog.Default().
func New(c config.SAP, log *slog.Logger) (Adapter, error) {
	if log == nil {
		log = slog.Default()
	}
	if c.URL == "" {
		return nil, errors.New("sap.url is empty: set it (or SFSAP_SAP_URL) to the SAP system's HTTP address, such as https://sap-host:44300")
	}
	switch c.Adapter {
	case config.AdapterECC, "":
		return newECC(c, log)
	case config.AdapterS4:
		return newS4(c, log)
	case config.AdapterREST:
		return newREST(c, log)
	}
	return nil, fmt.Errorf("sap.adapter %q is not supported: use %s, %s or %s", c.Adapter, config.AdapterECC, config.AdapterS4, config.AdapterREST)
}

// ECC is the ECC adapter with a Render method that encodes its first
// create call as a SOAP-RFC envelope.
type ECC struct {
	*ecc.Adapter
}

// Render returns the SOAP-RFC envelope of the first call that Create
// makes for c: the create wrapper, or BAPI_CUSTOMER_CREATEFROMDATA1 in
// session mode.
func (e ECC) Render(c sap.Customer) ([]byte, error) {
	fm, params, err := e.CreateRequest(c)
	if err != nil {
		return nil, err
	}
	return soaprfc.EncodeRequest(fm, params)
}

func newECC(c config.SAP, log *slog.Logger) (Adapter, error) {
	var opts []soaprfc.Option
	if c.Timeout > 0 {
		opts = append(opts, soaprfc.WithTimeout(c.Timeout))
	}
	if c.Language != "" {
		opts = append(opts, soaprfc.WithLanguage(c.Language))
	}
	if c.Client != "" {
		opts = append(opts, soaprfc.WithClient(c.Client))
	}
	if c.User != "" {
		opts = append(opts, soaprfc.WithBasicAuth(c.User, c.Password))
	}
	caller, err := soaprfc.New(c.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("sap: %w", err)
	}
	cfg := c.ECC
	cfg.Logger = log
	a, err := ecc.New(caller, cfg)
	if err != nil {
		return nil, fmt.Errorf("sap.ecc: %w", err)
	}
	return ECC{a}, nil
}

func newS4(c config.SAP, log *slog.Logger) (Adapter, error) {
	var opts []odata.Option
	if c.Timeout > 0 {
		opts = append(opts, odata.WithTimeout(c.Timeout))
	}
	if c.Language != "" {
		opts = append(opts, odata.WithLanguage(c.Language))
	}
	if c.Client != "" {
		opts = append(opts, odata.WithClient(c.Client))
	}
	if c.User != "" {
		opts = append(opts, odata.WithBasicAuth(c.User, c.Password))
	}
	cfg := c.S4
	cfg.Logger = log
	a, err := odata.New(c.URL, cfg, opts...)
	if err != nil {
		return nil, fmt.Errorf("sap.s4: %w", err)
	}
	return a, nil
}

// newREST builds the REST gateway adapter. A gateway has no SAP client or
// logon language, so c.Client and c.Language do not apply.
func newREST(c config.SAP, log *slog.Logger) (Adapter, error) {
	var opts []restgw.Option
	if c.Timeout > 0 {
		opts = append(opts, restgw.WithTimeout(c.Timeout))
	}
	if c.User != "" {
		opts = append(opts, restgw.WithBasicAuth(c.User, c.Password))
	}
	cfg := c.REST
	cfg.Logger = log
	a, err := restgw.New(c.URL, cfg, opts...)
	if err != nil {
		return nil, fmt.Errorf("sap.rest: %w", err)
	}
	if cfg.LookupURL == "" {
		log.Warn("sap: the REST adapter has no lookup_url, so a create whose outcome is unknown cannot be checked and may be repeated")
	}
	return a, nil
}
