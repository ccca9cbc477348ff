-- The language a person reads Second Me in ("zh-CN" or "en"), '' until they choose one.
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';
