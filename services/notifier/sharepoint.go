package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/sfsap/sfsap/pkg/msg"
)

// sharePointSink adds one item per outcome to a SharePoint Online list
// through Microsoft Graph: POST /v1.0/sites/{site-id}/lists/{list-id}/items
// with {"fields": {...}}, authorized by a client-credentials token.
type sharePointSink struct {
	cfg        SharePoint
	accountURL string
	http       *http.Client
	oauth      clientcredentials.Config

	mu    sync.Mutex
	token *oauth2.Token
}

func newSharePoint(cfg SharePoint, accountURL string, hc *http.Client) *sharePointSink {
	return &sharePointSink{
		cfg:        cfg,
		accountURL: accountURL,
		http:       hc,
		oauth: clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			TokenURL:     cfg.TokenURL,
			Scopes:       []string{cfg.Scope},
			// The Microsoft identity platform documents the secret as a
			// form parameter (client_secret_post).
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

func (s *sharePointSink) name() string { return "sharepoint" }

func (s *sharePointSink) itemsURL() string {
	return s.cfg.GraphURL + "/v1.0/sites/" + s.cfg.SiteID + "/lists/" + s.cfg.ListID + "/items"
}

func (s *sharePointSink) send(ctx context.Context, r msg.Result) error {
	body, err := json.Marshal(map[string]any{"fields": s.fields(r)})
	if err != nil {
		return &SendError{Sink: "sharepoint", Permanent: true, Err: fmt.Errorf("encoding list item: %w", err)}
	}
	for attempt := 1; ; attempt++ {
		token, err := s.accessToken(ctx)
		if err != nil {
			return err
		}
		err = postJSON(ctx, s.http, "sharepoint", s.itemsURL(), token, body)
		var se *SendError
		// An expired or revoked token gets one fresh token at once.
		if attempt == 1 && errors.As(err, &se) && se.Status == http.StatusUnauthorized {
			s.forget(token)
			continue
		}
		return err
	}
}

// fields returns the list item's column values, named by cfg.Columns.
func (s *sharePointSink) fields(r msg.Result) map[string]any {
	v := render(r, s.accountURL)
	values := map[string]string{
		"title":          clip(v.Title, 255),
		"account_id":     r.AccountID,
		"account_name":   r.AccountName,
		"outcome":        r.Outcome,
		"sap_customer":   r.SAPCustomer,
		"reason":         r.Reason,
		"stage":          r.Stage,
		"correlation_id": r.CorrelationID,
		"at":             r.At.UTC().Format(time.RFC3339),
		"account_url":    v.AccountURL,
	}
	if !r.CommittedAt.IsZero() {
		values["committed_at"] = r.CommittedAt.UTC().Format(time.RFC3339)
	}
	out := map[string]any{}
	for key, column := range s.cfg.Columns {
		if column != "" && values[key] != "" {
			out[column] = values[key]
		}
	}
	return out
}

// accessToken returns a cached token, or requests one from the token
// endpoint when none is valid.
func (s *sharePointSink) accessToken(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token.Valid() {
		return s.token.AccessToken, nil
	}
	tok, err := s.oauth.Token(context.WithValue(ctx, oauth2.HTTPClient, s.http))
	if err != nil {
		return "", tokenError(err)
	}
	s.token = tok
	return tok.AccessToken, nil
}

// forget drops token from the cache unless another send replaced it.
func (s *sharePointSink) forget(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != nil && s.token.AccessToken == token {
		s.token = nil
	}
}

// tokenError classifies a failed token request. A rejected client (4xx,
// such as invalid_client) needs a configuration change; 429 and 5xx may
// pass. The error never repeats the secret.
func tokenError(err error) *SendError {
	se := &SendError{Sink: "sharepoint", Err: fmt.Errorf("requesting a Microsoft Graph token: %w", err)}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		se.Status = re.Response.StatusCode
		se.RetryAfter = parseRetryAfter(re.Response.Header.Get("Retry-After"), time.Now())
		se.Permanent = se.Status >= 400 && se.Status < 500 && se.Status != http.StatusTooManyRequests && se.Status != http.StatusRequestTimeout
		detail := re.ErrorCode
		if detail == "" {
			detail = http.StatusText(se.Status)
		}
		if re.ErrorDescription != "" {
			detail += ": " + re.ErrorDescription
		}
		se.Err = fmt.Errorf("requesting a Microsoft Graph token: %s", detail)
	}
	return se
}
