package sapworker

import (
	"errors"
	"strings"

	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sap/ecc"
)

// RepReason returns the text written to the Account for a failure: what a
// sales rep can read and act on. SAP messages are shown as SAP wrote them;
// validation problems list every field.
func RepReason(err error) string {
	if errors.Is(err, ecc.ErrNotCommitted) {
		// The read-back's "does not exist" message would blame the data.
		return "SAP returned a customer number but did not store the customer, so no number was written back. " +
			"An SAP administrator must check that creates are committed (COMMIT WORK) before this is retried."
	}
	var sapErr *sap.Error
	if errors.As(err, &sapErr) && len(sapErr.Messages) > 0 {
		var parts []string
		for _, m := range sapErr.Messages {
			if m.Type == "E" || m.Type == "A" {
				parts = append(parts, "SAP rejected the customer: "+strings.TrimSpace(m.Message)+" ("+m.ID+" "+m.Number+")")
			}
		}
		if len(parts) > 0 {
			return strings.Join(parts, "; ")
		}
	}
	return err.Error()
}
