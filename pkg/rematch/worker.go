package rematch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/secondme/twin/pkg/compat/formula"
	"github.com/secondme/twin/pkg/store"
)

// Sender enqueues job bodies (queue.Sender).
type Sender interface {
	Send(ctx context.Context, bodies ...[]byte) error
}

// WorkerStore is what the CompatWorker reads and writes.
type WorkerStore interface {
	GetUser(ctx context.Context, id string) (store.User, error)
	GetUsers(ctx context.Context, ids []string) ([]store.User, error)
	Blocked(ctx context.Context, a, b string) (bool, error)
	GetMatch(ctx context.Context, a, b string) (store.Match, error)
	PutMatch(ctx context.Context, m store.Match) error
	DeleteMatch(ctx context.Context, a, b string) error
	ListMatches(ctx context.Context, userID, cursor string, limit int) (store.Page[store.MatchEntry], error)
	SetUserTerms(ctx context.Context, userID string, terms []string) error
	UsersWithTerm(ctx context.Context, term, asker string, limit int) ([]string, error)
	BudgetStore
}

var _ WorkerStore = store.Store(nil)

// Scorer computes matches (compat.Scorer).
type Scorer interface {
	// Algorithm names how matches are computed; a stored match with another one is stale.
	Algorithm() string
	// Compute returns the match of a and b (a.ID < b.ID); an error means the model failed.
	Compute(ctx context.Context, a, b store.User) (store.Match, error)
	// Deterministic returns the match of a and b from the deterministic part alone.
	Deterministic(a, b store.User) store.Match
}

// Defaults of Config.
const (
	// DefaultK is how many candidates each person gets.
	DefaultK = 20
	// DefaultIndexTerms is how many of a person's terms (heaviest first) are indexed.
	DefaultIndexTerms = 32
	// DefaultTermLookup is how many people one term lookup returns in a user job.
	DefaultTermLookup = 200
	// BatchSize is how many jobs go to the queue at once (the SQS batch limit).
	BatchSize = 10
)

// Config tunes candidate generation. The zero Config takes every default.
type Config struct {
	// K is how many candidates each person gets; default DefaultK.
	K int
	// IndexTerms is how many terms of a person are indexed; default DefaultIndexTerms.
	IndexTerms int
	// TermLookup is the limit of one UsersWithTerm lookup in a user job; default DefaultTermLookup.
	TermLookup int
	// ModelTop is how many of a person's candidates and matches, best by the deterministic score, get
	// the model part when the person is rematched; default DefaultModelTop.
	ModelTop int
	// ModelBand, when set, also gives the model part to the candidates whose deterministic score is
	// within ModelBand points of the ModelTop-th best: with the model moving a score by at most
	// ModelBand/2 either way (compat.Config.ModelRange), the only ones that can still reach the top
	// ModelTop. Off (0) by default: it costs more model calls than the nightly budget pays for at 5%
	// of people changed a day (docs/matching.md). The nightly run plans these pairs after every
	// changed person's top ModelTop.
	ModelBand int
	// Budget bounds the model calls of matching (budget.go).
	Budget BudgetConfig
}

func (c Config) withDefaults() Config {
	if c.K <= 0 {
		c.K = DefaultK
	}
	if c.IndexTerms <= 0 {
		c.IndexTerms = DefaultIndexTerms
	}
	if c.TermLookup <= 0 {
		c.TermLookup = DefaultTermLookup
	}
	if c.ModelTop <= 0 {
		c.ModelTop = DefaultModelTop
	}
	c.Budget = c.Budget.withDefaults()
	return c
}

// CompatWorker runs the jobs of the compat queue. It is idempotent: a job delivered again finds its work
// done and does nothing (pair), or sends the same pair jobs again (user), which then do nothing.
type CompatWorker struct {
	store  WorkerStore
	budget BudgetStore
	scorer Scorer
	sender Sender
	cfg    Config
}

// NewCompatWorker returns a CompatWorker that writes matches to st, scores with scorer and fans user jobs out
// through sender.
func NewCompatWorker(st WorkerStore, scorer Scorer, sender Sender, cfg Config) *CompatWorker {
	return &CompatWorker{store: st, budget: st, scorer: scorer, sender: sender, cfg: cfg.withDefaults()}
}

// Handle runs one job body (a queue.Handler). A body that is not a job returns ErrBadJob; a failure
// of the store, the queue or the model returns an error that a retry may cure.
func (w *CompatWorker) Handle(ctx context.Context, body []byte) error {
	j, err := DecodeJob(body)
	if err != nil {
		return err
	}
	switch j.Kind {
	case KindPair:
		return w.pair(ctx, j.A, j.B, j.By, j.ScoreOnly, j.Defer)
	default:
		if j.Dirty {
			// The rematch of a coalescing window's end: edits from now on mark the person dirty again,
			// and this rematch, which reads the profile after this point, covers the ones before.
			b := w.cfg.Budget
			if err := w.budget.OpenRematchWindow(ctx, j.User, b.Now(), b.Window); err != nil {
				return fmt.Errorf("open rematch window of %s: %w", j.User, err)
			}
		}
		return w.user(ctx, j.User, j.ScoreOnly)
	}
}

// Pair computes and stores the match of a and b, unless the stored one already reflects both current
// profile versions and the scorer's algorithm. When either person is gone or not discoverable, or
// one blocked the other, it deletes the match instead, and it checks again after writing, so that a
// block or a switch to hidden made while the match was computed still removes it. When the model
// fails, the deterministic match is stored (so people see something) and the error is returned, so
// that the job is retried; the stored match is then stale, and the retry asks the model again.
func (w *CompatWorker) Pair(ctx context.Context, a, b string) error {
	return w.PairBy(ctx, a, b, "")
}

// PairBy is Pair for a pair job asked for by by (a or b): the model part counts against by's daily
// matching budget, or the nightly budget when by is empty. When that budget has no room, the
// deterministic match is stored and the pair deferred: a later nightly run gives it the model part.
func (w *CompatWorker) PairBy(ctx context.Context, a, b, by string) error {
	return w.pair(ctx, a, b, by, false, false)
}

// pair is PairBy; with scoreOnly (a pair outside the top M of the person whose candidates sent it) it
// stores the deterministic match only, and counts a stored match with the model part as current
// when both profile versions are; with over (the nightly run's plan was full) a stale pair gets the
// deterministic match and is deferred, as when its budget is spent.
func (w *CompatWorker) pair(ctx context.Context, a, b, by string, scoreOnly, over bool) error {
	if a > b {
		a, b = b, a
	}
	ua, ub, ok, err := w.eligible(ctx, a, b)
	if err != nil || !ok {
		return err
	}
	old, err := w.store.GetMatch(ctx, a, b)
	switch {
	case err == nil && old.VersionA == ua.ProfileVersion && old.VersionB == ub.ProfileVersion &&
		(old.Algorithm == w.scorer.Algorithm() || scoreOnly && old.Algorithm == formula.Version):
		return nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("get match %s/%s: %w", a, b, err)
	}
	var m store.Match
	var deferred bool
	var modelErr error
	if scoreOnly {
		m = w.scorer.Deterministic(ua, ub)
	} else {
		m, deferred, modelErr = w.compute(ctx, ua, ub, by, over)
	}
	if modelErr != nil {
		if ctx.Err() != nil {
			return modelErr
		}
		slog.WarnContext(ctx, "compat model failed; storing the deterministic match", "user_a", a, "user_b", b, "err", modelErr)
		m = w.scorer.Deterministic(ua, ub)
	}
	if err := w.store.PutMatch(ctx, m); err != nil {
		return fmt.Errorf("put match %s/%s: %w", a, b, err)
	}
	if err := w.settle(ctx, a, b, m, deferred); err != nil {
		return err
	}
	if _, _, ok, err := w.eligible(ctx, a, b); err != nil || !ok {
		return err
	}
	slog.InfoContext(ctx, "match computed", "user_a", a, "user_b", b, "score", m.Score, "parts", m.Parts)
	return modelErr
}

// eligible loads both people and reports whether they may be matched: both exist, both are
// discoverable, and neither blocked the other. When they may not, it deletes their match.
func (w *CompatWorker) eligible(ctx context.Context, a, b string) (store.User, store.User, bool, error) {
	users, err := w.store.GetUsers(ctx, []string{a, b})
	if err != nil {
		return store.User{}, store.User{}, false, fmt.Errorf("get users %s, %s: %w", a, b, err)
	}
	var ua, ub store.User
	for _, u := range users {
		switch u.ID {
		case a:
			ua = u
		case b:
			ub = u
		}
	}
	ok := ua.ID != "" && ub.ID != "" && ua.Discoverable && ub.Discoverable
	if ok {
		blocked, err := w.store.Blocked(ctx, a, b)
		if err != nil {
			return ua, ub, false, fmt.Errorf("blocked %s, %s: %w", a, b, err)
		}
		ok = !blocked
	}
	if !ok {
		if err := w.store.DeleteMatch(ctx, a, b); err != nil {
			return ua, ub, false, fmt.Errorf("delete match %s/%s: %w", a, b, err)
		}
	}
	return ua, ub, ok, nil
}

// User rematches one person: it indexes their terms (none when they are hidden, and then removes
// their matches), finds their top K candidates through the store's term index, and sends pair jobs
// for those and for the matches they already have, so that those follow the person's new profile.
// The top ModelTop of them by the deterministic score get the model part (paid by the person's
// matching budget); the others get the deterministic match only.
func (w *CompatWorker) User(ctx context.Context, userID string) error {
	return w.user(ctx, userID, false)
}

// user is User; with scoreOnly every pair gets the deterministic match only.
func (w *CompatWorker) user(ctx context.Context, userID string, scoreOnly bool) error {
	u, err := w.store.GetUser(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // erased since the job was sent
	}
	if err != nil {
		return fmt.Errorf("get user %s: %w", userID, err)
	}
	if !u.Discoverable {
		if err := w.store.SetUserTerms(ctx, userID, nil); err != nil {
			return fmt.Errorf("unindex %s: %w", userID, err)
		}
		return w.unmatchAll(ctx, userID)
	}
	terms := IndexTerms(u, w.cfg.IndexTerms)
	if err := w.store.SetUserTerms(ctx, userID, terms); err != nil {
		return fmt.Errorf("index %s: %w", userID, err)
	}
	cands, err := w.candidates(ctx, userID, terms)
	if err != nil {
		return err
	}
	page, err := w.store.ListMatches(ctx, userID, "", w.cfg.K)
	if err != nil {
		return fmt.Errorf("list matches of %s: %w", userID, err)
	}
	for _, e := range page.Items {
		if !slices.Contains(cands, e.OtherID) {
			cands = append(cands, e.OtherID)
		}
	}
	var top, near map[string]bool
	if !scoreOnly {
		if top, near, err = topByScore(ctx, w.store, u, cands, w.cfg.ModelTop, w.cfg.ModelBand); err != nil {
			return err
		}
	}
	bodies := pairJobs(userID, cands, top, near, userID)
	if err := sendBatches(ctx, w.sender, bodies); err != nil {
		return fmt.Errorf("fan out %d pair jobs of %s: %w", len(bodies), userID, err)
	}
	slog.InfoContext(ctx, "user rematched", "user_id", userID, "terms", len(terms), "pair_jobs", len(bodies))
	return nil
}

// maxUnmatchPages bounds the pages of matches removed for one hidden person in one job.
const maxUnmatchPages = 100

// unmatchAll deletes every match of a person, a page at a time.
func (w *CompatWorker) unmatchAll(ctx context.Context, userID string) error {
	for range maxUnmatchPages {
		page, err := w.store.ListMatches(ctx, userID, "", 100)
		if err != nil {
			return fmt.Errorf("list matches of %s: %w", userID, err)
		}
		if len(page.Items) == 0 {
			return nil
		}
		for _, e := range page.Items {
			if err := w.store.DeleteMatch(ctx, userID, e.OtherID); err != nil {
				return fmt.Errorf("delete match %s/%s: %w", userID, e.OtherID, err)
			}
		}
	}
	return fmt.Errorf("unmatch %s: more than %d pages of matches", userID, maxUnmatchPages)
}

// candidates returns the k people who share the most rare terms with userID (TermCandidates), each
// term's lookup starting at userID's position.
func (w *CompatWorker) candidates(ctx context.Context, userID string, terms []string) ([]string, error) {
	holders := func(ctx context.Context, t string) ([]string, error) {
		return w.store.UsersWithTerm(ctx, t, userID, w.cfg.TermLookup)
	}
	return TermCandidates(ctx, holders, userID, terms, w.cfg.TermLookup, w.cfg.K)
}

// IndexTerms returns the terms a person is indexed under: the normalised terms of their public
// topics and shade names, heaviest first, at most limit.
func IndexTerms(u store.User, limit int) []string {
	t := formula.NewFeatures(u).TopicTerms()
	return t[:min(limit, len(t))]
}

// sendBatches sends bodies in batches of BatchSize.
func sendBatches(ctx context.Context, s Sender, bodies [][]byte) error {
	for i := 0; i < len(bodies); i += BatchSize {
		if err := s.Send(ctx, bodies[i:min(i+BatchSize, len(bodies))]...); err != nil {
			return err
		}
	}
	return nil
}
