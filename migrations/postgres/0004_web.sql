-- The web pages (PostgreSQL twin of migrations/sqlite/0004_web.sql): sessions, one-time sign-in
-- links and seat invites, sign-in rate limits, and what the dashboard's figures need.

-- tower-sessions records (JSON), expiring at `expires_at` (ms).
CREATE TABLE web_sessions (
    id          TEXT PRIMARY KEY,
    data        TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions(expires_at);

-- One-time links: a seller's or a member's sign-in, or an invite to take a seat. Only the sha256
-- of the secret is stored; `used_at` is set by the first use.
CREATE TABLE web_links (
    id           TEXT PRIMARY KEY,
    secret_hash  TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    seller_id    BIGINT NOT NULL REFERENCES sellers(id),
    org_id       BIGINT REFERENCES orgs(id),
    email        TEXT NOT NULL,
    role         TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE INDEX web_links_org ON web_links(org_id, purpose);

-- Sign-in link requests per address (the rate limit holds across replicas).
CREATE TABLE web_sign_in_requests (
    email  TEXT NOT NULL,
    at     BIGINT NOT NULL
);
CREATE INDEX web_sign_in_requests_email ON web_sign_in_requests(email, at);

-- The price Stripe last reported for a subscription (minor units per seat and interval), for MRR.
ALTER TABLE subscriptions ADD COLUMN unit_amount BIGINT;
ALTER TABLE subscriptions ADD COLUMN currency TEXT;
ALTER TABLE subscriptions ADD COLUMN price_interval TEXT;

-- The download audit pages by id (newest first) per seller or org; the figures count by time.
ALTER TABLE download_events ADD COLUMN seller_id BIGINT REFERENCES sellers(id);
UPDATE download_events SET seller_id = (
    SELECT p.seller_id FROM releases r JOIN packages p ON p.id = r.package_id
    WHERE r.id = download_events.release_id);
CREATE INDEX download_events_seller_at ON download_events(seller_id, at);
CREATE INDEX download_events_org_at ON download_events(org_id, at);
CREATE INDEX download_events_seller_id ON download_events(seller_id, id);
CREATE INDEX download_events_org_id ON download_events(org_id, id);
