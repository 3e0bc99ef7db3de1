package reconciler_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/setup"
	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/pkg/sfsim"
	"github.com/sfsap/sfsap/services/allinone"
	"github.com/sfsap/sfsap/services/writeback"
	"github.com/sfsap/sfsap/test/natstest"
)

// salesRep makes the test's edits look like a user's, not sfsap's own.
const salesRep = "005Hx00000RepUsIAA"

// sims starts both simulators and returns a config pointed at them.
func sims(t *testing.T) (*allinone.Simulators, config.Config) {
	t.Helper()
	s, err := allinone.StartSimulators()
	if err != nil {
		t.Fatalf("starting simulators: %v", err)
	}
	t.Cleanup(s.Close)
	cfg, err := config.Load("", []string{"X=1"})
	if err != nil {
		t.Fatalf("loading default config: %v", err)
	}
	s.Configure(&cfg)
	cfg.NATS.StoreDir = t.TempDir()
	return s, cfg
}

// salesforce logs in to the simulator.
func salesforce(t *testing.T, cfg config.Config, log *slog.Logger) *sfclient.Client {
	t.Helper()
	sf, err := setup.Salesforce(context.Background(), cfg.Salesforce, log)
	if err != nil {
		t.Fatalf("logging in to the Salesforce simulator: %v", err)
	}
	return sf
}

// convert creates a prospect in the simulator and turns it into a
// customer, as a sales rep would, and returns its id.
func convert(t *testing.T, store *sfsim.Store, name string) string {
	t.Helper()
	rep := sfsim.WriteOptions{User: salesRep}
	id, err := store.Create(map[string]any{
		"Name": name, "Type": "Prospect", "BillingStreet": "2210 Lakeshore Drive", "BillingCity": "Madison",
		"BillingState": "WI", "BillingPostalCode": "53703", "BillingCountry": "USA",
	}, rep)
	if err != nil {
		t.Fatalf("creating Account %s: %v", name, err)
	}
	if err := store.Update(id, map[string]any{"Type": "Customer"}, rep); err != nil {
		t.Fatalf("converting Account %s: %v", name, err)
	}
	return id
}

// waitFor polls cond until it holds or 60s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 60s waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// run runs each service until the test ends.
func run(t *testing.T, svcs ...interface{ Run(context.Context) error }) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, svc := range svcs {
		wg.Go(func() {
			if err := svc.Run(ctx); err != nil {
				t.Errorf("%T: Run: %v", svc, err)
			}
		})
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

// stored returns the messages of stream under subject.
func stored(t *testing.T, js jetstream.JetStream, stream, subject string) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("opening stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("reading stream %s: %v", stream, err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("reading %s message %d: %v", stream, seq, err)
		}
		if subject == "" || m.Subject == subject {
			out = append(out, m)
		}
	}
	return out
}

// deadLetters returns the dead letters of stage for account id.
func deadLetters(t *testing.T, js jetstream.JetStream, stage, id string) []msg.DeadLetter {
	t.Helper()
	var out []msg.DeadLetter
	for _, m := range stored(t, js, bus.StreamDLQ, bus.DeadLetterSubject(stage, id)) {
		var dl msg.DeadLetter
		if err := json.Unmarshal(m.Data, &dl); err != nil {
			t.Fatalf("decoding dead letter: %v", err)
		}
		out = append(out, dl)
	}
	return out
}

// logCapture is a slog handler that keeps every record's text and logs
// it to the test.
type logCapture struct {
	t     *testing.T
	mu    *sync.Mutex
	lines *[]string
	attrs []slog.Attr
}

func newLogCapture(t *testing.T) *logCapture {
	return &logCapture{t: t, mu: &sync.Mutex{}, lines: &[]string{}}
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }

func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	for _, a := range c.attrs {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	c.mu.Lock()
	*c.lines = append(*c.lines, b.String())
	c.mu.Unlock()
	c.t.Log(b.String())
	return nil
}

func (c *logCapture) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := *c
	out.attrs = append(append([]slog.Attr{}, c.attrs...), attrs...)
	return &out
}

func (c *logCapture) WithGroup(string) slog.Handler { return c }

// count returns the number of records whose text contains s.
func (c *logCapture) count(s string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, l := range *c.lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// newWriteback returns a writeback service on b writing to sf.
func newWriteback(ctx context.Context, cfg config.Config, b *natstest.Bundle, sf *sfclient.Client, log *slog.Logger) (*writeback.Service, error) {
	return writeback.New(ctx, cfg.Writeback, b.JS, sf, setup.SalesforceErrors{}, log)
}
