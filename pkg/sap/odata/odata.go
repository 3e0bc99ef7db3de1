// Package odata creates and finds customers in SAP S/4HANA through the
// OData V2 service API_BUSINESS_PARTNER.
//
// A customer is a business partner of category 2 (organisation) with the
// customer roles, created by one deep insert: POST A_BusinessPartner with
// the address, the roles and to_Customer with its sales area and company
// code. The deep insert is one logical unit of work, so it creates all or
// nothing and needs no separate commit. The Salesforce id goes into
// BusinessPartnerIDByExtSystem, where FindByExternalRef finds it with
// $filter before every create.
//
// SAP Gateway demands a CSRF token on every POST. The adapter fetches one
// with "x-csrf-token: Fetch" and keeps it together with the cookies of
// that response, because the token is valid only in the security session
// those cookies name. When SAP rejects a POST with 403 and
// "x-csrf-token: Required", the adapter fetches a new token once and
// sends the POST again. SAP checks the token before it processes the
// request, so the rejected POST created nothing.
package odata

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/sfsap/sfsap/pkg/logkey"
	"github.com/sfsap/sfsap/pkg/metrics"
	"github.com/sfsap/sfsap/pkg/sap"
)

// Operation names in the Op field of the adapter's errors.
const (
	OpCreate = "POST A_BusinessPartner"
	OpFind   = "GET A_BusinessPartner"
)

var _ sap.Adapter = (*Adapter)(nil)

// Adapter implements sap.Adapter for SAP S/4HANA. It is safe for
// concurrent use.
type Adapter struct {
	root       string // service root URL, without a trailing slash
	conn       connection
	cfg        Config
	classifier *sap.Classifier
	log        *slog.Logger
	http       *http.Client // for reads, without cookies

	fetchMu sync.Mutex // serialises token fetches
	mu      sync.Mutex // guards current
	current *csrfSession
}

// New returns an Adapter for the S/4HANA system at baseURL, such as
// "https://s4.example.com:44300". It applies cfg.WithDefaults and returns
// an error wrapping ErrInvalidOption for a bad base URL or option, or
// ErrInvalidConfig for an invalid cfg. It contacts SAP only on the first
// call.
func New(baseURL string, cfg Config, opts ...Option) (*Adapter, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("base URL %q: %w: %v", baseURL, ErrInvalidOption, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("base URL %q: %w: use an absolute http or https URL without query, such as https://s4.example.com:44300", baseURL, ErrInvalidOption)
	}

	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	classifier, err := sap.NewClassifier(cfg.ReturnRules...)
	if err != nil {
		return nil, fmt.Errorf("return_rules: %w: %w", ErrInvalidConfig, err)
	}

	conn := connection{language: "EN", timeout: DefaultTimeout}
	for _, opt := range opts {
		if err := opt(&conn); err != nil {
			return nil, err
		}
	}

	u.Fragment = ""
	u.Path = strings.TrimRight(u.Path, "/") + strings.TrimRight(cfg.ServicePath, "/")
	a := &Adapter{
		root:       u.String(),
		conn:       conn,
		cfg:        cfg,
		classifier: classifier,
		log:        cfg.Logger,
	}
	a.http = a.newHTTPClient(nil)
	return a, nil
}

// ServiceRoot returns the URL of the service root, such as
// https://s4.example.com:44300/sap/opu/odata/sap/API_BUSINESS_PARTNER.
func (a *Adapter) ServiceRoot() string { return a.root }

// Render returns the deep-insert body that Create would POST for c,
// without contacting SAP. It returns an error wrapping ErrInvalidCustomer
// when c cannot be mapped.
func (a *Adapter) Render(c sap.Customer) ([]byte, error) {
	return a.body(c)
}

// Create creates customer c with a deep insert and returns its customer
// number, normalised with sap.NormalizeCustomerNo, and the messages of
// the sap-message response header. Errors are *sap.Error values:
//   - Permanent for a customer that cannot be mapped (ErrInvalidCustomer),
//     for data SAP rejects, and for logon or authorisation failures;
//   - Transient for locks, for 503 and 429, for requests that never
//     reached SAP, and for a CSRF token SAP rejected twice
//     (ErrCSRFRejected);
//   - Unknown when SAP may have created the customer without the caller
//     learning its number, as after a timeout once the POST was sent.
//     Look it up with FindByExternalRef before creating again.
func (a *Adapter) Create(ctx context.Context, c sap.Customer) (sap.CreateResult, error) {
	ref := externalRef(c.ExternalRef)
	body, err := a.body(c)
	if err != nil {
		return sap.CreateResult{}, &sap.Error{Kind: sap.Permanent, Op: OpCreate, Err: err}
	}

	sess, err := a.session(ctx)
	if err != nil {
		return sap.CreateResult{}, err
	}
	resp, err := a.post(ctx, sess, body)
	if err != nil {
		return sap.CreateResult{}, err
	}
	if csrfRejected(resp) {
		a.log.Info("odata: CSRF token rejected; fetching a new one", logkey.AccountID, ref)
		sess, err = a.renewSession(ctx, sess)
		if err != nil {
			return sap.CreateResult{}, err
		}
		resp, err = a.post(ctx, sess, body)
		if err != nil {
			return sap.CreateResult{}, err
		}
		if csrfRejected(resp) {
			a.dropSession(sess)
			return sap.CreateResult{}, &sap.Error{Kind: sap.Transient, Op: OpCreate, HTTPStatus: resp.status,
				Err: fmt.Errorf("%w: a new token was rejected too: check that no proxy drops the session cookies", ErrCSRFRejected)}
		}
	}
	if resp.status != http.StatusCreated && resp.status != http.StatusOK {
		return sap.CreateResult{}, a.statusError(OpCreate, resp)
	}

	msgs := parseMessageHeader(resp.header.Get("sap-message"))
	keys, err := decodeEntity(resp.body)
	if err != nil {
		return sap.CreateResult{}, &sap.Error{Kind: sap.Unknown, Op: OpCreate, HTTPStatus: resp.status, Messages: msgs,
			Err: fmt.Errorf("reading the created business partner: %w", err)}
	}
	no := keys.customerNo()
	if no == "" {
		return sap.CreateResult{}, &sap.Error{Kind: sap.Unknown, Op: OpCreate, HTTPStatus: resp.status, Messages: msgs,
			Err: fmt.Errorf("%w: the created business partner has neither a customer nor a business partner number", ErrInvalidResponse)}
	}

	a.log.Info("odata: customer created", logkey.AccountID, ref, logkey.SAPCustomer, no)
	return sap.CreateResult{CustomerNo: no, Messages: msgs}, nil
}

// post sends the deep insert with the token and cookies of sess.
func (a *Adapter) post(ctx context.Context, sess *csrfSession, body []byte) (*response, error) {
	headers := map[string]string{}
	if sess.token != "" {
		headers[csrfHeader] = sess.token
	}
	return a.do(ctx, sess.http, OpCreate, http.MethodPost, a.serviceURL("/A_BusinessPartner", ""), body, headers)
}

// FindByExternalRef returns the customer number of the business partner
// whose BusinessPartnerIDByExtSystem is ref (compared upper-cased), and
// found=false when there is none. When several partners match, it
// returns the lowest number and logs the duplicates. A failed lookup is
// never Kind Unknown, because a lookup changes nothing.
func (a *Adapter) FindByExternalRef(ctx context.Context, ref string) (string, bool, error) {
	ref = externalRef(ref)
	if err := checkExternalRef(ref); err != nil {
		return "", false, &sap.Error{Kind: sap.Permanent, Op: OpFind, Err: err}
	}

	filter := "BusinessPartnerIDByExtSystem eq '" + strings.ReplaceAll(ref, "'", "''") + "'"
	query := "$filter=" + queryEscape(filter) + "&$select=BusinessPartner,Customer&$format=json"
	resp, err := a.do(ctx, a.http, OpFind, http.MethodGet, a.serviceURL("/A_BusinessPartner", query), nil, nil)
	if err != nil {
		return "", false, sap.ReadError(OpFind, err)
	}
	if resp.status != http.StatusOK {
		return "", false, sap.ReadError(OpFind, a.statusError(OpFind, resp))
	}
	results, err := decodeResults(resp.body)
	if err != nil {
		return "", false, &sap.Error{Kind: sap.Transient, Op: OpFind, HTTPStatus: resp.status, Err: err}
	}

	var numbers []string
	for _, r := range results {
		if no := r.customerNo(); no != "" && !slices.Contains(numbers, no) {
			numbers = append(numbers, no)
		}
	}
	if len(numbers) == 0 {
		return "", false, nil
	}
	slices.Sort(numbers)
	if len(numbers) > 1 {
		metrics.Alarm(metrics.AlarmDuplicateInSAP)
		a.log.Error("odata: ALARM: several business partners have the same external reference in SAP; using the lowest number until an operator merges them",
			logkey.AccountID, ref, logkey.SAPCustomer, numbers[0], "duplicates", numbers[1:])
	}
	return numbers[0], true, nil
}

// queryEscape escapes s for a URL query with %20 for blanks, which every
// OData server reads, where url.QueryEscape would write '+'.
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
