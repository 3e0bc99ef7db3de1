package sapworker

import "errors"

// errStopping is the retry cause of a job released at shutdown before its
// SAP create started.
var errStopping = errors.New("sapworker: shutting down")
