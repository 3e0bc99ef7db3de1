// Package restgw creates and finds SAP customers through a REST service
// of the kind that SAP gateway products generate from a function module,
// such as a CreateSAPCustomer service. The request is a POST whose JSON
// body carries the import parameters, and the response's JSON body
// carries the export parameters.
//
// The request body comes from a Go template over sap.Customer, and the
// customer number and RETURN messages are read from configurable paths
// in the response, so the adapter fits services whose names and shapes
// differ. Looking customers up by external reference needs a second
// service (Config.LookupURL). Without it FindByExternalRef fails with
// ErrLookupNotConfigured, and a create whose outcome is unknown cannot
// be resolved, so duplicates cannot be excluded after a timeout.
package restgw

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/template"

	"github.com/sfsap/sfsap/pkg/logkey"
	"github.com/sfsap/sfsap/pkg/metrics"
	"github.com/sfsap/sfsap/pkg/sap"
)

// Operation names in the Op field of the adapter's errors.
const (
	OpCreate = "REST create"
	OpFind   = "REST lookup"
)

var _ sap.Adapter = (*Adapter)(nil)

// Adapter implements sap.Adapter over a REST gateway. It is safe for
// concurrent use.
type Adapter struct {
	base       *url.URL
	createURL  string
	request    *template.Template
	lookup     *template.Template // nil without a lookup
	conn       connection
	cfg        Config
	classifier *sap.Classifier
	log        *slog.Logger
	http       *http.Client
}

// New returns an Adapter for the gateway at baseURL, such as
// "https://gateway.example.com:8175". It applies cfg.WithDefaults and
// returns an error wrapping ErrInvalidOption for a bad base URL or
// option, or ErrInvalidConfig for an invalid cfg.
func New(baseURL string, cfg Config, opts ...Option) (*Adapter, error) {
	base, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("base URL %q: %w: %v", baseURL, ErrInvalidOption, err)
	}
	if base.Scheme != "http" && base.Scheme != "https" || base.Host == "" {
		return nil, fmt.Errorf("base URL %q: %w: use an absolute http or https URL, such as https://gateway.example.com:8175", baseURL, ErrInvalidOption)
	}

	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	conn := connection{timeout: DefaultTimeout}
	for _, opt := range opts {
		if err := opt(&conn); err != nil {
			return nil, err
		}
	}

	a := &Adapter{base: base, conn: conn, cfg: cfg, log: cfg.Logger}
	a.classifier, err = sap.NewClassifier(cfg.ReturnRules...)
	if err != nil {
		return nil, fmt.Errorf("return_rules: %w: %w", ErrInvalidConfig, err)
	}
	a.request, err = parseTemplate("request_template", cfg.RequestTemplate)
	if err != nil {
		return nil, fmt.Errorf("request_template: %w: %v", ErrInvalidConfig, err)
	}
	if cfg.LookupURL != "" {
		a.lookup, err = parseTemplate("lookup_url", cfg.LookupURL)
		if err != nil {
			return nil, fmt.Errorf("lookup_url: %w: %v", ErrInvalidConfig, err)
		}
		if _, err := a.lookupURL(sampleCustomer.ExternalRef); err != nil {
			return nil, fmt.Errorf("lookup_url: %w: %v", ErrInvalidConfig, err)
		}
	}
	a.createURL, err = a.resolve(cfg.CreatePath)
	if err != nil {
		return nil, fmt.Errorf("create_path: %w: %v", ErrInvalidConfig, err)
	}
	a.http = &http.Client{
		Transport: conn.transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return a, nil
}

// CreateURL returns the URL that creates are posted to.
func (a *Adapter) CreateURL() string { return a.createURL }

// resolve returns ref, a path below the base URL or an absolute URL, as
// an absolute URL.
func (a *Adapter) resolve(ref string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return "", err
	}
	if u.IsAbs() {
		if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
			return "", fmt.Errorf("%q is not an http or https URL", ref)
		}
		return u.String(), nil
	}
	if !strings.HasPrefix(u.Path, "/") {
		return "", fmt.Errorf("%q is neither an absolute URL nor a path starting with /", ref)
	}
	out := *a.base
	out.Path = strings.TrimRight(a.base.Path, "/") + u.Path
	out.RawPath = ""
	out.RawQuery = u.RawQuery
	out.Fragment = ""
	return out.String(), nil
}

// lookupURL renders the lookup URL for ref.
func (a *Adapter) lookupURL(ref string) (string, error) {
	var b bytes.Buffer
	if err := a.lookup.Execute(&b, lookupData{ExternalRef: ref}); err != nil {
		return "", fmt.Errorf("rendering the lookup URL: %w", err)
	}
	return a.resolve(b.String())
}

// Render returns the body that Create would POST for c, without
// contacting the gateway. It returns an error wrapping ErrInvalidCustomer
// when the template cannot render c as JSON.
func (a *Adapter) Render(c sap.Customer) ([]byte, error) {
	c.ExternalRef = externalRef(c.ExternalRef)
	if c.ExternalRef == "" {
		return nil, fmt.Errorf("%w: the external reference is empty", ErrInvalidCustomer)
	}
	body, err := render(a.request, c)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCustomer, err)
	}
	return body, nil
}

// Create posts customer c to the create service and returns the customer
// number, normalised with sap.NormalizeCustomerNo, with the RETURN
// messages. Errors are *sap.Error values:
//   - Permanent for a customer the template cannot render
//     (ErrInvalidCustomer), for RETURN messages the rules call permanent,
//     and for HTTP 4xx other than 429;
//   - Transient for RETURN messages the rules call transient (locks), for
//     HTTP 429 and 503, and for requests that never reached the gateway;
//   - Unknown when SAP may have created the customer without the caller
//     learning its number: a timeout after the request was sent, another
//     5xx, or a success without a number. Look it up with
//     FindByExternalRef before creating again.
func (a *Adapter) Create(ctx context.Context, c sap.Customer) (sap.CreateResult, error) {
	ref := externalRef(c.ExternalRef)
	body, err := a.Render(c)
	if err != nil {
		return sap.CreateResult{}, &sap.Error{Kind: sap.Permanent, Op: OpCreate, Err: err}
	}

	resp, err := a.do(ctx, OpCreate, http.MethodPost, a.createURL, body)
	if err != nil {
		return sap.CreateResult{}, err
	}
	doc, decodeErr := decodeJSON(resp.body)
	if resp.status < 200 || resp.status > 299 {
		e := a.statusError(OpCreate, resp)
		if decodeErr == nil {
			e.Messages = messagesAt(doc, a.cfg.ReturnPath)
		}
		return sap.CreateResult{}, e
	}
	if decodeErr != nil {
		return sap.CreateResult{}, &sap.Error{Kind: sap.Unknown, Op: OpCreate, HTTPStatus: resp.status, Err: decodeErr}
	}

	msgs := messagesAt(doc, a.cfg.ReturnPath)
	if kind := a.classifier.Classify(msgs).Kind(); kind != 0 {
		return sap.CreateResult{}, &sap.Error{Kind: kind, Op: OpCreate, HTTPStatus: resp.status, Messages: msgs}
	}
	var no string
	if numbers := stringsAt(doc, a.cfg.CustomerNoPath); len(numbers) > 0 {
		no = sap.NormalizeCustomerNo(numbers[0])
	}
	if no == "" {
		return sap.CreateResult{}, &sap.Error{Kind: sap.Unknown, Op: OpCreate, HTTPStatus: resp.status, Messages: msgs,
			Err: fmt.Errorf("%w: no customer number at %s and no error message", ErrInvalidResponse, a.cfg.CustomerNoPath)}
	}

	a.log.Info("restgw: customer created", logkey.AccountID, ref, logkey.SAPCustomer, no)
	return sap.CreateResult{CustomerNo: no, Messages: msgs}, nil
}

// FindByExternalRef calls the lookup service for ref (trimmed and
// upper-cased) and returns the customer number it finds, and found=false
// when there is none. When several customers match, it returns the
// lowest number and logs the duplicates. RETURN message F2 718 ("No
// customers were found") counts as none. A failed lookup is never Kind
// Unknown, because a lookup changes nothing.
//
// Without Config.LookupURL it returns an *sap.Error (Kind Permanent)
// wrapping ErrLookupNotConfigured.
func (a *Adapter) FindByExternalRef(ctx context.Context, ref string) (string, bool, error) {
	if a.lookup == nil {
		return "", false, &sap.Error{Kind: sap.Permanent, Op: OpFind,
			Err: fmt.Errorf("%w: set lookup_url, or a create whose outcome is unknown cannot be checked and duplicates cannot be excluded", ErrLookupNotConfigured)}
	}
	ref = externalRef(ref)
	if ref == "" {
		return "", false, &sap.Error{Kind: sap.Permanent, Op: OpFind, Err: fmt.Errorf("%w: the external reference is empty", ErrInvalidCustomer)}
	}
	u, err := a.lookupURL(ref)
	if err != nil {
		return "", false, &sap.Error{Kind: sap.Permanent, Op: OpFind, Err: err}
	}

	resp, err := a.do(ctx, OpFind, http.MethodGet, u, nil)
	if err != nil {
		return "", false, sap.ReadError(OpFind, err)
	}
	if resp.status != http.StatusOK {
		return "", false, sap.ReadError(OpFind, a.statusError(OpFind, resp))
	}
	doc, err := decodeJSON(resp.body)
	if err != nil {
		return "", false, &sap.Error{Kind: sap.Transient, Op: OpFind, HTTPStatus: resp.status, Err: err}
	}
	msgs := messagesAt(doc, a.cfg.ReturnPath)
	if notFound(msgs) {
		return "", false, nil
	}
	if kind := a.classifier.Classify(msgs).Kind(); kind != 0 {
		return "", false, sap.ReadError(OpFind, &sap.Error{Kind: kind, Op: OpFind, HTTPStatus: resp.status, Messages: msgs})
	}

	var numbers []string
	for _, s := range stringsAt(doc, a.cfg.LookupCustomerNoPath) {
		if no := sap.NormalizeCustomerNo(s); !slices.Contains(numbers, no) {
			numbers = append(numbers, no)
		}
	}
	if len(numbers) == 0 {
		return "", false, nil
	}
	slices.Sort(numbers)
	if len(numbers) > 1 {
		metrics.Alarm(metrics.AlarmDuplicateInSAP)
		a.log.Error("restgw: ALARM: several customers have the same external reference in SAP; using the lowest number until an operator merges them",
			logkey.AccountID, ref, logkey.SAPCustomer, numbers[0], "duplicates", numbers[1:])
	}
	return numbers[0], true, nil
}

// notFound reports whether msgs hold F2 718, "No customers were found for
// the selection criteria".
func notFound(msgs []sap.Message) bool {
	for _, m := range msgs {
		if strings.EqualFold(m.ID, "F2") && strings.TrimLeft(m.Number, "0") == "718" {
			return true
		}
	}
	return false
}

// decodeJSON decodes a response body, keeping numbers as json.Number so
// that customer numbers keep their digits.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: the body is not JSON: %v: %s", ErrInvalidResponse, err, sap.Snippet(data))
	}
	return doc, nil
}

// externalRef returns the form of a Salesforce id that is stored in and
// searched for in SAP: trimmed and upper-cased, as the other adapters
// store it.
func externalRef(ref string) string {
	return strings.ToUpper(strings.TrimSpace(ref))
}
