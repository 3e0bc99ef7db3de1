package ecc

import "errors"

var (
	// ErrInvalidConfig is wrapped by the errors that New and
	// Config.Validate return for an unusable setting.
	ErrInvalidConfig = errors.New("invalid ECC adapter config")
	// ErrInvalidCustomer is wrapped in the *sap.Error (Kind Permanent) of a
	// create whose customer cannot be mapped to the BAPI's parameters.
	ErrInvalidCustomer = errors.New("invalid customer")
	// ErrNotCommitted is wrapped in the *sap.Error (Kind Permanent) of a
	// create that returned a customer number which cannot be read back.
	// The create was most likely not committed: the wrapper module does
	// not commit, or the SAP endpoint does not keep the session between
	// the BAPI and BAPI_TRANSACTION_COMMIT.
	ErrNotCommitted = errors.New("created customer not found when read back")
)
