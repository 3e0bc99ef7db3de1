package bench

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sapsim"
	"github.com/sfsap/sfsap/pkg/sfsim"
)

// convertTo is the Type that every bench conversion sets.
const convertTo = "Customer - Direct"

// Calls on the critical path of one sfsap conversion. On the Salesforce
// side they are the filter's record read and the write-back. On the SAP
// side the ecc adapter in wrapper mode looks the account up by external
// reference, creates it through the Z wrapper and reads the new number
// back.
const (
	sfCallsOnPath  = 2
	sapCallsOnPath = 3
)

// sapFunctions are the function modules whose calls the report counts.
var sapFunctions = []string{
	"BAPI_CUSTOMER_FIND", "Z_SFSAP_CUSTOMER_CREATE", "BAPI_CUSTOMER_GETDETAIL2",
	"BAPI_CUSTOMER_CREATEFROMDATA1", "Z_SFSAP_SET_EXTERNAL_REF", "BAPI_TRANSACTION_COMMIT",
}

// seedProspects creates n prospect Accounts with an address that the
// mapping and the SAP simulator accept, and returns their ids.
func seedProspects(store *sfsim.Store, label string, n int) ([]string, error) {
	ids := make([]string, 0, n)
	for i := range n {
		id, err := store.Create(map[string]any{
			"Name":              fmt.Sprintf("Bench %s %05d GmbH", label, i+1),
			"Type":              "Prospect",
			"BillingStreet":     "Friedrichstraße 100",
			"BillingCity":       "Berlin",
			"BillingPostalCode": "10117",
			"BillingCountry":    "Germany",
			"Phone":             "+49 30 5550 1000",
		}, sfsim.WriteOptions{})
		if err != nil {
			return nil, fmt.Errorf("seeding prospect %d: %w", i+1, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// convert turns one prospect into a customer, as a sales rep would in the
// Salesforce UI.
func convert(store *sfsim.Store, id string) error {
	if err := store.Update(id, map[string]any{"Type": convertTo}, sfsim.WriteOptions{}); err != nil {
		return fmt.Errorf("converting %s: %w", id, err)
	}
	return nil
}

// convertAll converts every id at once, each in its own transaction.
func convertAll(store *sfsim.Store, ids []string) error {
	for _, id := range ids {
		if err := convert(store, id); err != nil {
			return err
		}
	}
	return nil
}

// convertPaced converts ids evenly spread over span: conversion i happens
// at start + (i+0.5)*span/len(ids), so the times to the next poll of a
// poller started at start with interval span are uniform over the
// interval.
func convertPaced(ctx context.Context, store *sfsim.Store, ids []string, start time.Time, span time.Duration) error {
	step := span / time.Duration(len(ids))
	for i, id := range ids {
		at := start.Add(step/2 + time.Duration(i)*step)
		if err := sleepUntil(ctx, at); err != nil {
			return err
		}
		if err := convert(store, id); err != nil {
			return err
		}
	}
	return nil
}

func sleepUntil(ctx context.Context, at time.Time) error {
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// times are the moments of one conversion as the simulated org records
// them.
type times struct {
	// Committed is the commit of the Type change.
	Committed time.Time
	// Written is the first write of the SAP number.
	Written time.Time
}

// conversionTimes reads the commit of each account's last Type change and
// the first write of its SAP number from the change events after replay
// id after. Accounts without both are left out.
func conversionTimes(store *sfsim.Store, after int64, ids []string) map[string]times {
	sapField := account.DefaultFields().SAPID
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	out := map[string]times{}
	for _, ev := range store.EventsAfter(after, 0) {
		typeChange := slices.Contains(ev.Header.ChangedFields, "Type")
		sapWrite := slices.Contains(ev.Header.ChangedFields, sapField)
		if !typeChange && !sapWrite {
			continue
		}
		for _, id := range ev.Header.RecordIDs {
			if !want[id] {
				continue
			}
			t := out[id]
			if typeChange {
				t.Committed = ev.Published
			}
			if sapWrite && t.Written.IsZero() {
				t.Written = ev.Published
			}
			out[id] = t
		}
	}
	maps.DeleteFunc(out, func(_ string, t times) bool {
		return t.Committed.IsZero() || t.Written.IsZero()
	})
	return out
}

// counters are the simulators' request counts at one moment.
type counters struct {
	apiUsed int
	sfCalls map[string]int
	sap     map[string]int
}

func readCounters(sf *sfsim.Server, sap *sapsim.Server) counters {
	used, _ := sf.APIUsage()
	c := counters{apiUsed: used, sfCalls: sf.Calls(), sap: map[string]int{}}
	for _, fm := range sapFunctions {
		c.sap[fm] = sap.Calls(fm)
	}
	return c
}

// callsSince returns the data API calls, the Salesforce requests by kind
// (CometD long polls left out, since they are no data API calls) and the
// SAP calls made since before.
func callsSince(before, after counters) (int, map[string]int, int) {
	kinds := map[string]int{}
	for kind, n := range after.sfCalls {
		if d := n - before.sfCalls[kind]; d > 0 && kind != "POST cometd" {
			kinds[kind] = d
		}
	}
	sapCalls := 0
	for fm, n := range after.sap {
		sapCalls += n - before.sap[fm]
	}
	return after.apiUsed - before.apiUsed, kinds, sapCalls
}

// phase contains the measurements of one batch of conversions through
// sfsap.
type phase struct {
	Latency  []time.Duration
	Overhead []time.Duration
	First    time.Time // first commit
	Last     time.Time // last write of an SAP number
	Synced   int
	Failed   int
	// CommitMismatch counts Results whose CommittedAt differs from the
	// commit time in the simulator by a millisecond or more.
	CommitMismatch int
	// Duplicates counts SAP customers beyond the first per account.
	Duplicates  int
	APICalls    int
	CallsByKind map[string]int
	SAPCalls    int
	Stages      []StageResult
	// CPU is the CPU time each process used in the phase, by program
	// name, with benchProcess for this process.
	CPU map[string]time.Duration
	// NATSIn and NATSOut count the messages nats-server received from
	// its clients and sent to them in the phase.
	NATSIn, NATSOut int64
	// OtherCPUs is the CPU time that programs outside the bench used per
	// second of the phase, in CPUs.
	OtherCPUs float64
}

// runPhase converts ids with drive, waits for every Result and for the
// pipeline to go idle, and measures the conversions.
func (e *env) runPhase(ctx context.Context, ids []string, timeout time.Duration, s Settings, drive func() error) (phase, error) {
	pathTime := s.pathTime()
	store := e.sims.Salesforce.Store()
	after := store.LatestReplayID()
	before := readCounters(e.sims.Salesforce, e.sims.SAP)
	cpuBefore, err := e.cpuTimes()
	if err != nil {
		return phase{}, err
	}
	inBefore, outBefore, err := e.nats.messageCounts(ctx)
	if err != nil {
		return phase{}, err
	}
	busyBefore, err := machineBusy()
	if err != nil {
		return phase{}, err
	}
	wallBefore := time.Now()
	e.trace.reset()

	if err := drive(); err != nil {
		return phase{}, err
	}
	results, err := e.results.wait(ctx, ids, timeout, e.healthy)
	if err != nil {
		return phase{}, err
	}
	// The write-backs' own change events pass the filter too; they cost
	// no calls, but waiting keeps them out of the next phase.
	if err := e.waitIdle(ctx, timeout); err != nil {
		return phase{}, err
	}

	var p phase
	cpuAfter, err := e.cpuTimes()
	if err != nil {
		return phase{}, err
	}
	p.CPU = map[string]time.Duration{}
	for name, d := range cpuAfter {
		p.CPU[name] = d - cpuBefore[name]
	}
	inAfter, outAfter, err := e.nats.messageCounts(ctx)
	if err != nil {
		return phase{}, err
	}
	p.NATSIn, p.NATSOut = inAfter-inBefore, outAfter-outBefore
	busyAfter, err := machineBusy()
	if err != nil {
		return phase{}, err
	}
	other := busyAfter - busyBefore
	for _, d := range p.CPU {
		other -= d
	}
	p.OtherCPUs = max(other.Seconds(), 0) / time.Since(wallBefore).Seconds()
	p.APICalls, p.CallsByKind, p.SAPCalls = callsSince(before, readCounters(e.sims.Salesforce, e.sims.SAP))
	conv := conversionTimes(store, after, ids)
	p.Stages = e.trace.stages(conv, ids, s)
	for _, id := range ids {
		if n := e.sims.SAP.CountByExternalRef(id); n > 1 {
			p.Duplicates += n - 1
		}
		r := results[id]
		t, ok := conv[id]
		if !ok || (r.Outcome != msg.OutcomeSynced && r.Outcome != msg.OutcomeAdopted) {
			p.Failed++
			continue
		}
		p.Synced++
		if d := r.CommittedAt.Sub(t.Committed); d >= time.Millisecond || d <= -time.Millisecond {
			p.CommitMismatch++
		}
		latency := t.Written.Sub(t.Committed)
		p.Latency = append(p.Latency, latency)
		p.Overhead = append(p.Overhead, latency-pathTime)
		if p.First.IsZero() || t.Committed.Before(p.First) {
			p.First = t.Committed
		}
		if t.Written.After(p.Last) {
			p.Last = t.Written
		}
	}
	return p, nil
}
