package dynamostore

import (
	"fmt"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/store"
)

// TestTwinCacheBound checks that the cache never holds more than its size, drops expired entries first,
// and otherwise the entry that expires first.
func TestTwinCacheBound(t *testing.T) {
	clock := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	c := &twinCache{ttl: 30 * time.Second, size: 3, now: func() time.Time { return clock }, entries: map[string]twinEntry{}}
	for i := range 3 {
		c.put(store.User{ID: fmt.Sprint(i)})
		clock = clock.Add(time.Second)
	}
	c.put(store.User{ID: "3"}) // full: "0" expires first
	if _, ok := c.get("0"); ok || len(c.entries) != 3 {
		t.Errorf("after a fourth put: %d entries, oldest kept %v; want 3 without the oldest", len(c.entries), ok)
	}
	clock = clock.Add(29 * time.Second) // "1" and "2" have expired, "3" has not
	c.put(store.User{ID: "4"})
	if len(c.entries) != 2 {
		t.Errorf("after expiry: %d entries, want 2 (3 and 4)", len(c.entries))
	}
	for _, id := range []string{"3", "4"} {
		if _, ok := c.get(id); !ok {
			t.Errorf("entry %s missing", id)
		}
	}
}
