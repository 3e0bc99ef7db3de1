package filter_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/cometd"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/setup"
	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/pkg/sfsim"
	"github.com/sfsap/sfsap/services/filter"
	"github.com/sfsap/sfsap/services/listener"
	"github.com/sfsap/sfsap/test/natstest"
)

// waitLimit bounds how long a test waits before it fails instead of
// hanging. It is a guard, not a latency requirement.
const waitLimit = 30 * time.Second

// pipeline is the listener and the filter on a real NATS server, fed by
// the simulator's CometD endpoint.
type pipeline struct {
	sim  *sfsim.Server
	sf   *sfclient.Client
	nats *natstest.Bundle
}

type options struct {
	topology bus.Topology
	filter   filter.Config
	// preset is the replay preset of the listener: -2 replays every
	// retained event, -1 only new ones.
	preset int64
}

func startSim(t *testing.T) *sfsim.Server {
	t.Helper()
	sim := sfsim.New(sfsim.Options{})
	sim.Handle("/cometd/", sfsim.NewCometD(sim.Store(), sfsim.CometDOptions{
		ConnectTimeout: 2 * time.Second,
		Authorize: func(r *http.Request) error {
			_, err := sim.CheckToken(r)
			return err
		},
	}))
	if err := sim.Start(""); err != nil {
		t.Fatalf("starting simulator: %v", err)
	}
	t.Cleanup(sim.Close)
	return sim
}

// run starts the listener and the filter against sim.
func run(t *testing.T, sim *sfsim.Server, o options) *pipeline {
	t.Helper()
	log := testLogger(t)
	nb := natstest.Start(t, o.topology)
	sf, err := sfclient.New(context.Background(), sfclient.Config{
		LoginURL: sim.URL(), ClientID: "sfsim-client", ClientSecret: "sfsim-secret", Logger: log,
	})
	if err != nil {
		t.Fatalf("sfclient.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f, err := filter.New(ctx, o.filter, nb.JS, setup.FilterSalesforce{Client: sf}, log)
	if err != nil {
		cancel()
		t.Fatalf("filter.New: %v", err)
	}
	client, err := cometd.New(cometd.Config{
		BaseURL: sf.InstanceURL(), TokenSource: sf.AccessToken, TokenRejected: sf.TokenRejected,
		Logger: log, RetryBaseDelay: 10 * time.Millisecond, RetryMaxDelay: 100 * time.Millisecond,
	})
	if err != nil {
		cancel()
		t.Fatalf("cometd.New: %v", err)
	}
	preset := o.preset
	if preset == 0 {
		preset = -2
	}
	l, err := listener.New(ctx, listener.Config{LeaseTTL: 2 * time.Second}, nb.JS, &listener.CometDSource{Client: client, Preset: preset}, f, log)
	if err != nil {
		cancel()
		t.Fatalf("listener.New: %v", err)
	}
	done := make(chan struct{}, 2)
	for _, svc := range []interface{ Run(context.Context) error }{l, f} {
		go func() {
			if err := svc.Run(ctx); err != nil {
				t.Errorf("Run() = %v", err)
			}
			done <- struct{}{}
		}()
	}
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
	})
	return &pipeline{sim: sim, sf: sf, nats: nb}
}

// jobs returns the SAP create jobs stored in the job stream.
func (p *pipeline) jobs(t *testing.T) []msg.CreateJob {
	t.Helper()
	var out []msg.CreateJob
	for _, m := range streamMessages(t, p.nats.JS, bus.StreamSAPJobs) {
		var j msg.CreateJob
		if err := json.Unmarshal(m.Data, &j); err != nil {
			t.Fatalf("decoding create job: %v", err)
		}
		out = append(out, j)
	}
	return out
}

func (p *pipeline) jobIDs(t *testing.T) []string {
	var ids []string
	for _, j := range p.jobs(t) {
		ids = append(ids, j.AccountID)
	}
	slices.Sort(ids)
	return ids
}

// filtered returns how many account changes the filter has settled.
func (p *pipeline) filtered(t *testing.T) uint64 {
	t.Helper()
	c, err := p.nats.JS.Consumer(context.Background(), bus.StreamCDC, bus.ConsumerFilter)
	if err != nil {
		t.Fatalf("opening consumer: %v", err)
	}
	info, err := c.Info(context.Background())
	if err != nil {
		t.Fatalf("consumer info: %v", err)
	}
	return info.AckFloor.Stream
}

// settled waits until the filter has settled every change in the CDC
// stream, and at least want of them.
func (p *pipeline) settled(t *testing.T, want uint64) {
	t.Helper()
	eventually(t, "the filter to settle every change", func() bool {
		s, err := p.nats.JS.Stream(context.Background(), bus.StreamCDC)
		if err != nil {
			return false
		}
		info, err := s.Info(context.Background())
		if err != nil {
			return false
		}
		return info.State.Msgs >= want && p.filtered(t) == info.State.LastSeq
	})
}

func streamMessages(t *testing.T, js jetstream.JetStream, stream string) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("opening stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("stream %s info: %v", stream, err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		if m, err := s.GetMsg(ctx, seq); err == nil {
			out = append(out, m)
		}
	}
	return out
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func create(t *testing.T, sim *sfsim.Server, fields map[string]any) string {
	t.Helper()
	id, err := sim.Store().Create(fields, sfsim.WriteOptions{User: salesRep})
	if err != nil {
		t.Fatalf("Store.Create: %v", err)
	}
	return id
}

func update(t *testing.T, sim *sfsim.Server, id string, fields map[string]any, opts sfsim.WriteOptions) {
	t.Helper()
	if opts.User == "" {
		opts.User = salesRep
	}
	if err := sim.Store().Update(id, fields, opts); err != nil {
		t.Fatalf("Store.Update(%s): %v", id, err)
	}
}

// salesRep is the user of edits made in the Salesforce UI.
const salesRep = "005Hx00000RepUsIAA"

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
