#!/usr/bin/env python3
"""Revocation-to-refusal latency across two tollgate replicas (stdlib only; run by
bench/revocation.sh, which starts the backend and the two servers).

For each of --count rounds:
  1. `seat add` dev<i>@x and `token create --seat` for it (the CLI, with the inherited env);
  2. GET the packument on replica A and on replica B with that token, expecting 200 (so both
     replicas have the token in their caches: the measurement is of invalidation, not of a cold
     lookup);
  3. `seat revoke` dev<i>@x with the CLI; its transaction is committed when the process exits.
     From that moment (t0) one thread per replica GETs the packument in a tight loop over a
     keep-alive connection (--interval between requests) until the replica answers 401.
     The latency is the time from t0 until that 401 response was read; the time from t0 to the
     last 200 seen is kept as a lower bound.
Also timed: each CLI call, from process start to exit.

Note: an admin CLI command that changed something sleeps 3 x CHANGE_POLL (150 ms) after its
commit before it exits (src/commands.rs, so that the next request after it returns is refused).
The "after exit" number therefore shows that this wait suffices, not how fast the change travels.
A second pass (--during rounds) polls both replicas from the moment the revoke CLI is spawned and
reports when they started refusing relative to the CLI's start and exit (negative: before it
exited), which shows the propagation itself (commit is about 150 ms before exit).
"""

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed import Client, publish_body, tgz  # noqa: E402

SECRET = re.compile(r"tg_[0-9a-f]{16}_[0-9a-f]{64}")


class Conn:
    """A keep-alive GET connection to one replica."""

    def __init__(self, base, path):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port or 80
        self.path = path
        self.conn = None

    def get(self, token):
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
            try:
                self.conn.request("GET", self.path, headers={
                    "authorization": f"Bearer {token}",
                    "accept": "application/vnd.npm.install-v1+json",
                })
                resp = self.conn.getresponse()
                resp.read()
                return resp.status
            except (http.client.HTTPException, ConnectionError, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def run_cli(cmd):
    """Runs a tollgate CLI command; returns (seconds from start to exit, stdout)."""
    t = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dt = time.monotonic() - t
    if p.returncode != 0:
        sys.exit(f"revocation: {' '.join(cmd[2:])} failed ({p.returncode}): {p.stderr.strip()}")
    return dt, p.stdout


class Poller(threading.Thread):
    """Waits for `go`, then polls its replica until 401 (or the timeout); one per replica and
    round, so both replicas are polled at the same time."""

    def __init__(self, conn, token, go, interval, timeout):
        super().__init__(daemon=True)
        self.conn, self.token, self.go = conn, token, go
        self.interval, self.timeout = interval, timeout
        self.t0 = None
        self.refused_at = None   # seconds after t0 when the 401 was read
        self.last_ok = 0.0       # seconds after t0 when the last 200 was read
        self.polls = 0
        self.odd = {}            # other statuses seen: status -> count

    def run(self):
        self.go.wait()
        t0 = self.t0
        while True:
            status = self.conn.get(self.token)
            now = time.monotonic() - t0
            self.polls += 1
            if status == 401:
                self.refused_at = now
                return
            if status == 200:
                self.last_ok = now
            else:
                self.odd[status] = self.odd.get(status, 0) + 1
            if now > self.timeout:
                return
            if self.interval > 0:
                time.sleep(self.interval)


def pct(values, p):
    """Nearest-rank percentile."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, -(-p * len(s) // 100) - 1))
    return s[int(k)]


def ms(x):
    return f"{x * 1000:8.1f}"


def summary_row(label, values):
    if not values:
        return f"{label:<44} (no samples)"
    return (f"{label:<44} {ms(statistics.median(values))} {ms(pct(values, 90))} "
            f"{ms(pct(values, 99))} {ms(max(values))} {ms(min(values))}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tollgate", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--a", required=True, help="replica A base URL")
    ap.add_argument("--b", required=True, help="replica B base URL")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--during", type=int, default=100,
                    help="rounds of the second pass (polling while the revoke CLI runs); 0: none")
    ap.add_argument("--interval", type=float, default=0.001, help="seconds between polls")
    ap.add_argument("--timeout", type=float, default=5.0, help="give up on a round after this")
    ap.add_argument("--backend", default="?")
    ap.add_argument("--json", help="write the raw samples here")
    args = ap.parse_args()

    tg = [args.tollgate, "--data", args.data]
    seller = ["--seller", "acme"]
    setup = [
        ["seller", "create", "acme", "--name", "Acme", "--email", "a@x"],
        ["product", "create", *seller, "ui", "--package", "npm:@acme/ui"],
        ["org", "create", *seller, "buyer", "--name", "Buyer"],
        ["grant", *seller, "--org", "buyer", "--product", "ui"],
    ]
    for cmd in setup:
        run_cli(tg + cmd)
    _, out = run_cli(tg + ["token", "create", *seller, "--publish"])
    publish_token = SECRET.search(out).group(0)

    # One package, published through replica A.
    name, version = "@acme/ui", "1.0.0"
    status, text = Client(f"{args.a}/acme/npm", publish_token).put(
        name, publish_body(name, version, tgz(name, version), {}))
    if status != 201:
        sys.exit(f"revocation: publish through A answered {status}: {text[:300]!r}")
    print(f"published {name}@{version} through replica A", file=sys.stderr)

    path = "/acme/npm/@acme%2fui"
    conn_a, conn_b = Conn(args.a, path), Conn(args.b, path)
    # B must list the package published through A before the rounds start.
    _, out = run_cli(tg + ["seat", "add", *seller, "--org", "buyer", "probe@x"])
    _, out = run_cli(tg + ["token", "create", *seller, "--org", "buyer", "--seat", "probe@x"])
    probe = SECRET.search(out).group(0)
    deadline = time.monotonic() + 5
    while conn_b.get(probe) != 200:
        if time.monotonic() > deadline:
            sys.exit("revocation: replica B does not serve the package published through A")
        time.sleep(0.01)

    rounds = []
    during = []
    warm = {"A": [], "B": []}  # durations of the warm-up GETs (200), for scale
    for i in range(args.count + args.during):
        second = i >= args.count
        email = f"dev{i}@x"
        t_add, _ = run_cli(tg + ["seat", "add", *seller, "--org", "buyer", email])
        t_tok, out = run_cli(tg + ["token", "create", *seller, "--org", "buyer", "--seat", email])
        m = SECRET.search(out)
        if not m:
            sys.exit(f"revocation: no secret in the output of token create: {out!r}")
        token = m.group(0)
        # Warm both replicas (and check the token works on both).
        for label, conn in (("A", conn_a), ("B", conn_b)):
            t = time.monotonic()
            st = conn.get(token)
            warm[label].append(time.monotonic() - t)
            if st != 200:
                sys.exit(f"revocation: round {i}: warm-up GET on replica {label} answered {st}")
        # The pollers reuse these warm keep-alive connections.
        go = threading.Event()
        pa = Poller(conn_a, token, go, args.interval, args.timeout)
        pb = Poller(conn_b, token, go, args.interval, args.timeout)
        pa.start()
        pb.start()
        revoke = tg + ["seat", "revoke", *seller, "--org", "buyer", email]
        if second:
            # Poll from the spawn of the CLI on; times are relative to the spawn.
            pa.t0 = pb.t0 = time.monotonic()
            go.set()
            t_rev, _ = run_cli(revoke)
            spawn_to_exit = time.monotonic() - pa.t0
            pa.join()
            pb.join()
            during.append({
                "round": i, "revoke_cli": t_rev, "spawn_to_exit": spawn_to_exit,
                "a": pa.refused_at, "b": pb.refused_at, "a_odd": pa.odd, "b_odd": pb.odd,
            })
            if (i + 1) % 10 == 0:
                print(f"  second pass {i + 1 - args.count}/{args.during}", file=sys.stderr)
            continue
        t_rev, _ = run_cli(revoke)
        t0 = time.monotonic()
        pa.t0 = pb.t0 = t0
        go.set()
        pa.join()
        pb.join()
        rounds.append({
            "round": i, "seat_add": t_add, "token_create": t_tok, "revoke_cli": t_rev,
            "a": pa.refused_at, "a_last_ok": pa.last_ok, "a_polls": pa.polls, "a_odd": pa.odd,
            "b": pb.refused_at, "b_last_ok": pb.last_ok, "b_polls": pb.polls, "b_odd": pb.odd,
        })
        if (i + 1) % 10 == 0:
            print(f"  {i + 1}/{args.count} revocations; last: B refused after "
                  f"{'timeout' if pb.refused_at is None else f'{pb.refused_at * 1000:.1f} ms'}",
                  file=sys.stderr)

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"after_exit": rounds, "during": during}, f, indent=1)

    def col(key):
        return [r[key] for r in rounds if r[key] is not None]

    timeouts_a = sum(1 for r in rounds if r["a"] is None)
    timeouts_b = sum(1 for r in rounds if r["b"] is None)
    odd = {}
    for r in rounds:
        for k in ("a_odd", "b_odd"):
            for st, n in r[k].items():
                odd[f"{k[0].upper()}:{st}"] = odd.get(f"{k[0].upper()}:{st}", 0) + n
    b_ok_before = [r["b_last_ok"] for r in rounds if r["b"] is not None and r["b_last_ok"] > 0]

    print()
    print("================================================================ tollgate revocation benchmark")
    print(f"backend: {args.backend}")
    print(f"replica A (serves the publish, polled too): {args.a}; replica B (saw no write): {args.b}")
    print(f"{len(rounds)} revocations: `tollgate seat revoke` (the CLI, a third process) with the token cached "
          f"on both replicas; each replica polled every {args.interval * 1000:g} ms on a keep-alive "
          f"connection from the moment the CLI exited, until it answered 401 (timeout {args.timeout:g} s)")
    print()
    print(f"{'':<44} {'median':>8} {'p90':>8} {'p99':>8} {'max':>8} {'min':>8}   (ms)")
    print(summary_row("revoke exit -> 401 on replica B", col("b")))
    print(summary_row("revoke exit -> 401 on replica A", col("a")))
    print(summary_row("revoke CLI, process start to exit", col("revoke_cli")))
    print(summary_row("(one authorized GET on B, 200, for scale)", warm["B"]))
    print(summary_row("(seat add CLI, start to exit)", col("seat_add")))
    print(summary_row("(token create CLI, start to exit)", col("token_create")))
    print()
    print(f"B: refused in {len(col('b'))}/{len(rounds)} rounds, timeouts {timeouts_b}; "
          f"A: refused in {len(col('a'))}/{len(rounds)}, timeouts {timeouts_a}")
    first_b = sum(1 for r in rounds if r["b"] is not None and r["b_polls"] == 1)
    print(f"B refused on the very first poll after the CLI exited in {first_b}/{len(rounds)} rounds "
          f"(there the invalidation had arrived before the CLI process finished, and the number "
          f"is one request's round trip)")
    print(f"B answered 200 after the revoke had exited in {len(b_ok_before)}/{len(rounds)} rounds "
          f"(max {max(b_ok_before, default=0) * 1000:.1f} ms after); polls per round on B: median "
          f"{statistics.median(r['b_polls'] for r in rounds):.0f}")
    print(f"statuses other than 200/401 while polling: {odd or 'none'}")
    if during:
        def rel(key, to_exit):
            return [r[key] - (r["spawn_to_exit"] if to_exit else 0) for r in during if r[key] is not None]
        print()
        print(f"second pass, {len(during)} revocations polled from the spawn of the revoke CLI on "
              f"(the CLI sleeps 150 ms after its commit, so commit ~= exit - 150 ms):")
        print(f"{'':<44} {'median':>8} {'p90':>8} {'p99':>8} {'max':>8} {'min':>8}   (ms)")
        print(summary_row("CLI spawn -> 401 on B", rel("b", False)))
        print(summary_row("CLI spawn -> 401 on A", rel("a", False)))
        print(summary_row("CLI spawn -> CLI exit", [r["spawn_to_exit"] for r in during]))
        print(summary_row("CLI exit -> 401 on B (negative: before exit)", rel("b", True)))
        print(summary_row("CLI exit -> 401 on A (negative: before exit)", rel("a", True)))
        t_d = sum(1 for r in during if r["a"] is None) + sum(1 for r in during if r["b"] is None)
        print(f"timeouts in the second pass: {t_d}; other statuses: "
              f"{[(r['round'], r['a_odd'], r['b_odd']) for r in during if r['a_odd'] or r['b_odd']] or 'none'}")
        timeouts_a += sum(1 for r in during if r["a"] is None)
    within = sum(1 for r in rounds if r["b"] is not None and r["b"] < 1.0)
    print(f"target (issue 4): refused by every replica within 1 s -> B within 1 s in {within}/{len(rounds)} rounds")
    if timeouts_a or timeouts_b:
        sys.exit(2)


if __name__ == "__main__":
    main()
