package odata

import "errors"

var (
	// ErrInvalidOption is wrapped by the errors that New returns for a bad
	// option value or base URL.
	ErrInvalidOption = errors.New("invalid option")
	// ErrInvalidConfig is wrapped by the errors that New and
	// Config.Validate return for an unusable setting.
	ErrInvalidConfig = errors.New("invalid OData adapter config")
	// ErrInvalidCustomer is wrapped in the *sap.Error (Kind Permanent) of a
	// create whose customer cannot be mapped to the deep-insert body.
	ErrInvalidCustomer = errors.New("invalid customer")
	// ErrUnauthorized is wrapped in the *sap.Error (Kind Permanent) of a
	// request that SAP rejected with HTTP 401 because the logon failed.
	ErrUnauthorized = errors.New("SAP logon failed")
	// ErrForbidden is wrapped in the *sap.Error (Kind Permanent) of a
	// request that SAP rejected with HTTP 403 for a reason other than the
	// CSRF token, such as a missing authorisation for the service.
	ErrForbidden = errors.New("SAP denied access")
	// ErrCSRFRejected is wrapped in the *sap.Error (Kind Transient) of a
	// create whose POST SAP rejected with "x-csrf-token: Required" even
	// after a new token was fetched. SAP checks the token before it
	// processes the request, so nothing was created. A proxy that drops
	// the session cookies causes this.
	ErrCSRFRejected = errors.New("SAP rejected the CSRF token")
	// ErrInvalidResponse is wrapped in the *sap.Error of a request whose
	// response cannot be read as OData V2 JSON.
	ErrInvalidResponse = errors.New("invalid OData response")
)
