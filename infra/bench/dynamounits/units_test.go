package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/guregu/dynamo/v2"

	"github.com/secondme/twin/infra/dynamotest"
)

// TestCounter checks the units Counter counts for writes on a table with a GSI, against DynamoDB's
// billing rules: a new item in the index, a change in place, a moved index key, a refused condition,
// a batch, a delete, and a strongly consistent read.
func TestCounter(t *testing.T) {
	ctx := context.Background()
	table := dynamotest.Table(t)
	c := NewCounter(http.DefaultTransport, "PK", "SK", [2]string{"GSI1PK", "GSI1SK"}, [2]string{"GSI2PK", "GSI2SK"})
	db := dynamotest.DB(t, func(o *dynamodb.Options) { o.HTTPClient = &http.Client{Transport: c} })
	tb := db.Table(table)
	type it struct {
		PK, SK         string
		GSI1PK, GSI1SK string `dynamo:",omitempty"`
		Body           string
	}
	big := strings.Repeat("x", 1500) // 2 KB with its names and keys
	tests := []struct {
		name        string
		run         func() error
		write, read float64
	}{
		{"put, not in an index", func() error { return tb.Put(it{PK: "a", SK: "1", Body: "small"}).Run(ctx) }, 1, 0},
		{"put, in GSI1", func() error { return tb.Put(it{PK: "b", SK: "1", GSI1PK: "u", GSI1SK: "k1", Body: big}).Run(ctx) }, 2 + 2, 0},
		{"update in place", func() error {
			return tb.Update("PK", "b").Range("SK", "1").Set("Body", big+"y").Run(ctx)
		}, 2 + 2, 0},
		{"update moving the GSI1 key", func() error {
			return tb.Update("PK", "b").Range("SK", "1").Set("GSI1SK", "k2").Run(ctx)
		}, 2 + 2 + 2, 0},
		{"refused condition", func() error {
			err := tb.Put(it{PK: "b", SK: "1", Body: "new"}).If("attribute_not_exists(PK)").Run(ctx)
			if dynamo.IsCondCheckFailed(err) {
				return nil
			}
			return err
		}, 2, 0},
		{"batch of two puts", func() error {
			_, err := tb.Batch("PK", "SK").Write().Put(it{PK: "c", SK: "1"}, it{PK: "c", SK: "2", GSI1PK: "u", GSI1SK: "k3"}).Run(ctx)
			return err
		}, 1 + 1 + 1, 0},
		{"delete, in GSI1", func() error { return tb.Delete("PK", "b").Range("SK", "1").Run(ctx) }, 2 + 2, 0},
		{"consistent read of a missing item", func() error {
			var out it
			err := tb.Get("PK", "b").Range("SK", dynamo.Equal, "1").Consistent(true).One(ctx, &out)
			if err == dynamo.ErrNotFound {
				return nil
			}
			return err
		}, 0, 1},
		{"eventually consistent read", func() error {
			var out it
			return tb.Get("PK", "a").Range("SK", dynamo.Equal, "1").One(ctx, &out)
		}, 0, 0.5},
	}
	for _, tt := range tests {
		c.Reset()
		if err := tt.run(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if w, r := c.Units(); w != tt.write || r != tt.read {
			t.Errorf("%s: %v write and %v read units, want %v and %v", tt.name, w, r, tt.write, tt.read)
		}
	}
}
