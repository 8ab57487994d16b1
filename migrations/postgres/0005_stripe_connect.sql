-- Stripe Connect through OAuth (issue 16).

-- A seller connected through Connect OAuth has no webhook endpoint of its own (its events
-- arrive at the platform's Connect endpoint), so its row holds no signing secret.
ALTER TABLE seller_stripe ALTER COLUMN webhook_secret DROP NOT NULL;
-- Connect events find their seller by account.
CREATE INDEX seller_stripe_account ON seller_stripe(account_id);

-- Connect OAuth states: issued to a signed-in seller's session by the settings page (the
-- session keeps the same hash), used once when Stripe sends the seller back.
CREATE TABLE stripe_connect_states (
    state_hash  TEXT PRIMARY KEY,
    seller_id   BIGINT NOT NULL REFERENCES sellers(id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX stripe_connect_states_expiry ON stripe_connect_states(expires_at);
