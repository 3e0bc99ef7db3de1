package sfsim

import (
	"crypto/rsa"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// GrantTypeJWT is the grant_type of the OAuth 2.0 JWT bearer flow.
const GrantTypeJWT = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// jwtLeeway is the clock difference the JWT checks tolerate.
const jwtLeeway = 10 * time.Second

// NOTE: the error descriptions of rejected assertions follow the commonly
// reported Salesforce texts ("invalid assertion", "audience is invalid",
// "user hasn't approved this consumer"). Which text goes with which check
// is not confirmed by a captured exchange.
var (
	errInvalidAssertion = &OAuthError{Code: "invalid_grant", Description: "invalid assertion"}
	errInvalidAudience  = &OAuthError{Code: "invalid_grant", Description: "audience is invalid"}
	errNotApproved      = &OAuthError{Code: "invalid_grant", Description: "user hasn't approved this consumer"}
)

// jwtGrant verifies a JWT bearer assertion. The signature must be RS256
// by the key of Options.JWTCertificate, iss the client id, sub the
// integration user's username, and aud the server's URL or one of
// Options.JWTAudiences. The exp must be in the future, but no later than
// Options.JWTMaxLifetime from now.
func (s *Server) jwtGrant(r *http.Request) (TokenGrant, *OAuthError) {
	assertion := r.PostForm.Get("assertion")
	if assertion == "" {
		return TokenGrant{}, &OAuthError{Code: "invalid_request", Description: "assertion is missing"}
	}
	pub, ok := s.opts.JWTCertificate.PublicKey.(*rsa.PublicKey)
	if !ok {
		return TokenGrant{}, errInvalidAssertion
	}

	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(assertion, &claims, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired(), jwt.WithLeeway(jwtLeeway))
	if err != nil {
		s.opts.Logger.Info("sfsim: JWT assertion rejected", "error", err)
		return TokenGrant{}, errInvalidAssertion
	}
	if claims.ExpiresAt.After(time.Now().Add(s.opts.JWTMaxLifetime + jwtLeeway)) {
		return TokenGrant{}, errInvalidAssertion
	}

	if claims.Issuer != s.opts.ClientID {
		return TokenGrant{}, errInvalidClientID
	}
	audiences := append([]string{s.instanceURL(r)}, s.opts.JWTAudiences...)
	if !slices.ContainsFunc(claims.Audience, func(aud string) bool {
		return slices.Contains(audiences, strings.TrimSuffix(aud, "/"))
	}) {
		return TokenGrant{}, errInvalidAudience
	}
	if !strings.EqualFold(claims.Subject, s.opts.Username) {
		return TokenGrant{}, errNotApproved
	}
	return TokenGrant{UserID: s.opts.UserID, Scope: "api"}, nil
}
