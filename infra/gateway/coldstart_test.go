package main

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestColdStarts measures each function's cold start under the gateway (process start to first
// answer, with a cheap event: GET /api/health, an empty SQS batch, the scheduled event; and its init,
// process start to the first request for an event) on
// GATEWAY_COLD_STARTS fresh instances each, and logs the median. It runs only when asked:
//
//	GATEWAY_COLD_STARTS=5 go test -run TestColdStarts -v ./infra/gateway/
func TestColdStarts(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("GATEWAY_COLD_STARTS"))
	if n <= 0 {
		t.Skip("set GATEWAY_COLD_STARTS=<instances per function> to measure cold starts")
	}
	g, _ := startGateway(t)
	b, err := os.ReadFile(filepath.Join(g.dataDir, "gateway", "secret.json"))
	if err != nil {
		t.Fatal(err)
	}
	var secret map[string]string
	if err := json.Unmarshal(b, &secret); err != nil {
		t.Fatal(err)
	}
	for _, name := range slices.Sorted(maps.Keys(g.pools)) {
		warm := g.pools[name]
		event := coldStartEvent(t, warm.fn, secret["originVerify"])
		var cold, inits []time.Duration
		for range n {
			p := newPool(warm.fn, warm.bootstrap, warm.env)
			resp, err := p.Invoke(context.Background(), event)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			cold = append(cold, p.ColdStarts()...)
			inits = append(inits, p.InitDurations()...)
			p.Close()
		}
		slices.Sort(cold)
		slices.Sort(inits)
		t.Logf("%-22s cold start median %4d ms (min %d, max %d, n=%d); init median %d ms", name, cold[len(cold)/2].Milliseconds(),
			cold[0].Milliseconds(), cold[len(cold)-1].Milliseconds(), len(cold), inits[len(inits)/2].Milliseconds())
	}
}

// coldStartEvent is a cheap event for the function.
func coldStartEvent(t *testing.T, f *Function, edgeSecret string) []byte {
	t.Helper()
	switch {
	case len(f.SQS) > 0:
		return []byte(`{"Records":[]}`)
	case len(f.Schedules) > 0:
		s, _ := newScheduler([]*Function{f}, nil)
		return s.event(s.events[f.Schedules[0].Event])
	}
	r := httptest.NewRequest("GET", "/api/health", nil)
	r.Header.Set("X-Origin-Verify", edgeSecret)
	key := "$default"
	if f.URL == nil {
		key = "GET /api/health"
	}
	ev := newHTTPEvent(r, nil, key, "cold", time.Now())
	addForwardedHeaders(ev, r, time.Now())
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
