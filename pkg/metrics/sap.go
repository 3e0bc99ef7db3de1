package metrics

import (
	"context"
	"time"

	"github.com/sfsap/sfsap/pkg/sap"
)

// SAPOutcome returns the outcome label of an SAP call that returned err:
// SAPSuccess for nil, else the name of its sap.Kind.
func SAPOutcome(err error) string {
	switch sap.KindOf(err) {
	case 0:
		return SAPSuccess
	case sap.Permanent:
		return SAPPermanent
	case sap.Unknown:
		return SAPUnknown
	}
	return SAPTransient
}

// InstrumentSAP returns an adapter that counts and times every call of a
// in sfsap_sap_calls_total and sfsap_sap_call_duration_seconds. A lookup
// that finds nothing counts as a success.
func InstrumentSAP(a sap.Adapter) sap.Adapter {
	if _, ok := a.(instrumentedSAP); ok {
		return a
	}
	return instrumentedSAP{next: a}
}

type instrumentedSAP struct{ next sap.Adapter }

func (i instrumentedSAP) FindByExternalRef(ctx context.Context, ref string) (string, bool, error) {
	start := time.Now()
	no, found, err := i.next.FindByExternalRef(ctx, ref)
	observeSAP(OpLookup, start, err)
	return no, found, err
}

func (i instrumentedSAP) Create(ctx context.Context, c sap.Customer) (sap.CreateResult, error) {
	start := time.Now()
	res, err := i.next.Create(ctx, c)
	observeSAP(OpCreate, start, err)
	return res, err
}

func observeSAP(op string, start time.Time, err error) {
	sapCallSeconds.WithLabelValues(op).Observe(time.Since(start).Seconds())
	SAPCall(op, SAPOutcome(err))
}
