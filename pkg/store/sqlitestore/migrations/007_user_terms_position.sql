-- A term's holders are read from a position that depends on the person asking (store.HolderPosition):
-- pos is HolderPosition(user_id), '' on rows written before it (they sort first until their person's
-- terms are set again).
ALTER TABLE user_terms ADD COLUMN pos TEXT NOT NULL DEFAULT '';
CREATE INDEX user_terms_pos ON user_terms (term, pos, user_id);
