package dynamostore

import (
	"sync"
	"time"

	"github.com/secondme/twin/pkg/store"
)

// Option configures a Store.
type Option func(*Store)

// Defaults of the twin cache the functions use (functions/app/awsapp).
const (
	DefaultTwinCacheTTL  = 30 * time.Second
	DefaultTwinCacheSize = 1000
)

// WithTwinCache makes GetTwin (and so LoadConversation) serve another person's twin from a cache kept
// in the Store (one per function instance) for ttl, holding at most size people: a hot twin's profile,
// its largest item, is read once per ttl instead of on every turn of everyone who talks with it. The
// cache holds public personas only (no memories, no private shade parts) and GetTwin returns the public
// persona for every viewer other than the twin's person; a person's own twin (viewer = twin) is never
// cached, so their own edits show at once. The blocks between the two are always read.
//
// For up to ttl after a person changes their profile, hides it, refuses twin chats or erases their
// account, turns of other people in sessions already open may still see the cached persona.
func WithTwinCache(ttl time.Duration, size int) Option {
	return func(s *Store) {
		s.twins = &twinCache{ttl: ttl, size: max(size, 1), now: time.Now, entries: map[string]twinEntry{}}
	}
}

// twinCache is a small TTL cache of public personas by user id.
type twinCache struct {
	ttl  time.Duration
	size int
	now  func() time.Time

	mu      sync.Mutex
	entries map[string]twinEntry
}

type twinEntry struct {
	user    store.User
	expires time.Time
}

// get returns the cached persona of id, if it is fresh.
func (c *twinCache) get(id string) (store.User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || !c.now().Before(e.expires) {
		return store.User{}, false
	}
	return e.user, true
}

// put caches a persona. When the cache is full it drops the expired entries, or, if none has expired,
// the one that expires first.
func (c *twinCache) put(u store.User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if _, ok := c.entries[u.ID]; !ok && len(c.entries) >= c.size {
		var first string
		for id, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, id)
			} else if first == "" || e.expires.Before(c.entries[first].expires) {
				first = id
			}
		}
		if len(c.entries) >= c.size {
			delete(c.entries, first)
		}
	}
	c.entries[u.ID] = twinEntry{user: u, expires: now.Add(c.ttl)}
}

// publicPersona is what another person's twin may use of u: its profile without memories and without
// the private parts of its shades (shades with no public part are left out).
func publicPersona(u store.User) store.User {
	u.Memories = nil
	shades := make([]store.Shade, 0, len(u.Shades))
	for _, sh := range u.Shades {
		if sh.Public == nil {
			continue
		}
		pub := *sh.Public
		shades = append(shades, store.Shade{ID: sh.ID, Name: sh.Name, Icon: sh.Icon, Confidence: sh.Confidence, Public: &pub})
	}
	u.Shades = shades
	return u
}
