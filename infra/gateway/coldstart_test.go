package main

import (
	"context"
	"strings"
	"testing"
)

// TestMeasure measures every function of template.yaml once cold and twice warm, as make bench does
// with larger counts, and checks the table names each with its figures.
func TestMeasure(t *testing.T) {
	g, _ := startGateway(t)
	ms, err := g.measure(context.Background(), 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != len(g.pools) {
		t.Fatalf("%d functions measured, want %d", len(ms), len(g.pools))
	}
	var table strings.Builder
	writeMeasurements(&table, ms, 1, 2)
	for _, m := range ms {
		if len(m.cold) != 1 || len(m.inits) != 1 || len(m.warm) != 2 || m.cold[0] <= 0 || m.inits[0] > m.cold[0] {
			t.Errorf("%s: cold %v, inits %v, warm %v", m.name, m.cold, m.inits, m.warm)
		}
		if m.peak <= 0 || m.peak > int64(m.memoryMB)<<20 {
			t.Errorf("%s: peak memory %d bytes, want some and at most its MemorySize %d MB", m.name, m.peak, m.memoryMB)
		}
		if !strings.Contains(table.String(), "| "+m.name+" | ") {
			t.Errorf("the table has no row for %s:\n%s", m.name, table.String())
		}
	}
	t.Logf("\n%s", table.String())
}
