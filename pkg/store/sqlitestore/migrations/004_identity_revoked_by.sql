-- The webhook events whose revocations were applied to an identity (a JSON list of ids), so that a
-- revocation replayed after its event record expired changes nothing.
ALTER TABLE identities ADD COLUMN revoked_by TEXT NOT NULL DEFAULT '[]';
