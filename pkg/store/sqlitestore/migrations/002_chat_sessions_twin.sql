-- EraseUser also deletes the sessions other people hold with the erased person's twin.
CREATE INDEX chat_sessions_twin ON chat_sessions (twin_id);
