package dynamostore

import "time"

// SetTwinClock sets the clock of the store's twin cache (WithTwinCache), for tests.
func SetTwinClock(s *Store, now func() time.Time) { s.twins.now = now }
