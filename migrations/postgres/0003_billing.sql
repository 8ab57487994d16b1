-- Licensing through the seller's own Stripe account.

-- How to reach a seller's Stripe: its own secret key, or (Connect) a connected account id used
-- with the operator's platform key. Both secrets are stored sealed.
CREATE TABLE seller_stripe (
    seller_id       BIGINT PRIMARY KEY REFERENCES sellers(id),
    secret_key      TEXT,
    account_id      TEXT,
    webhook_secret  TEXT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- A Stripe price (or legacy plan) sold as a product: how seats follow the quantity, what the
-- buyer keeps after the end, how long a failed payment keeps access.
CREATE TABLE plans (
    id            BIGSERIAL PRIMARY KEY,
    seller_id     BIGINT NOT NULL REFERENCES sellers(id),
    slug          TEXT NOT NULL,
    product_id    BIGINT NOT NULL REFERENCES products(id),
    stripe_price  TEXT NOT NULL,
    seats         TEXT NOT NULL,
    rule          TEXT NOT NULL,
    grace_days    BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    UNIQUE (seller_id, slug)
);

-- The last state read from Stripe for each subscription, and the entitlement it drives.
CREATE TABLE subscriptions (
    id               BIGSERIAL PRIMARY KEY,
    seller_id        BIGINT NOT NULL REFERENCES sellers(id),
    stripe_id        TEXT NOT NULL,
    customer_id      TEXT NOT NULL,
    org_id           BIGINT NOT NULL REFERENCES orgs(id),
    plan_id          BIGINT NOT NULL REFERENCES plans(id),
    entitlement_id   BIGINT NOT NULL REFERENCES entitlements(id),
    status           TEXT NOT NULL,
    quantity         BIGINT NOT NULL,
    first_failed_at  BIGINT,
    updated_at       BIGINT NOT NULL,
    UNIQUE (seller_id, stripe_id)
);
CREATE INDEX subscriptions_org ON subscriptions(org_id);

-- Webhook events applied, per seller (Stripe retries and replays; each applies once).
CREATE TABLE stripe_events (
    seller_id    BIGINT NOT NULL REFERENCES sellers(id),
    event_id     TEXT NOT NULL,
    kind         TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (seller_id, event_id)
);

-- The Stripe customer an org pays as, and how many seats it may hold (NULL: no cap).
ALTER TABLE orgs ADD COLUMN stripe_customer TEXT;
ALTER TABLE orgs ADD COLUMN seat_cap BIGINT;
-- A message clients show while the entitlement is live (a payment failed: grace period).
ALTER TABLE entitlements ADD COLUMN warning TEXT;
