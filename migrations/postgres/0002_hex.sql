-- Per-seller key pairs (purpose `hex_rsa`: the Hex registry signing key). `secret` is the
-- private key as stored (sealed when a secret key is configured); `public` is served as is.
CREATE TABLE seller_keys (
    seller_id   BIGINT NOT NULL REFERENCES sellers(id),
    purpose     TEXT NOT NULL,
    secret      TEXT NOT NULL,
    public      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (seller_id, purpose)
);

-- A retired release (Hex retire, npm deprecate) stays installable; clients warn with the
-- reason: JSON {"reason": …, "message": …}, NULL when not retired.
ALTER TABLE releases ADD COLUMN retired TEXT;

-- A release reverted within the ecosystem's revert window keeps its row (download events point
-- at it) under a version string no client can ask for, so the version can be published again.
ALTER TABLE releases ADD COLUMN reverted_at BIGINT;
