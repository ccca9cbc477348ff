-- A turn is claimed before its model call: the person's message holds the claim (who holds it, and
-- until when, in ms), and a message has at most one reply. Replies stored twice before this rule
-- (a retry racing its first try) are dropped, keeping the first; the session's count keeps them.
ALTER TABLE chat_messages ADD COLUMN claim TEXT NOT NULL DEFAULT '';
ALTER TABLE chat_messages ADD COLUMN claimed_until INTEGER NOT NULL DEFAULT 0;
DELETE FROM chat_messages WHERE reply_to <> '' AND EXISTS (
	SELECT 1 FROM chat_messages AS first
	WHERE first.session_id = chat_messages.session_id AND first.reply_to = chat_messages.reply_to
		AND first.id < chat_messages.id);
CREATE UNIQUE INDEX chat_messages_reply ON chat_messages (session_id, reply_to) WHERE reply_to <> '';
