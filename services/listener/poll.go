package listener

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/logkey"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/pkg/sfid"
)

// PollConfig configures the SOQL polling source for orgs without Change
// Data Capture.
type PollConfig struct {
	// Interval is the pause between two polls. Defaults to 30s.
	Interval time.Duration `yaml:"interval"`
	// Overlap is how far before the cursor each poll starts reading again,
	// so a record that commits late with an earlier SystemModstamp is
	// still seen. Records read twice are dropped by the message id.
	// Defaults to 5m.
	Overlap time.Duration `yaml:"overlap"`
	// PageSize is the LIMIT of one query; a poll reads page after page
	// with a keyset cursor until a page comes back short. Defaults to 200.
	PageSize int `yaml:"page_size"`
	// SlowDownAbove is the share of the org's daily API limit above which
	// polls wait SlowInterval instead of Interval, as they do after
	// REQUEST_LIMIT_EXCEEDED. Defaults to 0.9; 1 or more turns it off.
	SlowDownAbove float64 `yaml:"slow_down_above"`
	// SlowInterval is the pause between polls while usage is above
	// SlowDownAbove. Defaults to four times Interval.
	SlowInterval time.Duration `yaml:"slow_interval"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c PollConfig) WithDefaults() PollConfig {
	if c.Interval == 0 {
		c.Interval = 30 * time.Second
	}
	if c.Overlap == 0 {
		c.Overlap = 5 * time.Minute
	}
	if c.PageSize == 0 {
		c.PageSize = 200
	}
	if c.SlowDownAbove == 0 {
		c.SlowDownAbove = 0.9
	}
	if c.SlowInterval == 0 {
		c.SlowInterval = 4 * c.Interval
	}
	return c
}

// Validate reports the first invalid setting.
func (c PollConfig) Validate() error {
	switch {
	case c.Interval <= 0 || c.Overlap < 0 || c.SlowInterval < c.Interval:
		return fmt.Errorf("listener: poll interval %s, overlap %s and slow_interval %s are invalid: use a positive interval, an overlap of 0 or more and a slow_interval of at least the interval", c.Interval, c.Overlap, c.SlowInterval)
	case c.PageSize < 1 || c.PageSize > 2000:
		return fmt.Errorf("listener: poll page_size %d is out of range: use 1 to 2000", c.PageSize)
	}
	return nil
}

// PollSalesforce is the part of the Salesforce client that the polling
// source uses.
type PollSalesforce interface {
	// QueryAccounts runs a SOQL query and returns every record.
	QueryAccounts(ctx context.Context, soql string) ([]map[string]any, error)
	// Usage returns the org's API usage from the newest response.
	Usage() sfclient.Usage
}

// PollSource is a Source that finds changed customer Accounts by SOQL, for
// orgs where Change Data Capture is not available. Each poll reads the
// customer Accounts without an SAP number whose SystemModstamp is at or
// after the cursor less the overlap, ordered by (SystemModstamp, Id). It
// delivers each as a GAP_UPDATE change, so the filter reads the record
// again and decides as it does for a gap event. A poll returns the current
// state but not what changed.
//
// The position is the cursor: the greatest (SystemModstamp, Id) seen. A
// record delivered twice, by the overlap or after a restart, carries the
// same message id, which is derived from its SystemModstamp, so JetStream
// stores it once within the stream's duplicate window.
type PollSource struct {
	SF     PollSalesforce
	Config PollConfig
	// Fields names the custom Account fields. Defaults to
	// account.DefaultFields.
	Fields account.Fields
	// CustomerTypes are the Type values of customers. Defaults to
	// account.DefaultCustomerTypes.
	CustomerTypes []string
	// IntegrationUser is sfsap's Salesforce user id. A record that this
	// user modified last and whose sync status is Failed is skipped,
	// because that change is sfsap's own failure write-back.
	IntegrationUser string
	// Earliest starts without a stored position from the oldest record;
	// otherwise polling starts at the current time less the overlap.
	Earliest bool
	Logger   *slog.Logger
}

// pollCursor is the position of a PollSource.
type pollCursor struct {
	Modstamp time.Time `json:"system_modstamp"`
	ID       string    `json:"id"`
}

func (c pollCursor) after(other pollCursor) bool {
	if !c.Modstamp.Equal(other.Modstamp) {
		return c.Modstamp.After(other.Modstamp)
	}
	return c.ID > other.ID
}

// soqlTimeLayout is the form of datetime literals in SOQL.
const soqlTimeLayout = "2006-01-02T15:04:05.000Z"

// pollEpoch starts a poll that reads every record; SOQL datetime literals
// before it are not needed for records.
var pollEpoch = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// Transport returns "poll".
func (s *PollSource) Transport() string { return "poll" }

// Subscribe implements Source. It polls until ctx ends or the handler
// fails. A failed query is logged and tried again at the next poll.
func (s *PollSource) Subscribe(ctx context.Context, from []byte, handle func(ctx context.Context, ev Event) error) error {
	cfg := s.Config.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	cursor, err := s.start(from, cfg)
	if err != nil {
		return err
	}
	slow := false
	for {
		limited := false
		if err := s.poll(ctx, cfg, &cursor, handle); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if _, isHandler := err.(*handlerError); isHandler {
				return err
			}
			limited = sfclient.IsLimitError(err)
			log.Warn("listener: poll failed; trying again at the next poll", logkey.Error, err)
		}

		wait := cfg.Interval
		usage := s.SF.Usage()
		nearLimit := limited || usage.Fraction() >= cfg.SlowDownAbove
		if nearLimit {
			wait = cfg.SlowInterval
		}
		if nearLimit != slow {
			slow = nearLimit
			log.Info("listener: poll interval changed with the org's API usage", "interval", wait, "api_used", usage.Used, "api_limit", usage.Limit)
		}
		if err := sleepCtx(ctx, wait); err != nil {
			return err
		}
	}
}

// start returns the cursor to poll from: the stored one, or the preset.
func (s *PollSource) start(from []byte, cfg PollConfig) (pollCursor, error) {
	if len(from) > 0 {
		var c pollCursor
		if err := json.Unmarshal(from, &c); err != nil || c.Modstamp.IsZero() {
			return pollCursor{}, fmt.Errorf("%w: stored poll cursor %q is not a SystemModstamp and Id: %v", ErrPositionRejected, from, err)
		}
		return c, nil
	}
	if s.Earliest {
		return pollCursor{Modstamp: pollEpoch}, nil
	}
	// The overlap of the first poll covers the clock difference between
	// this host and Salesforce.
	return pollCursor{Modstamp: time.Now().UTC()}, nil
}

// handlerError marks a failure of the handler, which ends Subscribe so
// the listener retries from the stored position.
type handlerError struct{ err error }

func (e *handlerError) Error() string { return e.err.Error() }
func (e *handlerError) Unwrap() error { return e.err }

// poll reads every page after the cursor less the overlap and hands each
// record to handle, advancing cursor past the records it accepted.
func (s *PollSource) poll(ctx context.Context, cfg PollConfig, cursor *pollCursor, handle func(context.Context, Event) error) error {
	since := cursor.Modstamp.Add(-cfg.Overlap)
	if since.Before(pollEpoch) {
		since = pollEpoch
	}
	var page *pollCursor
	for {
		recs, err := s.SF.QueryAccounts(ctx, s.query(cfg, since, page))
		if err != nil {
			return fmt.Errorf("polling Accounts changed since %s: %w", since.Format(soqlTimeLayout), err)
		}
		for _, rec := range recs {
			key, change, skip, err := s.change(rec)
			if err != nil {
				return err
			}
			page = &key
			next := *cursor
			if key.after(next) {
				next = key
			}
			ev := Event{Position: encodeCursor(next)}
			if !skip {
				ev.Changes = []msg.AccountChange{change}
			}
			if err := handle(ctx, ev); err != nil {
				return &handlerError{err}
			}
			*cursor = next
		}
		if len(recs) < cfg.PageSize {
			return nil
		}
	}
}

// query returns the SOQL of one page: the first page starts at since,
// later ones after the last record of the page before.
func (s *PollSource) query(cfg PollConfig, since time.Time, after *pollCursor) string {
	f := s.Fields.WithDefaults()
	types := s.CustomerTypes
	if len(types) == 0 {
		types = account.DefaultCustomerTypes
	}
	quoted := make([]string, len(types))
	for i, t := range types {
		quoted[i] = soqlString(t)
	}
	where := "SystemModstamp >= " + since.UTC().Format(soqlTimeLayout)
	if after != nil {
		at := after.Modstamp.UTC().Format(soqlTimeLayout)
		where = fmt.Sprintf("(SystemModstamp > %s OR (SystemModstamp = %s AND Id > %s))", at, at, soqlString(after.ID))
	}
	return fmt.Sprintf("SELECT Id, SystemModstamp, LastModifiedById, %s, %s FROM Account WHERE %s AND Type IN (%s) AND %s = null ORDER BY SystemModstamp, Id LIMIT %d",
		f.SAPID, f.SyncStatus, where, strings.Join(quoted, ", "), f.SAPID, cfg.PageSize)
}

// change turns a polled record into its cursor key and a GAP_UPDATE
// change, and reports whether the record is sfsap's own failure
// write-back, which is skipped.
func (s *PollSource) change(rec map[string]any) (pollCursor, msg.AccountChange, bool, error) {
	id, _ := rec["Id"].(string)
	id18, err := sfid.To18(id)
	if err != nil {
		return pollCursor{}, msg.AccountChange{}, false, fmt.Errorf("polled record has an invalid Id %q: %w", id, err)
	}
	stampText, _ := rec["SystemModstamp"].(string)
	stamp, err := sfclient.ParseTime(stampText)
	if err != nil {
		return pollCursor{}, msg.AccountChange{}, false, fmt.Errorf("polled record %s has an invalid SystemModstamp %q: %w", id18, stampText, err)
	}
	user, _ := rec["LastModifiedById"].(string)
	status, _ := rec[s.Fields.WithDefaults().SyncStatus].(string)
	echo := s.IntegrationUser != "" && sfid.Equal(user, s.IntegrationUser) && status == account.StatusFailed

	change := msg.AccountChange{
		Schema:          msg.SchemaAccountChange,
		AccountID:       id18,
		ChangeType:      msg.ChangeGapUpdate,
		ChangedFields:   []string{},
		TransactionKey:  "poll-" + strconv.FormatInt(stamp.UnixMilli(), 10),
		SequenceNumber:  1,
		CommitTimestamp: stamp,
		CommitUser:      user,
	}
	return pollCursor{Modstamp: stamp, ID: id18}, change, echo, nil
}

func encodeCursor(c pollCursor) []byte {
	b, _ := json.Marshal(pollCursor{Modstamp: c.Modstamp.UTC(), ID: c.ID})
	return b
}

// soqlString quotes s as a SOQL string literal.
func soqlString(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
