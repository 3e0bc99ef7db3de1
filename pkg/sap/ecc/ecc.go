// Package ecc creates and finds customers in SAP ECC through
// BAPI_CUSTOMER_CREATEFROMDATA1 and its companion BAPIs, over any
// rfc.Caller (in production soaprfc).
//
// The BAPI has no field for the Salesforce id, so a small Z function
// module stores it in a customer field (by default KNA1-ZZSFID), where
// BAPI_CUSTOMER_FIND finds it before every create. The create and its
// commit run as one unit, either inside a Z wrapper module or in one
// stateful session (see CommitMode). Every create is read back with
// BAPI_CUSTOMER_GETDETAIL2 before its number is returned, so a number
// that was never committed is not reported.
package ecc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/sfsap/sfsap/pkg/logkey"
	"github.com/sfsap/sfsap/pkg/metrics"
	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sap/rfc"
)

// Function modules of SAP's standard that the adapter calls.
const (
	fmCreate    = "BAPI_CUSTOMER_CREATEFROMDATA1"
	fmCommit    = "BAPI_TRANSACTION_COMMIT"
	fmRollback  = "BAPI_TRANSACTION_ROLLBACK"
	fmGetDetail = "BAPI_CUSTOMER_GETDETAIL2"
	fmFind      = "BAPI_CUSTOMER_FIND"
)

// findMaxCount is MAX_CNT of BAPI_CUSTOMER_FIND. One match is expected,
// and more are duplicates, which are logged.
const findMaxCount = 100

// rollbackTimeout bounds the rollback after a failed create in session
// mode, which runs even when the create's context has ended.
const rollbackTimeout = 10 * time.Second

var _ sap.Adapter = (*Adapter)(nil)

// Adapter implements sap.Adapter for SAP ECC. It is safe for concurrent
// use when its Caller is.
type Adapter struct {
	caller     rfc.Caller
	cfg        Config
	classifier *sap.Classifier
	log        *slog.Logger
}

// New returns an Adapter that calls SAP through caller. It applies
// cfg.WithDefaults and returns an error wrapping ErrInvalidConfig when the
// config is invalid, or when session mode is set and caller cannot keep a
// session.
func New(caller rfc.Caller, cfg Config) (*Adapter, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if _, ok := caller.(rfc.SessionCaller); cfg.CommitMode == CommitSession && !ok {
		return nil, fmt.Errorf("commit_mode %q: %w: the RFC caller %T cannot keep a session; use %q", cfg.CommitMode, ErrInvalidConfig, caller, CommitWrapper)
	}
	classifier, err := sap.NewClassifier(cfg.ReturnRules...)
	if err != nil {
		return nil, fmt.Errorf("return_rules: %w: %w", ErrInvalidConfig, err)
	}
	return &Adapter{caller: caller, cfg: cfg, classifier: classifier, log: cfg.Logger}, nil
}

// FindByExternalRef returns the number of the customer whose external
// reference field contains ref (compared upper-cased). When several
// customers match, it returns the lowest number and logs the duplicates.
// A failed lookup is never Kind Unknown, because a lookup changes nothing.
func (a *Adapter) FindByExternalRef(ctx context.Context, ref string) (string, bool, error) {
	ref = externalRef(ref)
	if ref == "" {
		return "", false, &sap.Error{Kind: sap.Permanent, Op: fmFind, Err: fmt.Errorf("%w: the external reference is empty", ErrInvalidCustomer)}
	}

	res, err := a.caller.Call(ctx, fmFind, map[string]any{
		"MAX_CNT": fmt.Sprint(findMaxCount),
		"PL_HOLD": "",
		"SELOPT_TAB": []map[string]any{{
			"TABNAME":    a.cfg.ExternalRefTable,
			"FIELDNAME":  a.cfg.ExternalRefField,
			"FIELDVALUE": ref,
		}},
	})
	if err != nil {
		return "", false, sap.ReadError(fmFind, fmt.Errorf("finding customer by %s-%s %s: %w", a.cfg.ExternalRefTable, a.cfg.ExternalRefField, ref, err))
	}

	msgs := returnMessages(res)
	if notFound(msgs) {
		return "", false, nil
	}
	if err := a.check(fmFind, msgs); err != nil {
		return "", false, err
	}

	var numbers []string
	for _, row := range rfc.Table(res, "RESULT_TAB") {
		no := sap.NormalizeCustomerNo(rfc.String(row, "CUSTOMER"))
		if no != "" && !slices.Contains(numbers, no) {
			numbers = append(numbers, no)
		}
	}
	if len(numbers) == 0 {
		return "", false, nil
	}
	slices.Sort(numbers)
	if len(numbers) > 1 {
		metrics.Alarm(metrics.AlarmDuplicateInSAP)
		a.log.Error("ecc: ALARM: several customers have the same external reference in SAP; using the lowest number until an operator merges them",
			logkey.AccountID, ref, logkey.SAPCustomer, numbers[0], "duplicates", numbers[1:])
	}
	return numbers[0], true, nil
}

// notFound reports whether msgs hold F2 718, "No customers were found for
// the selection criteria", which some releases return for an empty
// result.
func notFound(msgs []sap.Message) bool {
	for _, m := range msgs {
		if m.ID == "F2" && m.Number == "718" {
			return true
		}
	}
	return false
}

// Create creates customer c, stores its external reference, commits, and
// reads the customer back. Errors are *sap.Error values:
//   - Permanent for data SAP rejects (RETURN E or A), for a customer that
//     cannot be mapped (ErrInvalidCustomer), and for a number that cannot
//     be read back (ErrNotCommitted);
//   - Transient for locks and for requests that never reached SAP;
//   - Unknown when SAP may have created the customer without the caller
//     learning its number. Look it up with FindByExternalRef before
//     creating again.
func (a *Adapter) Create(ctx context.Context, c sap.Customer) (sap.CreateResult, error) {
	ref := externalRef(c.ExternalRef)
	op := a.cfg.CreateFunction
	if a.cfg.CommitMode == CommitSession {
		op = fmCreate
	}
	if ref == "" {
		return sap.CreateResult{}, &sap.Error{Kind: sap.Permanent, Op: op, Err: fmt.Errorf("%w: the external reference is empty", ErrInvalidCustomer)}
	}
	company, err := a.companyData(c)
	if err != nil {
		return sap.CreateResult{}, &sap.Error{Kind: sap.Permanent, Op: op, Err: err}
	}
	params := map[string]any{
		"PI_COMPANYDATA":   company,
		"PI_COPYREFERENCE": copyReference(c),
	}

	var no string
	var msgs []sap.Message
	if a.cfg.CommitMode == CommitSession {
		no, msgs, err = a.createInSession(ctx, params, ref)
	} else {
		no, msgs, err = a.createWithWrapper(ctx, params, ref)
	}
	if err != nil {
		return sap.CreateResult{}, err
	}
	if err := a.readBack(ctx, no, op); err != nil {
		return sap.CreateResult{}, err
	}

	a.log.Info("ecc: customer created", logkey.AccountID, ref, logkey.SAPCustomer, no)
	return sap.CreateResult{CustomerNo: no, Messages: msgs}, nil
}

func (a *Adapter) createWithWrapper(ctx context.Context, params map[string]any, ref string) (string, []sap.Message, error) {
	fm := a.cfg.CreateFunction
	params[a.cfg.ExternalRefParam] = ref
	res, err := a.caller.Call(ctx, fm, params)
	if err != nil {
		return "", nil, createError(fm, err)
	}
	msgs := returnMessages(res)
	if err := a.check(fm, msgs); err != nil {
		return "", nil, err
	}
	no, err := customerNo(fm, res, msgs)
	if err != nil {
		return "", nil, err
	}
	return no, msgs, nil
}

// createInSession runs the BAPI, the external-reference module and the
// commit in one session, and rolls back when a step fails before the
// commit.
func (a *Adapter) createInSession(ctx context.Context, params map[string]any, ref string) (string, []sap.Message, error) {
	sc := a.caller.(rfc.SessionCaller)
	sess, closeSession, err := sc.Session(ctx)
	if err != nil {
		return "", nil, &sap.Error{Kind: sap.Transient, Op: fmCreate, Err: fmt.Errorf("opening SAP session: %w", err)}
	}
	defer closeSession()

	res, err := sess.Call(ctx, fmCreate, params)
	if err != nil {
		a.rollback(ctx, sess, ref)
		return "", nil, createError(fmCreate, err)
	}
	msgs := returnMessages(res)
	if err := a.check(fmCreate, msgs); err != nil {
		a.rollback(ctx, sess, ref)
		return "", nil, err
	}
	no, err := customerNo(fmCreate, res, msgs)
	if err != nil {
		a.rollback(ctx, sess, ref)
		return "", nil, err
	}

	fm := a.cfg.SetExternalRefFunction
	res, err = sess.Call(ctx, fm, map[string]any{"CUSTOMERNO": no, a.cfg.ExternalRefParam: ref})
	if err != nil {
		a.rollback(ctx, sess, ref)
		return "", nil, createError(fm, err)
	}
	refMsgs := returnMessages(res)
	if err := a.check(fm, refMsgs); err != nil {
		a.rollback(ctx, sess, ref)
		return "", nil, err
	}

	res, err = sess.Call(ctx, fmCommit, map[string]any{"WAIT": "X"})
	if err != nil {
		return "", nil, createError(fmCommit, err)
	}
	commitMsgs := returnMessages(res)
	if err := a.check(fmCommit, commitMsgs); err != nil {
		a.rollback(ctx, sess, ref)
		return "", nil, err
	}
	return no, slices.Concat(msgs, refMsgs, commitMsgs), nil
}

// rollback calls BAPI_TRANSACTION_ROLLBACK and logs a failure, since the
// session's work is lost anyway when the session ends.
func (a *Adapter) rollback(ctx context.Context, sess rfc.Caller, ref string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	if _, err := sess.Call(ctx, fmRollback, nil); err != nil {
		a.log.Warn("ecc: rollback failed", logkey.AccountID, ref, logkey.Error, err)
	}
}

// readBack confirms that customer no exists in the database.
func (a *Adapter) readBack(ctx context.Context, no, op string) error {
	res, err := a.caller.Call(ctx, fmGetDetail, map[string]any{"CUSTOMERNO": no})
	if err != nil {
		return &sap.Error{Kind: sap.Unknown, Op: fmGetDetail,
			Err: fmt.Errorf("reading back customer %s after %s: %w", no, op, err)}
	}
	msgs := returnMessages(res)
	switch a.classifier.Classify(msgs) {
	case sap.OutcomeSuccess:
		return nil
	case sap.OutcomeTransient:
		return &sap.Error{Kind: sap.Unknown, Op: fmGetDetail, Messages: msgs,
			Err: fmt.Errorf("reading back customer %s after %s failed, so the create is unconfirmed", no, op)}
	}
	return &sap.Error{Kind: sap.Permanent, Op: fmGetDetail, Messages: msgs,
		Err: fmt.Errorf("%w: %s returned customer %s: check that the create is committed in the same session (COMMIT WORK AND WAIT)", ErrNotCommitted, op, no)}
}

// check returns an *sap.Error when msgs make fm a failure.
func (a *Adapter) check(fm string, msgs []sap.Message) error {
	if kind := a.classifier.Classify(msgs).Kind(); kind != 0 {
		return &sap.Error{Kind: kind, Op: fm, Messages: msgs}
	}
	return nil
}

// customerNo returns the CUSTOMERNO of a create that RETURN calls a
// success. A success without a number is Unknown, because SAP may or may
// not have created a customer.
func customerNo(fm string, res map[string]any, msgs []sap.Message) (string, error) {
	no := sap.NormalizeCustomerNo(rfc.String(res, "CUSTOMERNO"))
	if no == "" {
		return "", &sap.Error{Kind: sap.Unknown, Op: fm, Messages: msgs,
			Err: errors.New("SAP returned neither a customer number nor an error")}
	}
	return no, nil
}

// createError keeps the Kind of an *sap.Error from the transport. Any
// other error of a create call is Unknown, because the caller cannot know
// whether SAP ran the call.
func createError(fm string, err error) error {
	var sapErr *sap.Error
	if errors.As(err, &sapErr) {
		return err
	}
	return &sap.Error{Kind: sap.Unknown, Op: fm, Err: err}
}
