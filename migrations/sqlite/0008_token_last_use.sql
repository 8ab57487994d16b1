-- When each token was last used, from which address and which client (its User-Agent, cut to
-- 128 bytes). Servers note uses in memory and write them here in batches (every few seconds and
-- at shutdown), never once per request; a write only moves the time forward.
ALTER TABLE tokens ADD COLUMN last_used_at INTEGER;
ALTER TABLE tokens ADD COLUMN last_used_ip TEXT;
ALTER TABLE tokens ADD COLUMN last_used_agent TEXT;
