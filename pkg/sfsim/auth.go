package sfsim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// session is one issued access token.
type session struct {
	userID  string
	expires time.Time
}

// OAuthError is an error of the OAuth token endpoint, written as
// {"error": Code, "error_description": Description} with status 400.
type OAuthError struct {
	Code        string
	Description string
}

func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

// TokenGrant is what a grant handler returns for an accepted token
// request.
type TokenGrant struct {
	// UserID is the user the token is issued to.
	UserID string
	// Scope is returned as the token's scope. Empty leaves the field out,
	// as the password flow does.
	Scope string
}

// GrantFunc authenticates a token request of one grant_type. The form of
// r is already parsed. It returns an *OAuthError for a rejected request.
type GrantFunc func(r *http.Request) (TokenGrant, *OAuthError)

// RegisterGrant adds or replaces the handler of a grant_type at the token
// endpoint, such as urn:ietf:params:oauth:grant-type:jwt-bearer. The
// server registers client_credentials and password itself. Call it before
// Start.
func (s *Server) RegisterGrant(grantType string, fn GrantFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grants[grantType] = fn
}

var (
	errInvalidClientID = &OAuthError{Code: "invalid_client_id", Description: "client identifier invalid"}
	// NOTE: the wording of invalid_client is the commonly reported one,
	// not taken from a captured response.
	errInvalidClient  = &OAuthError{Code: "invalid_client", Description: "invalid client credentials"}
	errAuthentication = &OAuthError{Code: "invalid_grant", Description: "authentication failure"}
)

// CheckClient verifies the connected app's client_id, and its
// client_secret when requireSecret is set. Both may come in the form or
// as HTTP Basic credentials. Grant handlers call it.
func (s *Server) CheckClient(r *http.Request, requireSecret bool) *OAuthError {
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if !equalSecret(id, s.opts.ClientID) {
		return errInvalidClientID
	}
	if requireSecret && !equalSecret(secret, s.opts.ClientSecret) {
		return errInvalidClient
	}
	return nil
}

func (s *Server) clientCredentialsGrant(r *http.Request) (TokenGrant, *OAuthError) {
	if err := s.CheckClient(r, true); err != nil {
		return TokenGrant{}, err
	}
	return TokenGrant{UserID: s.opts.UserID, Scope: "api"}, nil
}

func (s *Server) passwordGrant(r *http.Request) (TokenGrant, *OAuthError) {
	if err := s.CheckClient(r, true); err != nil {
		return TokenGrant{}, err
	}
	if !s.validLogin(r.PostForm.Get("username"), r.PostForm.Get("password")) {
		return TokenGrant{}, errAuthentication
	}
	return TokenGrant{UserID: s.opts.UserID}, nil
}

// validLogin compares a username and the password with the security token
// appended to it against the configured user.
func (s *Server) validLogin(username, password string) bool {
	userOK := strings.EqualFold(username, s.opts.Username)
	passOK := equalSecret(password, s.opts.Password+s.opts.SecurityToken)
	return userOK && passOK
}

func equalSecret(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// tokenResponse is the token endpoint's success body, in the field order
// Salesforce uses.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	Signature   string `json:"signature"`
	Scope       string `json:"scope,omitempty"`
	InstanceURL string `json:"instance_url"`
	ID          string `json:"id"`
	TokenType   string `json:"token_type"`
	IssuedAt    string `json:"issued_at"`
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "invalid form body: " + err.Error()})
		return
	}
	grantType := r.PostForm.Get("grant_type")
	s.mu.Lock()
	grant := s.grants[grantType]
	s.mu.Unlock()
	if grant == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "grant type not supported"})
		return
	}
	g, oerr := grant(r)
	if oerr != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": oerr.Code, "error_description": oerr.Description})
		return
	}

	token := s.newSession(g.UserID)
	instance := s.instanceURL(r)
	id := instance + "/id/" + s.store.orgID + "/" + g.UserID
	issued := strconv.FormatInt(time.Now().UnixMilli(), 10)
	// The signature is an HMAC-SHA256 of id and issued_at keyed by the
	// client secret. NOTE: this follows the common description of the
	// field, which no captured exchange confirms.
	mac := hmac.New(sha256.New, []byte(s.opts.ClientSecret))
	mac.Write([]byte(id + issued))
	w.Header().Set("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: token,
		Signature:   base64.StdEncoding.EncodeToString(mac.Sum(nil)),
		Scope:       g.Scope,
		InstanceURL: instance,
		ID:          id,
		TokenType:   "Bearer",
		IssuedAt:    issued,
	})
}

// newSession issues an access token for userID. Tokens look like
// Salesforce session ids: the org id, "!", then random characters.
func (s *Server) newSession(userID string) string {
	buf := make([]byte, 72)
	_, _ = rand.Read(buf)
	token := s.store.orgID[:15] + "!" + base64.RawURLEncoding.EncodeToString(buf)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[token] = &session{userID: userID, expires: time.Now().Add(s.opts.TokenLifetime)}
	return token
}

// CheckToken returns the user of the access token in the request's
// Authorization header ("Bearer <token>" or "OAuth <token>"). It returns
// ErrInvalidSession when the token is missing, unknown or expired. Each
// successful check extends the session, as activity does in Salesforce.
func (s *Server) CheckToken(r *http.Request) (userID string, err error) {
	auth := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "OAuth") {
		return "", ErrInvalidSession
	}
	return s.CheckAccessToken(strings.TrimSpace(token))
}

// CheckAccessToken returns the user of an access token, for transports
// that carry it outside the Authorization header, such as gRPC metadata.
// It returns ErrInvalidSession for a missing, unknown or expired token.
func (s *Server) CheckAccessToken(token string) (userID string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[token]
	if !ok {
		return "", ErrInvalidSession
	}
	now := time.Now()
	if now.After(sess.expires) {
		delete(s.sessions, token)
		return "", ErrInvalidSession
	}
	sess.expires = now.Add(s.opts.TokenLifetime)
	return sess.userID, nil
}

// ExpireTokens invalidates every access token issued so far, as a session
// timeout or a revoked connected app would.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
}

func (s *Server) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	userID, err := s.CheckToken(r)
	if err != nil {
		// NOTE: Salesforce is commonly reported to reject a bad token here
		// with 403 and a plain Bad_OAuth_Token body, which is unconfirmed.
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "Bad_OAuth_Token")
		return
	}
	instance := s.instanceURL(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"sub":                instance + "/id/" + s.store.orgID + "/" + userID,
		"user_id":            userID,
		"organization_id":    s.store.orgID,
		"preferred_username": s.opts.Username,
		"nickname":           "integration",
		"name":               "Integration User",
		"email":              s.opts.Username,
		"email_verified":     true,
		"zoneinfo":           "Europe/Berlin",
		"locale":             "en_US",
		"language":           "en_US",
		"user_type":          "STANDARD",
		"active":             true,
	})
}

var apiVersionPattern = regexp.MustCompile(`^\d{2}\.\d$`)

// validVersion reports whether the server serves API version v, given
// without the leading "v".
func (s *Server) validVersion(v string) bool {
	if len(s.opts.APIVersions) > 0 {
		for _, allowed := range s.opts.APIVersions {
			if strings.TrimPrefix(allowed, "v") == v {
				return true
			}
		}
		return false
	}
	return apiVersionPattern.MatchString(v)
}

// soapLoginRequest picks the credentials out of a partner API login
// envelope by local element names, whatever the namespace prefixes.
type soapLoginRequest struct {
	Username string `xml:"Body>login>username"`
	Password string `xml:"Body>login>password"`
}

func (s *Server) handleSOAPLogin(w http.ResponseWriter, r *http.Request) {
	version := r.PathValue("version")
	if !s.validVersion(version) {
		writeSOAPFault(w, http.StatusNotFound, "sf:UNSUPPORTED_API_VERSION", "UNSUPPORTED_API_VERSION: Invalid Api version specified on URL")
		return
	}
	var req soapLoginRequest
	if err := xml.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		writeSOAPFault(w, http.StatusInternalServerError, "soapenv:Client", "Unable to parse the login request: "+err.Error())
		return
	}
	if !s.validLogin(req.Username, req.Password) {
		writeSOAPFault(w, http.StatusInternalServerError, "sf:INVALID_LOGIN", "INVALID_LOGIN: Invalid username, password, security token; or user locked out.")
		return
	}
	token := s.newSession(s.opts.UserID)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, s.loginResult(s.instanceURL(r), version, token))
}

// loginResult renders the SOAP LoginResult. Clients such as the official
// Pub/Sub API samples read its children by position, so the element order
// must stay as Salesforce sends it.
func (s *Server) loginResult(instance, version, token string) string {
	org := s.store.orgID
	var b strings.Builder
	elem := func(name, value string) {
		b.WriteString("<" + name + ">")
		_ = xml.EscapeText(&b, []byte(value))
		b.WriteString("</" + name + ">")
	}
	null := func(name string) { b.WriteString("<" + name + ` xsi:nil="true"/>`) }

	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result>`)
	elem("metadataServerUrl", fmt.Sprintf("%s/services/Soap/m/%s/%s", instance, version, org))
	elem("passwordExpired", "false")
	elem("sandbox", "true")
	elem("serverUrl", fmt.Sprintf("%s/services/Soap/u/%s/%s", instance, version, org))
	elem("sessionId", token)
	elem("userId", s.opts.UserID)
	b.WriteString("<userInfo>")
	elem("accessibilityMode", "false")
	elem("chatterExternal", "false")
	elem("currencySymbol", "€")
	elem("orgAttachmentFileSizeLimit", "5242880")
	elem("orgDefaultCurrencyIsoCode", "EUR")
	elem("orgDefaultCurrencyLocale", "de_DE")
	elem("orgDisallowHtmlAttachments", "false")
	elem("orgHasPersonAccounts", "false")
	elem("organizationId", org)
	elem("organizationMultiCurrency", "false")
	elem("organizationName", "sfsap Simulated Org")
	elem("profileId", "00eHx000000SimPrAAC")
	null("roleId")
	elem("sessionSecondsValid", strconv.Itoa(int(s.opts.TokenLifetime.Seconds())))
	null("userDefaultCurrencyIsoCode")
	elem("userEmail", s.opts.Username)
	elem("userFullName", "Integration User")
	elem("userId", s.opts.UserID)
	elem("userLanguage", "en_US")
	elem("userLocale", "en_US")
	elem("userName", s.opts.Username)
	elem("userTimeZone", "Europe/Berlin")
	elem("userType", "Standard")
	elem("userUiSkin", "Theme3")
	b.WriteString("</userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>")
	return b.String()
}

// writeSOAPFault writes a SOAP 1.1 fault. A faultcode in the sf: namespace
// also gets the LoginFault detail that Salesforce sends with it.
func writeSOAPFault(w http.ResponseWriter, status int, code, message string) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>`)
	_ = xml.EscapeText(&b, []byte(code))
	b.WriteString("</faultcode><faultstring>")
	_ = xml.EscapeText(&b, []byte(message))
	b.WriteString("</faultstring>")
	if exception, ok := strings.CutPrefix(code, "sf:"); ok {
		detail := strings.TrimPrefix(message, exception+": ")
		b.WriteString(`<detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>`)
		_ = xml.EscapeText(&b, []byte(exception))
		b.WriteString("</sf:exceptionCode><sf:exceptionMessage>")
		_ = xml.EscapeText(&b, []byte(detail))
		b.WriteString("</sf:exceptionMessage></sf:LoginFault></detail>")
	}
	b.WriteString("</soapenv:Fault></soapenv:Body></soapenv:Envelope>")
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, b.String())
}
