package operator

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Usage describes the commands of sfsapctl.
const Usage = `usage: sfsapctl [--config file] [--json] <command> [arguments]

commands:
  journey <account-id>                    an account's change events, ledger history,
                                          pending jobs, dead letters and results in time order
  dlq list [--stage s] [--account id]     dead letters, oldest first
  dlq retry <account-id> | --all [--stage s] [--refresh]
                                          publish dead letters' original messages again
                                          and remove the dead letters
  replay --since <time> | --seq <n> | --account <id>
                                          publish stored change events to the filter again
  audit [--account id] [--since time]     results of the audit trail

A time is RFC 3339 (2026-01-02T15:04:05Z) or a duration back from now (90m, 2h).
`

// ErrUsage marks a command line that names no known command or has
// invalid arguments.
var ErrUsage = errors.New("invalid command line")

// Command runs one sfsapctl command, given without the global flags, and
// writes its output to out: a table, or JSON when asJSON is set.
func Command(ctx context.Context, o *Operator, args []string, asJSON bool, out io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command given\n\n%s", ErrUsage, Usage)
	}
	w := writer{out: out, json: asJSON}
	switch args[0] {
	case "journey":
		return journeyCommand(ctx, o, args[1:], w)
	case "dlq":
		if len(args) < 2 {
			return fmt.Errorf("%w: dlq needs list or retry\n\n%s", ErrUsage, Usage)
		}
		switch args[1] {
		case "list":
			return dlqListCommand(ctx, o, args[2:], w)
		case "retry":
			return dlqRetryCommand(ctx, o, args[2:], w)
		}
		return fmt.Errorf("%w: unknown dlq command %q: use list or retry", ErrUsage, args[1])
	case "replay":
		return replayCommand(ctx, o, args[1:], w)
	case "audit":
		return auditCommand(ctx, o, args[1:], w)
	}
	return fmt.Errorf("%w: unknown command %q\n\n%s", ErrUsage, args[0], Usage)
}

// NeedsSalesforce reports whether the command line needs Account data from
// Salesforce, which only dlq retry --refresh does.
func NeedsSalesforce(args []string) bool {
	if len(args) < 2 || args[0] != "dlq" || args[1] != "retry" {
		return false
	}
	for _, a := range args[2:] {
		if a == "--refresh" || a == "-refresh" || strings.HasPrefix(a, "--refresh=") {
			return true
		}
	}
	return false
}

func journeyCommand(ctx context.Context, o *Operator, args []string, w writer) error {
	fs := newFlags("journey")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("%w: journey takes one account id", ErrUsage)
	}
	j, err := o.Journey(ctx, rest[0])
	if err != nil {
		return err
	}
	if w.json {
		return w.encode(j)
	}
	rows := [][]string{{"TIME", "KIND", "DETAIL"}}
	for _, s := range j.Steps {
		rows = append(rows, []string{s.At.UTC().Format(time.RFC3339Nano), s.Kind, s.Detail})
	}
	w.table(rows)
	if len(j.Steps) == 0 {
		fmt.Fprintf(w.out, "nothing stored for account %s\n", j.AccountID)
	}
	return nil
}

func dlqListCommand(ctx context.Context, o *Operator, args []string, w writer) error {
	fs := newFlags("dlq list")
	stage := fs.String("stage", "", "list only dead letters of this stage (listener, filter, sapworker, writeback, notifier)")
	acct := fs.String("account", "", "list only dead letters of this Account id")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: dlq list takes no arguments besides its flags, got %q", ErrUsage, rest)
	}
	dls, err := o.DeadLetters(ctx, *stage, *acct)
	if err != nil {
		return err
	}
	if w.json {
		return w.encode(dls)
	}
	rows := [][]string{{"SEQ", "TIME", "STAGE", "ACCOUNT", "ATTEMPTS", "CODE", "REASON"}}
	for _, d := range dls {
		rows = append(rows, []string{strconv.FormatUint(d.Seq, 10), d.At.UTC().Format(time.RFC3339), d.Stage, d.AccountID,
			strconv.Itoa(d.Attempts), orDash(d.Code), d.Reason})
	}
	w.table(rows)
	fmt.Fprintf(w.out, "%d dead letters\n", len(dls))
	return nil
}

func dlqRetryCommand(ctx context.Context, o *Operator, args []string, w writer) error {
	fs := newFlags("dlq retry")
	all := fs.Bool("all", false, "retry every dead letter (of --stage, if given)")
	stage := fs.String("stage", "", "retry only dead letters of this stage")
	refresh := fs.Bool("refresh", false, "rebuild create jobs from the Account's current data in Salesforce")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}

	opts := RetryOptions{All: *all, Stage: *stage, Refresh: *refresh}
	switch {
	case len(rest) == 1 && !*all:
		opts.AccountID = rest[0]
	case len(rest) == 0 && *all:
	default:
		return fmt.Errorf("%w: dlq retry takes one account id or --all", ErrUsage)
	}

	res, err := o.Retry(ctx, opts)
	if w.json {
		if jerr := w.encode(res); jerr != nil {
			return errors.Join(err, jerr)
		}
		return err
	}
	rows := [][]string{{"SEQ", "STAGE", "ACCOUNT", "SUBJECT", "OUTCOME", "DETAIL"}}
	for _, r := range res {
		rows = append(rows, []string{strconv.FormatUint(r.Seq, 10), r.Stage, r.AccountID, r.Subject, r.Outcome, r.Detail})
	}
	w.table(rows)
	fmt.Fprintf(w.out, "%d dead letters retried\n", count(res, func(r RetryResult) bool { return r.Outcome != RetrySkipped }))
	return err
}

func replayCommand(ctx context.Context, o *Operator, args []string, w writer) error {
	fs := newFlags("replay")
	since := fs.String("since", "", "replay events stored at or after this time (RFC 3339, or a duration back from now such as 2h)")
	seq := fs.Uint64("seq", 0, "replay events from this stream sequence on")
	acct := fs.String("account", "", "replay only this Account id's events")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: replay takes no arguments besides its flags, got %q", ErrUsage, rest)
	}
	opts := ReplayOptions{Seq: *seq, AccountID: *acct}
	if *since != "" {
		if opts.Since, err = parseTime(*since, o.now()); err != nil {
			return err
		}
	}
	rep, err := o.Replay(ctx, opts)
	if err != nil {
		return err
	}
	if w.json {
		return w.encode(rep)
	}
	fmt.Fprintf(w.out, "%d change events read: %d published again, %d replayed within the last hour already, %d earlier replays left out\n",
		rep.Read, rep.Republished, rep.Duplicates, rep.Skipped)
	return nil
}

func auditCommand(ctx context.Context, o *Operator, args []string, w writer) error {
	fs := newFlags("audit")
	acct := fs.String("account", "", "list only this Account id's results")
	since := fs.String("since", "", "list results stored at or after this time (RFC 3339, or a duration back from now such as 24h)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: audit takes no arguments besides its flags, got %q", ErrUsage, rest)
	}

	var from time.Time
	if *since != "" {
		if from, err = parseTime(*since, o.now()); err != nil {
			return err
		}
	}
	entries, err := o.Audit(ctx, *acct, from)
	if err != nil {
		return err
	}
	if w.json {
		return w.encode(entries)
	}
	rows := [][]string{{"TIME", "ACCOUNT", "OUTCOME", "SAP CUSTOMER", "STAGE", "REASON"}}
	for _, e := range entries {
		rows = append(rows, []string{e.At.UTC().Format(time.RFC3339), e.AccountID, e.Outcome, orDash(e.SAPCustomer), e.Stage, e.Reason})
	}
	w.table(rows)
	fmt.Fprintf(w.out, "%d results\n", len(entries))
	return nil
}

// parseTime reads an RFC 3339 time or a duration back from now.
func parseTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%w: invalid time %q: use RFC 3339 such as 2026-01-02T15:04:05Z, or a duration such as 2h", ErrUsage, s)
}

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses flags and arguments in any order.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrUsage, fs.Name(), err)
		}
		if fs.NArg() == 0 {
			return rest, nil
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// writer writes tables or JSON.
type writer struct {
	out  io.Writer
	json bool
}

func (w writer) encode(v any) error {
	enc := json.NewEncoder(w.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (w writer) table(rows [][]string) {
	tw := tabwriter.NewWriter(w.out, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	_ = tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func count[T any](xs []T, f func(T) bool) int {
	n := 0
	for _, x := range xs {
		if f(x) {
			n++
		}
	}
	return n
}
