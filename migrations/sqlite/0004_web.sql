-- The web pages: sessions, one-time sign-in links and seat invites, sign-in rate limits, and
-- what the dashboard's figures need.

-- tower-sessions records (JSON), expiring at `expires_at` (ms).
CREATE TABLE web_sessions (
    id          TEXT PRIMARY KEY,
    data        TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions(expires_at);

-- One-time links: a seller's or a member's sign-in, or an invite to take a seat. Only the sha256
-- of the secret is stored; `used_at` is set by the first use.
CREATE TABLE web_links (
    id           TEXT PRIMARY KEY,
    secret_hash  TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    seller_id    INTEGER NOT NULL REFERENCES sellers(id),
    org_id       INTEGER REFERENCES orgs(id),
    email        TEXT NOT NULL,
    role         TEXT,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
);
CREATE INDEX web_links_org ON web_links(org_id, purpose);

-- Sign-in link requests per address (the rate limit holds across replicas).
CREATE TABLE web_sign_in_requests (
    email  TEXT NOT NULL,
    at     INTEGER NOT NULL
);
CREATE INDEX web_sign_in_requests_email ON web_sign_in_requests(email, at);

-- The price Stripe last reported for a subscription (minor units per seat and interval), for MRR.
ALTER TABLE subscriptions ADD COLUMN unit_amount INTEGER;
ALTER TABLE subscriptions ADD COLUMN currency TEXT;
ALTER TABLE subscriptions ADD COLUMN price_interval TEXT;

-- The download audit pages by id (newest first) per seller or org; the figures count by time.
ALTER TABLE download_events ADD COLUMN seller_id INTEGER REFERENCES sellers(id);
UPDATE download_events SET seller_id = (
    SELECT p.seller_id FROM releases r JOIN packages p ON p.id = r.package_id
    WHERE r.id = download_events.release_id);
CREATE INDEX download_events_seller_at ON download_events(seller_id, at);
CREATE INDEX download_events_org_at ON download_events(org_id, at);
CREATE INDEX download_events_seller_id ON download_events(seller_id, id);
CREATE INDEX download_events_org_id ON download_events(org_id, id);

-- Downloads per (seller, UTC day, org, release): what the dashboard's figures and the customers
-- page read, instead of scanning every event. Kept by a trigger in the event's own transaction;
-- org_id 0 means no org (a publish token's download). Clustered on its key (WITHOUT ROWID): a
-- range of days is one contiguous read, not a lookup per row.
CREATE TABLE download_days (
    seller_id   INTEGER NOT NULL,
    day         INTEGER NOT NULL,
    org_id      INTEGER NOT NULL,
    release_id  INTEGER NOT NULL,
    downloads   INTEGER NOT NULL,
    PRIMARY KEY (seller_id, day, org_id, release_id)
) WITHOUT ROWID;
INSERT INTO download_days (seller_id, day, org_id, release_id, downloads)
    SELECT seller_id, at / 86400000, COALESCE(org_id, 0), release_id, COUNT(*)
    FROM download_events WHERE seller_id IS NOT NULL
    GROUP BY seller_id, at / 86400000, COALESCE(org_id, 0), release_id;
CREATE TRIGGER download_days_count AFTER INSERT ON download_events
WHEN NEW.seller_id IS NOT NULL
BEGIN
    INSERT INTO download_days (seller_id, day, org_id, release_id, downloads)
    VALUES (NEW.seller_id, NEW.at / 86400000, COALESCE(NEW.org_id, 0), NEW.release_id, 1)
    ON CONFLICT (seller_id, day, org_id, release_id) DO UPDATE SET downloads = downloads + 1;
END;
