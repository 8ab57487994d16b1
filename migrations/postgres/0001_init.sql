-- Tollgate schema (PostgreSQL twin of migrations/sqlite/0001_init.sql). Timestamps are
-- milliseconds since the Unix epoch (UTC); flags are 0/1 integers as on SQLite, so one set of
-- queries serves both databases.

CREATE TABLE sellers (
    id          BIGSERIAL PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE products (
    id          BIGSERIAL PRIMARY KEY,
    seller_id   BIGINT NOT NULL REFERENCES sellers(id),
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (seller_id, slug)
);

-- One name in one ecosystem, owned by one seller. `name` is stored normalised for the ecosystem.
CREATE TABLE packages (
    id          BIGSERIAL PRIMARY KEY,
    seller_id   BIGINT NOT NULL REFERENCES sellers(id),
    ecosystem   TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (seller_id, ecosystem, name)
);

CREATE TABLE product_packages (
    product_id  BIGINT NOT NULL REFERENCES products(id),
    package_id  BIGINT NOT NULL REFERENCES packages(id),
    PRIMARY KEY (product_id, package_id)
);
CREATE INDEX product_packages_package ON product_packages(package_id);

-- Immutable once written: (package, version) is unique and blob_sha256 is never updated.
CREATE TABLE releases (
    id            BIGSERIAL PRIMARY KEY,
    package_id    BIGINT NOT NULL REFERENCES packages(id),
    version       TEXT NOT NULL,
    blob_sha256   TEXT NOT NULL,
    size          BIGINT NOT NULL,
    metadata      TEXT NOT NULL,
    published_at  BIGINT NOT NULL,
    yanked        BIGINT NOT NULL DEFAULT 0,
    UNIQUE (package_id, version)
);

CREATE TABLE dist_tags (
    package_id  BIGINT NOT NULL REFERENCES packages(id),
    tag         TEXT NOT NULL,
    version     TEXT NOT NULL,
    PRIMARY KEY (package_id, tag)
);

CREATE TABLE orgs (
    id          BIGSERIAL PRIMARY KEY,
    seller_id   BIGINT NOT NULL REFERENCES sellers(id),
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (seller_id, slug)
);

-- "org may use product" over [starts_at, ends_at) with a version rule.
CREATE TABLE entitlements (
    id          BIGSERIAL PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES orgs(id),
    product_id  BIGINT NOT NULL REFERENCES products(id),
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT,
    rule        TEXT NOT NULL,
    source      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX entitlements_org ON entitlements(org_id);

CREATE TABLE seats (
    id          BIGSERIAL PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES orgs(id),
    email       TEXT NOT NULL,
    role        TEXT NOT NULL,
    active      BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT,
    UNIQUE (org_id, email)
);

-- Only the sha256 of the secret is stored. `id` is the public part of the token string.
CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    secret_hash  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    seller_id    BIGINT NOT NULL REFERENCES sellers(id),
    org_id       BIGINT REFERENCES orgs(id),
    seat_id      BIGINT REFERENCES seats(id),
    packages     TEXT NOT NULL DEFAULT '[]',
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX tokens_seat ON tokens(seat_id);

CREATE TABLE download_events (
    id          BIGSERIAL PRIMARY KEY,
    release_id  BIGINT NOT NULL REFERENCES releases(id),
    org_id      BIGINT REFERENCES orgs(id),
    seat_id     BIGINT REFERENCES seats(id),
    token_id    TEXT NOT NULL,
    at          BIGINT NOT NULL,
    client_ip   TEXT
);
CREATE INDEX download_events_release ON download_events(release_id, at);

-- One row per write that changes what a caller may see (see registry/src/change.rs): servers
-- read the rows after the last one they applied and drop exactly the affected cache entries.
CREATE TABLE change_log (
    seq    BIGSERIAL PRIMARY KEY,
    scope  TEXT NOT NULL,
    at     BIGINT NOT NULL
);
