package restgw

import "errors"

var (
	// ErrInvalidOption is wrapped by the errors that New returns for a bad
	// option value or base URL.
	ErrInvalidOption = errors.New("invalid option")
	// ErrInvalidConfig is wrapped by the errors that New and
	// Config.Validate return for an unusable setting, such as a template
	// that does not parse or does not render JSON.
	ErrInvalidConfig = errors.New("invalid REST adapter config")
	// ErrInvalidCustomer is wrapped in the *sap.Error (Kind Permanent) of a
	// create whose customer the request template cannot render.
	ErrInvalidCustomer = errors.New("invalid customer")
	// ErrLookupNotConfigured is wrapped in the *sap.Error (Kind Permanent)
	// that FindByExternalRef returns when Config.LookupURL is empty.
	// Without a lookup, a create whose outcome is unknown (a timeout after
	// the request was sent) cannot be checked, so a retry may create a
	// second customer.
	ErrLookupNotConfigured = errors.New("lookup by external reference is not configured")
	// ErrUnauthorized is wrapped in the *sap.Error (Kind Permanent) of a
	// request that the gateway rejected with HTTP 401.
	ErrUnauthorized = errors.New("gateway logon failed")
	// ErrForbidden is wrapped in the *sap.Error (Kind Permanent) of a
	// request that the gateway rejected with HTTP 403.
	ErrForbidden = errors.New("gateway denied access")
	// ErrInvalidResponse is wrapped in the *sap.Error of a request whose
	// response is not the expected JSON.
	ErrInvalidResponse = errors.New("invalid gateway response")
)
