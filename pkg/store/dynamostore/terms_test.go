package dynamostore_test

import (
	"slices"
	"testing"

	"github.com/guregu/dynamo/v2"

	"github.com/secondme/twin/infra/dynamotest"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store/dynamostore"
)

// TestSetUserTermsWritesOnlyChanges checks that setting the same terms again makes one read and no
// write, and that a change of one term writes that term's entries and the list only.
func TestSetUserTermsWritesOnlyChanges(t *testing.T) {
	t.Parallel()
	s, _, r := watched(t)
	u := id.New()
	check(t, s.SetUserTerms(ctx, u, []string{"chess", "jazz", "sailing"}), "SetUserTerms")
	r.reset(0)
	check(t, s.SetUserTerms(ctx, u, []string{"sailing", "jazz", "chess"}), "SetUserTerms again")
	if ops, _ := r.recorded(); !slices.Equal(ops, []string{"GetItem"}) {
		t.Errorf("the same terms again made %v, want one GetItem", ops)
	}
	r.reset(0)
	check(t, s.SetUserTerms(ctx, u, []string{"chess", "jazz", "origami"}), "SetUserTerms with one change")
	want := []string{"GetItem", "PutItem", "BatchWriteItem", "BatchWriteItem", "PutItem"}
	if ops, _ := r.recorded(); !slices.Equal(ops, want) {
		t.Errorf("one changed term made %v, want %v", ops, want)
	}
	for term, holds := range map[string]bool{"origami": true, "sailing": false, "chess": true} {
		ids, err := s.UsersWithTerm(ctx, term, "", 10)
		check(t, err, "UsersWithTerm")
		if slices.Contains(ids, u) != holds {
			t.Errorf("UsersWithTerm(%s) = %v, want the person listed: %v", term, ids, holds)
		}
	}
}

// TestTermsFromBeforePositions checks that entries and lists written before holder positions (entry
// SK USER#<user>, list without Positioned) are still found, and that the next SetUserTerms moves them.
func TestTermsFromBeforePositions(t *testing.T) {
	t.Parallel()
	table := dynamotest.Table(t)
	db := dynamotest.DB(t)
	s := dynamostore.New(db, table)
	u := id.New()
	type legacy struct {
		PK, SK, GSI1PK, GSI1SK, Kind string
		Term, UserID                 string `dynamo:",omitempty"`
		Terms                        []string
		Rev                          int64
	}
	old := []any{
		legacy{PK: "TERM#jazz", SK: "USER#" + u, GSI1PK: "USER#" + u, GSI1SK: "TERM#jazz", Kind: "term", Term: "jazz", UserID: u},
		legacy{PK: "USER#" + u, SK: "TERMS", Kind: "terms", Terms: []string{"jazz"}, Rev: 1},
	}
	for _, it := range old {
		if err := db.Table(table).Put(it).Run(ctx); err != nil {
			t.Fatal(err)
		}
	}
	other := id.New()
	check(t, s.SetUserTerms(ctx, other, []string{"jazz"}), "SetUserTerms of another holder")
	want := []string{u, other}
	slices.Sort(want)
	for _, asker := range []string{"", id.New(), id.New(), id.New()} {
		ids, err := s.UsersWithTerm(ctx, "jazz", asker, 10)
		check(t, err, "UsersWithTerm")
		slices.Sort(ids)
		if !slices.Equal(ids, want) {
			t.Errorf("UsersWithTerm(jazz, asker %q) = %v, want %v", asker, ids, want)
		}
	}
	check(t, s.SetUserTerms(ctx, u, []string{"jazz", "chess"}), "SetUserTerms")
	var left []legacy
	if err := db.Table(table).Get("PK", "TERM#jazz").Range("SK", dynamo.BeginsWith, "USER#").All(ctx, &left); err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("entries from before positions left: %+v", left)
	}
	for _, term := range []string{"jazz", "chess"} {
		ids, err := s.UsersWithTerm(ctx, term, u, 10)
		check(t, err, "UsersWithTerm")
		if n := len(slices.DeleteFunc(slices.Clone(ids), func(x string) bool { return x != u })); n != 1 {
			t.Errorf("UsersWithTerm(%s) = %v, want the person once", term, ids)
		}
	}
}
