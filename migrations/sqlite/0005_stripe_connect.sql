-- Stripe Connect through OAuth (issue 16).

-- A seller connected through Connect OAuth has no webhook endpoint of its own (its events
-- arrive at the platform's Connect endpoint), so its row holds no signing secret: the column
-- becomes nullable. SQLite cannot drop a NOT NULL in place, hence the copy.
CREATE TABLE seller_stripe_new (
    seller_id       INTEGER PRIMARY KEY REFERENCES sellers(id),
    secret_key      TEXT,
    account_id      TEXT,
    webhook_secret  TEXT,
    updated_at      INTEGER NOT NULL
);
INSERT INTO seller_stripe_new (seller_id, secret_key, account_id, webhook_secret, updated_at)
    SELECT seller_id, secret_key, account_id, webhook_secret, updated_at FROM seller_stripe;
DROP TABLE seller_stripe;
ALTER TABLE seller_stripe_new RENAME TO seller_stripe;
-- Connect events find their seller by account.
CREATE INDEX seller_stripe_account ON seller_stripe(account_id);

-- Connect OAuth states: issued to a signed-in seller's session by the settings page (the
-- session keeps the same hash), used once when Stripe sends the seller back.
CREATE TABLE stripe_connect_states (
    state_hash  TEXT PRIMARY KEY,
    seller_id   INTEGER NOT NULL REFERENCES sellers(id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX stripe_connect_states_expiry ON stripe_connect_states(expires_at);
