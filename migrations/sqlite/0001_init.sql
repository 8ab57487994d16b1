-- Tollgate schema. Timestamps are milliseconds since the Unix epoch (UTC), so the same
-- columns mean the same thing on SQLite and PostgreSQL (BIGINT there).

CREATE TABLE sellers (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE products (
    id          INTEGER PRIMARY KEY,
    seller_id   INTEGER NOT NULL REFERENCES sellers(id),
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (seller_id, slug)
);

-- One name in one ecosystem, owned by one seller. `name` is stored normalised for the ecosystem.
CREATE TABLE packages (
    id          INTEGER PRIMARY KEY,
    seller_id   INTEGER NOT NULL REFERENCES sellers(id),
    ecosystem   TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (seller_id, ecosystem, name)
);

CREATE TABLE product_packages (
    product_id  INTEGER NOT NULL REFERENCES products(id),
    package_id  INTEGER NOT NULL REFERENCES packages(id),
    PRIMARY KEY (product_id, package_id)
);
CREATE INDEX product_packages_package ON product_packages(package_id);

-- Immutable once written: (package, version) is unique and blob_sha256 is never updated.
CREATE TABLE releases (
    id            INTEGER PRIMARY KEY,
    package_id    INTEGER NOT NULL REFERENCES packages(id),
    version       TEXT NOT NULL,
    blob_sha256   TEXT NOT NULL,
    size          INTEGER NOT NULL,
    metadata      TEXT NOT NULL,
    published_at  INTEGER NOT NULL,
    yanked        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (package_id, version)
);

CREATE TABLE dist_tags (
    package_id  INTEGER NOT NULL REFERENCES packages(id),
    tag         TEXT NOT NULL,
    version     TEXT NOT NULL,
    PRIMARY KEY (package_id, tag)
);

CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY,
    seller_id   INTEGER NOT NULL REFERENCES sellers(id),
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (seller_id, slug)
);

-- "org may use product" over [starts_at, ends_at) with a version rule.
CREATE TABLE entitlements (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    product_id  INTEGER NOT NULL REFERENCES products(id),
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER,
    rule        TEXT NOT NULL,
    source      TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX entitlements_org ON entitlements(org_id);

CREATE TABLE seats (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    email       TEXT NOT NULL,
    role        TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    UNIQUE (org_id, email)
);

-- Only the sha256 of the secret is stored. `id` is the public part of the token string.
CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    secret_hash  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    seller_id    INTEGER NOT NULL REFERENCES sellers(id),
    org_id       INTEGER REFERENCES orgs(id),
    seat_id      INTEGER REFERENCES seats(id),
    packages     TEXT NOT NULL DEFAULT '[]',
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE INDEX tokens_seat ON tokens(seat_id);

CREATE TABLE download_events (
    id          INTEGER PRIMARY KEY,
    release_id  INTEGER NOT NULL REFERENCES releases(id),
    org_id      INTEGER REFERENCES orgs(id),
    seat_id     INTEGER REFERENCES seats(id),
    token_id    TEXT NOT NULL,
    at          INTEGER NOT NULL,
    client_ip   TEXT
);
CREATE INDEX download_events_release ON download_events(release_id, at);

-- One row per write that changes what a caller may see (see registry/src/change.rs): servers
-- read the rows after the last one they applied and drop exactly the affected cache entries.
CREATE TABLE change_log (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    scope  TEXT NOT NULL,
    at     INTEGER NOT NULL
);
