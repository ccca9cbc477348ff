-- Times are INTEGER milliseconds since the Unix epoch, UTC. Lists inside a record (shades, memories,
-- match highlights...) are JSON text: they are read and written whole, never queried.

CREATE TABLE users (
	id                 TEXT PRIMARY KEY,
	nickname           TEXT NOT NULL,
	avatar             TEXT NOT NULL,
	bio                TEXT NOT NULL,
	provider           TEXT NOT NULL,
	discoverable       INTEGER NOT NULL,
	allow_twin_chat    INTEGER NOT NULL,
	shades             TEXT NOT NULL,
	memories           TEXT NOT NULL,
	profile_version    INTEGER NOT NULL,
	profile_changed_at INTEGER NOT NULL,
	rev                INTEGER NOT NULL,
	created_at         INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX users_changed ON users (profile_changed_at, id);

CREATE TABLE identities (
	provider         TEXT NOT NULL,
	subject          TEXT NOT NULL,
	user_id          TEXT NOT NULL,
	sealed_tokens    BLOB,
	token_expires_at INTEGER NOT NULL,
	revoked          INTEGER NOT NULL,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL,
	PRIMARY KEY (provider, subject)
) WITHOUT ROWID;
CREATE INDEX identities_user ON identities (user_id);

CREATE TABLE login_sessions (
	token_hash TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX login_sessions_user ON login_sessions (user_id);
CREATE INDEX login_sessions_expiry ON login_sessions (expires_at);

CREATE TABLE events (
	event_id   TEXT PRIMARY KEY,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX events_expiry ON events (expires_at);

CREATE TABLE chat_sessions (
	id                 TEXT PRIMARY KEY,
	owner_id           TEXT NOT NULL,
	twin_id            TEXT NOT NULL,
	title              TEXT NOT NULL,
	last_message       TEXT NOT NULL,
	summary            TEXT NOT NULL,
	summarized_through TEXT NOT NULL,
	message_count      INTEGER NOT NULL,
	created_at         INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX chat_sessions_owner ON chat_sessions (owner_id, updated_at, id);

CREATE TABLE chat_messages (
	session_id        TEXT NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
	id                TEXT NOT NULL,
	role              TEXT NOT NULL,
	content           TEXT NOT NULL,
	client_message_id TEXT NOT NULL,
	reply_to          TEXT NOT NULL,
	incomplete        INTEGER NOT NULL,
	model             TEXT NOT NULL,
	created_at        INTEGER NOT NULL,
	PRIMARY KEY (session_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX chat_messages_client ON chat_messages (session_id, client_message_id)
	WHERE client_message_id <> '';

CREATE TABLE quotas (
	user_id TEXT NOT NULL,
	day     TEXT NOT NULL,
	count   INTEGER NOT NULL,
	PRIMARY KEY (user_id, day)
) WITHOUT ROWID;

-- matches holds each pair once (a < b); match_entries holds both people's list lines.
CREATE TABLE matches (
	a           TEXT NOT NULL,
	b           TEXT NOT NULL,
	score       INTEGER NOT NULL,
	reasoning   TEXT NOT NULL,
	highlights  TEXT NOT NULL,
	challenges  TEXT NOT NULL,
	parts       TEXT NOT NULL,
	transcript  TEXT NOT NULL,
	version_a   INTEGER NOT NULL,
	version_b   INTEGER NOT NULL,
	algorithm   TEXT NOT NULL,
	computed_at INTEGER NOT NULL,
	PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE INDEX matches_b ON matches (b);

CREATE TABLE match_entries (
	user_id     TEXT NOT NULL,
	other_id    TEXT NOT NULL,
	score       INTEGER NOT NULL,
	computed_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, other_id)
) WITHOUT ROWID;
CREATE INDEX match_entries_rank ON match_entries (user_id, score DESC, other_id);
CREATE INDEX match_entries_other ON match_entries (other_id);

CREATE TABLE blocks (
	blocker_id TEXT NOT NULL,
	blocked_id TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (blocker_id, blocked_id)
) WITHOUT ROWID;
CREATE INDEX blocks_blocked ON blocks (blocked_id);

CREATE TABLE user_terms (
	term    TEXT NOT NULL,
	user_id TEXT NOT NULL,
	PRIMARY KEY (term, user_id)
) WITHOUT ROWID;
CREATE INDEX user_terms_user ON user_terms (user_id);

CREATE TABLE job_states (
	name       TEXT PRIMARY KEY,
	last_run   INTEGER NOT NULL,
	cursor     TEXT NOT NULL,
	updated_at INTEGER NOT NULL
) WITHOUT ROWID;
