package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http/httptest"
	"slices"
	"time"
)

// measurement is one function's figures: the cold starts of fresh instances and the round trips of
// warm invocations of one instance, each with a cheap event.
type measurement struct {
	name        string
	cold, inits []time.Duration
	warm        []time.Duration
	peak        int64 // the warm instance's peak resident memory, bytes
	memoryMB    int   // the function's MemorySize
}

// measure starts cold fresh instances of every function, one after another, then invokes one warm
// instance warm times, each with a cheap event (GET /api/health through the function's own event
// shape, an empty SQS batch, the scheduled event), and returns the figures by function name.
func (g *gateway) measure(ctx context.Context, cold, warm int) ([]measurement, error) {
	var out []measurement
	for _, name := range slices.Sorted(maps.Keys(g.pools)) {
		base := g.pools[name]
		event, err := cheapEvent(base.fn, g.edgeSecret)
		if err != nil {
			return nil, err
		}
		m := measurement{name: name}
		for range cold {
			p := newPool(base.fn, base.bootstrap, base.env)
			err := invokeDiscard(ctx, p, event)
			m.cold = append(m.cold, p.ColdStarts()...)
			m.inits = append(m.inits, p.InitDurations()...)
			p.Close()
			if err != nil {
				return nil, fmt.Errorf("%s, cold: %w", name, err)
			}
		}
		p := newPool(base.fn, base.bootstrap, base.env)
		if err := invokeDiscard(ctx, p, event); err != nil { // the cold start, not counted
			p.Close()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for range warm {
			start := time.Now()
			if err := invokeDiscard(ctx, p, event); err != nil {
				p.Close()
				return nil, fmt.Errorf("%s, warm: %w", name, err)
			}
			m.warm = append(m.warm, time.Since(start))
		}
		m.peak, m.memoryMB = p.PeakResident(), base.fn.MemoryMB
		p.Close()
		out = append(out, m)
	}
	return out, nil
}

// invokeDiscard invokes p and reads the whole answer.
func invokeDiscard(ctx context.Context, p *pool, event []byte) error {
	resp, err := p.Invoke(ctx, event)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// cheapEvent is an event the function answers without work: GET /api/health as its HTTP API route or
// function URL would send it (with the edge secret CloudFront adds), an empty SQS batch, or the
// scheduled event (whose answer includes the run it starts).
func cheapEvent(f *Function, edgeSecret string) ([]byte, error) {
	switch {
	case len(f.SQS) > 0:
		return []byte(`{"Records":[]}`), nil
	case len(f.Schedules) > 0:
		s, err := newScheduler([]*Function{f}, nil)
		if err != nil {
			return nil, err
		}
		return s.event(s.events[f.Schedules[0].Event]), nil
	}
	r := httptest.NewRequest("GET", "/api/health", nil)
	r.Header.Set("X-Origin-Verify", edgeSecret)
	key := "$default"
	if f.URL == nil {
		key = "GET /api/health"
	}
	now := time.Now()
	ev := newHTTPEvent(r, nil, key, "measure", now)
	addForwardedHeaders(ev, r, now)
	return json.Marshal(ev)
}

// median returns the middle of ds (the upper middle for an even count).
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// writeMeasurements writes the figures as a Markdown section.
func writeMeasurements(w io.Writer, ms []measurement, cold, warm int) {
	fmt.Fprintln(w, "## Functions under the gateway: cold and warm")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Each function's own bootstrap (built for this machine) run by `make gateway`'s Lambda Runtime API, with a cheap event: GET /api/health in the function's own event shape (payload 2.0 or function URL, with the edge header), an empty SQS batch for compatworker, the scheduled event for rematch. Cold start: process start to first answer, median of %d fresh instances; init: process start to the first request for an event (Lambda's Init Duration). Warm: round trip of an invocation through the Runtime API, median and 99th percentile of %d on one instance. Target: every function ≤ 100 ms cold. rematch's first answer includes the nightly run it starts (14 demo personas), so its init is what compares. Peak memory: the warm instance's peak resident set (VmHWM, what Lambda's REPORT line calls Max Memory Used) after its invocations, against the function's MemorySize in template.yaml.\n", cold, warm)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| function | cold start (median) | init (median) | warm p50 | warm p99 | cold ≤ 100 ms | peak memory / MemorySize |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|:---:|---:|")
	for _, m := range ms {
		coldMed, initMed := median(m.cold), median(m.inits)
		warm := slices.Clone(m.warm)
		slices.Sort(warm)
		verdict := "yes"
		limit := coldMed
		if m.name == "RematchFunction" {
			limit = initMed
		}
		if limit > 100*time.Millisecond {
			verdict = "**no**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %.1f MB / %d MB |\n", m.name, msec(coldMed), msec(initMed),
			msec(warm[len(warm)/2]), msec(warm[len(warm)*99/100]), verdict, float64(m.peak)/(1<<20), m.memoryMB)
	}
}

func msec(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
