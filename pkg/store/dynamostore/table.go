package dynamostore

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/guregu/dynamo/v2"
)

// tableKeys is the primary key schema given to CreateTable.
type tableKeys struct {
	PK string `dynamo:"PK,hash"`
	SK string `dynamo:"SK,range"`
}

// CreateTable creates the table with the schema of template.yaml (PK/SK; GSI1 on GSI1PK/GSI1SK and
// GSI2 on GSI2PK/GSI2SK, both projecting all attributes; on-demand billing) and waits until it and
// its indexes are active. It is for tests, SAM local and dynalite; it does not enable TTL on ttl, which dynalite lacks
// (reads check expiry themselves).
func CreateTable(ctx context.Context, db *dynamo.DB, table string) error {
	ct := db.CreateTable(table, tableKeys{}).OnDemand(true)
	for _, name := range []string{gsi1, gsi2} {
		ct.Index(dynamo.Index{
			Name:           name,
			HashKey:        name + "PK",
			HashKeyType:    dynamo.StringType,
			RangeKey:       name + "SK",
			RangeKeyType:   dynamo.StringType,
			ProjectionType: dynamo.AllProjection,
		})
	}
	if err := ct.Run(ctx); err != nil {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	// Poll until the table is active (at once on dynalite, seconds on AWS); the SDK's waiter sleeps
	// at least 20 s between checks.
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		desc, err := db.Table(table).Describe().Run(ctx)
		if err != nil {
			return fmt.Errorf("create table %s: describe: %w", table, err)
		}
		if desc.Active() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("create table %s: wait until active: %w", table, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// Dump writes every item of the table as one JSON object per line, ordered by PK and SK. It scans the
// whole table: it is for tests (for example, that an erased person leaves nothing behind).
func (s *Store) Dump(ctx context.Context, w io.Writer) error {
	var items []map[string]any
	if err := s.table.Scan().Consistent(true).All(ctx, &items); err != nil {
		return fmt.Errorf("dump table %s: %w", s.table.Name(), err)
	}
	sort.Slice(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a["PK"] != b["PK"] {
			return fmt.Sprint(a["PK"]) < fmt.Sprint(b["PK"])
		}
		return fmt.Sprint(a["SK"]) < fmt.Sprint(b["SK"])
	})
	enc := json.NewEncoder(w)
	for _, item := range items {
		if err := enc.Encode(item); err != nil {
			return fmt.Errorf("dump table %s: %w", s.table.Name(), err)
		}
	}
	return nil
}
