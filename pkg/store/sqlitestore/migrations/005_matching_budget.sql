-- The coalescing window of each person's rematches: until when it is open (ms), and whether an edit
-- came in while it was open.
CREATE TABLE rematch_windows (
	user_id TEXT PRIMARY KEY,
	until   INTEGER NOT NULL,
	dirty   INTEGER NOT NULL
) WITHOUT ROWID;

-- Budget counters of model calls per day: owner is a user id, or '' for the whole service.
CREATE TABLE budgets (
	owner TEXT NOT NULL,
	name  TEXT NOT NULL,
	day   TEXT NOT NULL,
	count INTEGER NOT NULL,
	PRIMARY KEY (owner, name, day)
) WITHOUT ROWID;

-- Pairs whose match waits for its model part (a budget ran out), longest deferred first.
CREATE TABLE match_deferrals (
	a     TEXT NOT NULL,
	b     TEXT NOT NULL,
	since INTEGER NOT NULL,
	PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE INDEX match_deferrals_since ON match_deferrals (since, a, b);
CREATE INDEX match_deferrals_b ON match_deferrals (b);
