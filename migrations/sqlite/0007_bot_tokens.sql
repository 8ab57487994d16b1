-- Bot tokens: an org's token for a machine (CI, an update bot) carries a label saying what it is
-- for, and every token a scope: `read` (lists and installs, what every token did before) or
-- `metadata` (lists versions and checksums, never downloads an archive).
ALTER TABLE tokens ADD COLUMN label TEXT;
ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'read';
