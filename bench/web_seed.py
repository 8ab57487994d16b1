#!/usr/bin/env python3
"""Bulk-load a seller's customers and download history for bench/web.sh (stdlib + psql only).

  web_seed.py --database DATA/tollgate.db --seller acme --product pro --orgs 1000 --events 1000000
  web_seed.py --database postgres://...   (same, through `psql` COPY)

The seller, its product, packages and releases must exist already (made by the CLI and real
npm publishes); the server must be stopped on SQLite (one writer). Adds, with explicit ids after
the highest ones in use, in one transaction:

  * ORGS orgs `org0001`.. with a seat cap, 1-5 seats each (the first one admin, one in ten of
    the others revoked), a seat token per seat, one org token (CI), a live `manual` entitlement
    to the product; two orgs in three also get a Stripe subscription to a plan `team`
    (mostly active, some past_due or canceled) with the seat cap as its quantity;
  * EVENTS download events spread uniformly over the last DAYS days (ids in time order, as
    the server writes them): 69% seat tokens, 30% org tokens, 1% the seller's own publish token
    (no org, any release). Orgs download with Pareto-distributed weights (busy CI and quiet
    ones), each from its own working set: 1-4 of the packages, each at a version it upgrades
    0-3 times over the period, as a real project pins and bumps its dependencies.

Rows are the same on both backends for the same --seed. Prints one line of counts and timing.
"""

import argparse
import bisect
import csv
import hashlib
import io
import os
import random
import sqlite3
import subprocess
import sys
import time

DAY_MS = 86_400_000


class Sqlite:
    def __init__(self, path):
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA busy_timeout = 10000")

    def query(self, sql):
        return [tuple(r) for r in self.conn.execute(sql).fetchall()]

    def load(self, tables):
        """tables: [(name, columns, rows)] inserted in one transaction."""
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            for name, cols, rows in tables:
                marks = ", ".join("?" * len(cols))
                c.executemany(f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({marks})", rows)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        bad = c.execute("PRAGMA foreign_key_check").fetchall()
        if bad:
            sys.exit(f"web_seed: foreign key violations after the load: {bad[:5]}")


class Postgres:
    def __init__(self, url):
        self.url = url

    def query(self, sql):
        out = subprocess.run(["psql", "-XAtq", "-F", "\t", "-v", "ON_ERROR_STOP=1", self.url, "-c", sql],
                             check=True, capture_output=True, text=True).stdout
        return [tuple(None if v == "" else v for v in line.split("\t")) for line in out.splitlines() if line]

    def load(self, tables):
        script = io.StringIO()
        script.write("\\set ON_ERROR_STOP 1\nBEGIN;\n")
        for name, cols, rows in tables:
            script.write(f"COPY {name} ({', '.join(cols)}) FROM STDIN WITH (FORMAT csv);\n")
            csv.writer(script, lineterminator="\n").writerows(rows)
            script.write("\\.\n")
        for name, cols, _ in tables:
            if name == "tokens":  # text ids, no sequence
                continue
            script.write(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                         f"(SELECT MAX(id) FROM {name}));\n")
        script.write("COMMIT;\nANALYZE;\n")
        subprocess.run(["psql", "-Xq", self.url], input=script.getvalue(), text=True, check=True,
                       stdout=subprocess.DEVNULL)


def one(db, sql, what):
    rows = db.query(sql)
    if not rows or rows[0][0] is None:
        sys.exit(f"web_seed: {what} not found")
    return int(rows[0][0])


def next_id(db, table):
    return int(db.query(f"SELECT COALESCE(MAX(id), 0) FROM {table}")[0][0]) + 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database", required=True, help="SQLite file path or postgres:// URL")
    p.add_argument("--seller", default="acme")
    p.add_argument("--product", default="pro")
    p.add_argument("--orgs", type=int, default=1000)
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--days", type=int, default=60)
    p.add_argument("--seed", type=int, default=10)
    args = p.parse_args()

    started = time.monotonic()
    rnd = random.Random(args.seed)
    pg = args.database.startswith(("postgres:", "postgresql:"))
    db = Postgres(args.database) if pg else Sqlite(args.database)
    now = int(time.time() * 1000)

    seller = one(db, f"SELECT id FROM sellers WHERE slug = '{args.seller}'", f"seller {args.seller}")
    product = one(db, f"SELECT id FROM products WHERE seller_id = {seller} AND slug = '{args.product}'",
                  f"product {args.product}")
    by_package = {}  # package id -> its releases, in publish order
    for rid, pid in db.query(
            f"SELECT r.id, r.package_id FROM releases r JOIN packages p ON p.id = r.package_id "
            f"WHERE p.seller_id = {seller} ORDER BY r.package_id, r.id"):
        by_package.setdefault(int(pid), []).append(int(rid))
    if not by_package:
        sys.exit("web_seed: the seller has no releases; publish some first")
    packages = list(by_package.values())
    releases = [r for versions in packages for r in versions]
    publish = db.query(f"SELECT id FROM tokens WHERE seller_id = {seller} AND kind = 'publish' LIMIT 1")
    seller_token = publish[0][0] if publish else "0000000000000000"

    def token_row(tid, kind, org, seat, created):
        secret = hashlib.sha256(rnd.randbytes(32)).hexdigest()  # nobody holds it
        return (tid, hashlib.sha256(secret.encode()).hexdigest(), kind, seller, org, seat, "[]", created, None)

    org_id, seat_id = next_id(db, "orgs"), next_id(db, "seats")
    ent_id, sub_id, plan_id = next_id(db, "entitlements"), next_id(db, "subscriptions"), next_id(db, "plans")
    created = now - 90 * DAY_MS
    orgs, seats, tokens, ents, subs = [], [], [], [], []
    plans = [(plan_id, seller, "team", product, "price_bench_team", "per_quantity", "while_active", 7, created)]
    # Per org: (org id, [(seat id, seat token id)], org token id)
    holders = []
    for i in range(1, args.orgs + 1):
        oid = org_id
        org_id += 1
        n_seats = rnd.randint(1, 5)
        cap = n_seats + rnd.randint(0, 3)
        subscribed = i % 3 != 0
        customer = f"cus_bench_{i:04d}" if subscribed else None
        orgs.append((oid, seller, f"org{i:04d}", f"Org {i:04d} Ltd", created + i * 1000, customer, cap))
        ents.append((ent_id, oid, product, created, None, "while_active", "manual", created + i * 1000, None))
        if subscribed:
            status = rnd.choices(["active", "past_due", "canceled", "trialing"], [85, 5, 5, 5])[0]
            subs.append((sub_id, seller, f"sub_bench_{i:04d}", customer, oid, plan_id, ent_id, status, cap,
                         None, now - rnd.randint(0, 30) * DAY_MS, 1500, "usd", "month"))
            sub_id += 1
        ent_id += 1
        active = []
        for j in range(n_seats):
            sid = seat_id
            seat_id += 1
            revoked = j > 0 and rnd.random() < 0.1
            seats.append((sid, oid, f"dev{j}@org{i:04d}.test", "admin" if j == 0 else "member",
                          0 if revoked else 1, created + i * 1000, now - DAY_MS if revoked else None))
            tid = rnd.randbytes(8).hex()
            tokens.append(token_row(tid, "seat", oid, sid, created + i * 1000))
            active.append((sid, tid))
        org_token = rnd.randbytes(8).hex()
        tokens.append(token_row(org_token, "org", oid, None, created + i * 1000))
        holders.append((oid, active, org_token))

    event_id = next_id(db, "download_events")
    span = args.days * DAY_MS
    # What each org installs: 1-4 of the packages, each at a version it moves up from now and
    # then (0-3 upgrades over the period): [(releases, upgrade times, version index per period)].
    working = []
    for _ in holders:
        deps = []
        for versions in rnd.sample(packages, min(len(packages), rnd.randint(1, 4))):
            at = sorted(rnd.randrange(now - span, now) for _ in range(rnd.randint(0, 3)))
            index = [rnd.randrange(len(versions))]
            for _ in at:
                index.append(min(len(versions) - 1, index[-1] + rnd.randint(1, 3)))
            deps.append((versions, at, index))
        working.append(deps)
    # Some orgs download far more than others (busy CI): Pareto weights.
    weights = [rnd.paretovariate(1.5) for _ in holders]
    cum = [sum(weights[:1])]
    for w in weights[1:]:
        cum.append(cum[-1] + w)
    who = rnd.choices(range(len(holders)), cum_weights=cum, k=args.events)
    times = sorted(rnd.randrange(now - span, now) for _ in range(args.events))
    events = []
    for k, at in enumerate(times):
        ip = f"10.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}"
        r = rnd.random()
        if r < 0.01:
            events.append((event_id + k, rnd.choice(releases), None, None, seller_token, at, ip, seller))
            continue
        oid, active, org_token = holders[who[k]]
        versions, upgrades, index = rnd.choice(working[who[k]])
        release = versions[index[bisect.bisect_right(upgrades, at)]]
        if r < 0.31:
            events.append((event_id + k, release, oid, None, org_token, at, ip, seller))
        else:
            sid, tid = active[rnd.randrange(len(active))]
            events.append((event_id + k, release, oid, sid, tid, at, ip, seller))
    built = time.monotonic()

    db.load([
        ("orgs", ("id", "seller_id", "slug", "name", "created_at", "stripe_customer", "seat_cap"), orgs),
        ("plans", ("id", "seller_id", "slug", "product_id", "stripe_price", "seats", "rule", "grace_days",
                   "created_at"), plans),
        ("entitlements", ("id", "org_id", "product_id", "starts_at", "ends_at", "rule", "source", "created_at",
                          "warning"), ents),
        ("subscriptions", ("id", "seller_id", "stripe_id", "customer_id", "org_id", "plan_id", "entitlement_id",
                           "status", "quantity", "first_failed_at", "updated_at", "unit_amount", "currency",
                           "price_interval"), subs),
        ("seats", ("id", "org_id", "email", "role", "active", "created_at", "revoked_at"), seats),
        ("tokens", ("id", "secret_hash", "kind", "seller_id", "org_id", "seat_id", "packages", "created_at",
                    "revoked_at"), tokens),
        ("download_events", ("id", "release_id", "org_id", "seat_id", "token_id", "at", "client_ip",
                             "seller_id"), events),
    ])
    done = time.monotonic()
    try:  # the per-day rollup the dashboard reads, kept by a trigger on download_events
        rollup = f", {int(db.query('SELECT COUNT(*) FROM download_days')[0][0])} download_days rows"
    except (sqlite3.Error, subprocess.CalledProcessError):
        rollup = ""
    print(f"loaded {len(orgs)} orgs, {len(seats)} seats, {len(tokens)} tokens, {len(subs)} subscriptions, "
          f"{len(events)} download events over {len(releases)} releases and {args.days} days{rollup} "
          f"(built in {built - started:.1f}s, written in {done - built:.1f}s, {'postgres' if pg else 'sqlite'})")


if __name__ == "__main__":
    os.environ.setdefault("PGCONNECT_TIMEOUT", "10")
    main()
