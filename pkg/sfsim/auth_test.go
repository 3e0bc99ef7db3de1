package sfsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsap/sfsap/test/fixtures"
)

func TestTokenClientCredentials(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{UserID: "005Hx00000IntUsIAJ"})
	status, body := postForm(t, s, "/services/oauth2/token", url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {"sfsim-client"},
		"client_secret": {"sfsim-secret"},
	})
	if status != http.StatusOK {
		t.Fatalf("token status = %d (%s), want 200", status, body)
	}

	var tok tokenResponse
	if err := json.Unmarshal(body, &tok); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	if tok.InstanceURL != s.URL() {
		t.Fatalf("instance_url = %q, want %q", tok.InstanceURL, s.URL())
	}
	wantID := s.URL() + "/id/" + s.Store().orgID + "/005Hx00000IntUsIAJ"
	if tok.ID != wantID {
		t.Fatalf("id = %q, want %q", tok.ID, wantID)
	}
	if tok.TokenType != "Bearer" || tok.Scope != "api" {
		t.Fatalf("token_type, scope = %q, %q, want Bearer, api", tok.TokenType, tok.Scope)
	}

	mac := hmac.New(sha256.New, []byte("sfsim-secret"))
	mac.Write([]byte(tok.ID + tok.IssuedAt))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); tok.Signature != want {
		t.Fatalf("signature = %q, want %q", tok.Signature, want)
	}
	if !strings.HasPrefix(tok.AccessToken, s.Store().orgID[:15]+"!") {
		t.Fatalf("access_token = %q, want the org id and ! as prefix", tok.AccessToken)
	}
	if r := call(t, s, http.MethodGet, "limits", tok.AccessToken, nil); r.status != http.StatusOK {
		t.Fatalf("GET limits with the new token = %d (%s), want 200", r.status, r.body)
	}
}

func TestTokenClientCredentialsBasicAuth(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	req, err := http.NewRequest(http.MethodPost, s.URL()+"/services/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("sfsim-client", "sfsim-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST token: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token with Basic credentials = %d, want 200", resp.StatusCode)
	}
}

func TestTokenPasswordGrant(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{Username: "int@example.com", Password: "pw", SecurityToken: "TOK"})
	status, body := postForm(t, s, "/services/oauth2/token", url.Values{
		"grant_type":    {"password"},
		"client_id":     {"sfsim-client"},
		"client_secret": {"sfsim-secret"},
		"username":      {"int@example.com"},
		"password":      {"pwTOK"},
	})
	if status != http.StatusOK {
		t.Fatalf("password grant = %d (%s), want 200", status, body)
	}
	var fields map[string]any
	if err := json.Unmarshal(body, &fields); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	if _, ok := fields["scope"]; ok {
		t.Fatalf("password grant response %s has a scope, want none", body)
	}
	for _, key := range []string{"id", "issued_at", "instance_url", "signature", "access_token", "token_type"} {
		if _, ok := fields[key]; !ok {
			t.Fatalf("password grant response %s lacks %s", body, key)
		}
	}
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{Username: "int@example.com", Password: "pw", SecurityToken: "TOK"})
	tests := []struct {
		name string
		form url.Values
		want oauthBody
	}{
		{"unknown client id", url.Values{"grant_type": {"client_credentials"}, "client_id": {"nope"}, "client_secret": {"sfsim-secret"}},
			oauthBody{"invalid_client_id", "client identifier invalid"}},
		{"wrong client secret", url.Values{"grant_type": {"client_credentials"}, "client_id": {"sfsim-client"}, "client_secret": {"nope"}},
			oauthBody{"invalid_client", "invalid client credentials"}},
		{"wrong password", url.Values{"grant_type": {"password"}, "client_id": {"sfsim-client"}, "client_secret": {"sfsim-secret"}, "username": {"int@example.com"}, "password": {"pw"}},
			oauthBody{"invalid_grant", "authentication failure"}},
		{"unknown user", url.Values{"grant_type": {"password"}, "client_id": {"sfsim-client"}, "client_secret": {"sfsim-secret"}, "username": {"x@example.com"}, "password": {"pwTOK"}},
			oauthBody{"invalid_grant", "authentication failure"}},
		{"unsupported grant", url.Values{"grant_type": {"authorization_code"}, "client_id": {"sfsim-client"}},
			oauthBody{"unsupported_grant_type", "grant type not supported"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body := postForm(t, s, "/services/oauth2/token", tt.form)
			if status != http.StatusBadRequest {
				t.Fatalf("status = %d (%s), want 400", status, body)
			}
			var got oauthBody
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("decoding %s: %v", body, err)
			}
			if got != tt.want {
				t.Fatalf("error = %+v, want %+v", got, tt.want)
			}
		})
	}
}

type oauthBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func TestTokenErrorMatchesFixture(t *testing.T) {
	t.Parallel()
	var want oauthBody
	if err := json.Unmarshal(fixtures.Read(t, "fixtures/salesforce/oauth-error-invalid-grant.json"), &want); err != nil {
		t.Fatalf("decoding fixture: %v", err)
	}
	s := startServer(t, Options{})
	_, body := postForm(t, s, "/services/oauth2/token", url.Values{
		"grant_type": {"password"}, "client_id": {"sfsim-client"}, "client_secret": {"sfsim-secret"},
		"username": {"integration@sfsap.example"}, "password": {"wrong"},
	})
	var got oauthBody
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	if got != want {
		t.Fatalf("invalid_grant body = %+v, want %+v", got, want)
	}
}

func TestRegisterGrant(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	const jwtGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	s.RegisterGrant(jwtGrant, func(r *http.Request) (TokenGrant, *OAuthError) {
		if r.PostForm.Get("assertion") != "signed" {
			return TokenGrant{}, &OAuthError{Code: "invalid_grant", Description: "invalid assertion"}
		}
		return TokenGrant{UserID: "005Hx00000JwtUsIAJ", Scope: "api"}, nil
	})
	if err := s.Start(""); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(s.Close)

	status, body := postForm(t, s, "/services/oauth2/token", url.Values{"grant_type": {jwtGrant}, "assertion": {"unsigned"}})
	if status != http.StatusBadRequest || !strings.Contains(string(body), "invalid assertion") {
		t.Fatalf("bad assertion = %d %s, want 400 invalid assertion", status, body)
	}
	status, body = postForm(t, s, "/services/oauth2/token", url.Values{"grant_type": {jwtGrant}, "assertion": {"signed"}})
	if status != http.StatusOK {
		t.Fatalf("good assertion = %d %s, want 200", status, body)
	}
	var tok tokenResponse
	if err := json.Unmarshal(body, &tok); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL(), nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if user, err := s.CheckToken(req); err != nil || user != "005Hx00000JwtUsIAJ" {
		t.Fatalf("CheckToken = %q, %v, want 005Hx00000JwtUsIAJ, nil", user, err)
	}
}

func TestUserInfo(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	tok := login(t, s)
	r := call(t, s, http.MethodGet, "/services/oauth2/userinfo", tok, nil)
	if r.status != http.StatusOK {
		t.Fatalf("userinfo = %d (%s), want 200", r.status, r.body)
	}
	var info map[string]any
	if err := json.Unmarshal(r.body, &info); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	want := map[string]any{
		"user_id":            DefaultIntegrationUserID,
		"organization_id":    s.Store().orgID,
		"preferred_username": "integration@sfsap.example",
	}
	for k, v := range want {
		if info[k] != v {
			t.Fatalf("userinfo[%s] = %v, want %v", k, info[k], v)
		}
	}
	if r := call(t, s, http.MethodGet, "/services/oauth2/userinfo", "bogus", nil); r.status != http.StatusForbidden {
		t.Fatalf("userinfo with bad token = %d, want 403", r.status)
	}
}

const soapLoginBody = `<?xml version="1.0" encoding="utf-8" ?>
<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">
<env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com"><n1:username>%s</n1:username><n1:password>%s</n1:password></n1:login></env:Body>
</env:Envelope>`

func soapLogin(t *testing.T, s *Server, username, password string) (int, []byte) {
	t.Helper()
	body := fmt.Sprintf(soapLoginBody, username, password)
	req, err := http.NewRequest(http.MethodPost, s.URL()+"/services/Soap/u/60.0", strings.NewReader(body))
	if err != nil {
		t.Fatalf("building SOAP login: %v", err)
	}
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("SOAPAction", "login")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("SOAP login: %v", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading SOAP response: %v", err)
	}
	return resp.StatusCode, out
}

// childNames returns the local names of the children of the first element
// named parent, in document order.
func childNames(t *testing.T, doc []byte, parent string) []string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(string(doc)))
	depth, inside := 0, -1
	var names []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("parsing XML %s: %v", doc, err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			depth++
			if inside < 0 && e.Name.Local == parent {
				inside = depth
			} else if inside >= 0 && depth == inside+1 {
				names = append(names, e.Name.Local)
			}
		case xml.EndElement:
			if depth == inside {
				return names
			}
			depth--
		}
	}
}

func TestSOAPLoginResultOrder(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{Username: "int@example.com", Password: "p&w", SecurityToken: "TOK"})
	status, body := soapLogin(t, s, "int@example.com", "p&amp;wTOK")
	if status != http.StatusOK {
		t.Fatalf("SOAP login = %d (%s), want 200", status, body)
	}
	wantResult := []string{"metadataServerUrl", "passwordExpired", "sandbox", "serverUrl", "sessionId", "userId", "userInfo"}
	if diff := cmp.Diff(wantResult, childNames(t, body, "result")); diff != "" {
		t.Fatalf("LoginResult children mismatch (-want +got):\n%s", diff)
	}
	wantInfo := []string{"accessibilityMode", "chatterExternal", "currencySymbol",
		"orgAttachmentFileSizeLimit", "orgDefaultCurrencyIsoCode", "orgDefaultCurrencyLocale",
		"orgDisallowHtmlAttachments", "orgHasPersonAccounts", "organizationId",
		"organizationMultiCurrency", "organizationName", "profileId", "roleId",
		"sessionSecondsValid", "userDefaultCurrencyIsoCode", "userEmail", "userFullName", "userId",
		"userLanguage", "userLocale", "userName", "userTimeZone", "userType", "userUiSkin"}
	if diff := cmp.Diff(wantInfo, childNames(t, body, "userInfo")); diff != "" {
		t.Fatalf("userInfo children mismatch (-want +got):\n%s", diff)
	}

	var result struct {
		ServerURL string `xml:"Body>loginResponse>result>serverUrl"`
		SessionID string `xml:"Body>loginResponse>result>sessionId"`
		OrgID     string `xml:"Body>loginResponse>result>userInfo>organizationId"`
	}
	if err := xml.Unmarshal(body, &result); err != nil {
		t.Fatalf("decoding LoginResult: %v", err)
	}
	if want := s.URL() + "/services/Soap/u/60.0/" + s.Store().orgID; result.ServerURL != want {
		t.Fatalf("serverUrl = %q, want %q", result.ServerURL, want)
	}
	if result.OrgID != s.Store().orgID {
		t.Fatalf("organizationId = %q, want %q", result.OrgID, s.Store().orgID)
	}
	if r := call(t, s, http.MethodGet, "limits", result.SessionID, nil); r.status != http.StatusOK {
		t.Fatalf("data API with SOAP session id = %d (%s), want 200", r.status, r.body)
	}
}

func TestSOAPLoginMatchesFixture(t *testing.T) {
	t.Parallel()
	fixture := fixtures.Read(t, "fixtures/salesforce/soap-login-response.xml")
	s := startServer(t, Options{})
	_, body := soapLogin(t, s, "integration@sfsap.example", "sfsim-password")
	want := childNames(t, fixture, "result")
	got := childNames(t, body, "result")
	if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
		t.Fatalf("LoginResult children = %v, want them to start with the fixture's %v", got, want)
	}
}

func TestSOAPLoginFault(t *testing.T) {
	t.Parallel()
	type fault struct {
		Code          string `xml:"Body>Fault>faultcode"`
		String        string `xml:"Body>Fault>faultstring"`
		ExceptionCode string `xml:"Body>Fault>detail>LoginFault>exceptionCode"`
		ExceptionText string `xml:"Body>Fault>detail>LoginFault>exceptionMessage"`
	}
	var want fault
	if err := xml.Unmarshal(fixtures.Read(t, "fixtures/salesforce/soap-login-fault.xml"), &want); err != nil {
		t.Fatalf("decoding fixture: %v", err)
	}
	s := startServer(t, Options{})
	status, body := soapLogin(t, s, "integration@sfsap.example", "wrong")
	if status != http.StatusInternalServerError {
		t.Fatalf("SOAP login with wrong password = %d, want 500", status)
	}
	var got fault
	if err := xml.Unmarshal(body, &got); err != nil {
		t.Fatalf("decoding fault %s: %v", body, err)
	}
	if got != want {
		t.Fatalf("fault = %+v, want %+v", got, want)
	}
}

func TestExpireTokens(t *testing.T) {
	t.Parallel()
	var want []map[string]any
	if err := json.Unmarshal(fixtures.Read(t, "fixtures/salesforce/rest-error-invalid-session.json"), &want); err != nil {
		t.Fatalf("decoding fixture: %v", err)
	}
	s := startServer(t, Options{})
	tok := login(t, s)
	if r := call(t, s, http.MethodGet, "limits", tok, nil); r.status != http.StatusOK {
		t.Fatalf("GET limits before expiry = %d, want 200", r.status)
	}
	s.ExpireTokens()
	r := call(t, s, http.MethodGet, "limits", tok, nil)
	if r.status != http.StatusUnauthorized {
		t.Fatalf("GET limits after ExpireTokens = %d, want 401", r.status)
	}
	if diff := cmp.Diff(want, errorArray(t, r.body)); diff != "" {
		t.Fatalf("401 body mismatch (-want +got):\n%s", diff)
	}
}

func TestTokenLifetime(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{TokenLifetime: time.Millisecond})
	tok := login(t, s)
	time.Sleep(5 * time.Millisecond)
	if r := call(t, s, http.MethodGet, "limits", tok, nil); r.status != http.StatusUnauthorized {
		t.Fatalf("GET limits with an idle token = %d, want 401", r.status)
	}
}

func TestAuthorizationSchemes(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	tok := login(t, s)
	tests := []struct {
		header string
		want   int
	}{
		{"Bearer " + tok, http.StatusOK},
		{"OAuth " + tok, http.StatusOK},
		{"Basic " + tok, http.StatusUnauthorized},
		{tok, http.StatusUnauthorized},
		{"", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		r := call(t, s, http.MethodGet, "limits", "", nil, "Authorization", tt.header)
		if r.status != tt.want {
			t.Fatalf("GET limits with Authorization %.12q... = %d, want %d", tt.header, r.status, tt.want)
		}
	}
}
