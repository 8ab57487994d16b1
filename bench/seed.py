#!/usr/bin/env python3
"""Seed a running tollgate with npm packages over the real publish endpoint (stdlib only).

  seed.py --registry http://127.0.0.1:PORT/acme/npm --token TOKEN --packages 1000 --versions 20
      publishes @acme/p0 .. @acme/p999, each with 1.0.0 .. 1.0.19 (versions of one package in
      order, packages concurrently on --threads keep-alive connections).

  seed.py --registry ... --token TOKEN --big @acme/big --big-mb 100
      publishes one version (1.0.0) of a package whose tarball is gzip of --big-mb MiB of random
      bytes (so about that size: random data does not compress).

Exits non-zero on the first failed publish and prints the server's answer.
"""

import argparse
import base64
import gzip
import hashlib
import http.client
import io
import json
import os
import sys
import tarfile
import threading
import time
import urllib.parse


def tgz(name, version, extra=b""):
    """A real npm tarball: package/package.json (+ package/index.js), gzipped."""
    manifest = json.dumps({"name": name, "version": version, "main": "index.js"}).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, data in (("package/package.json", manifest),
                           ("package/index.js", b"module.exports = %r;\n" % version.encode() + extra)):
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mtime = 499162500  # npm's fixed mtime
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


def publish_body(name, version, tarball, deps):
    manifest = {
        "name": name,
        "version": version,
        "description": f"benchmark package {name}",
        "main": "index.js",
        "license": "UNLICENSED",
        "dependencies": deps,
        "engines": {"node": ">=18"},
        "dist": {
            "integrity": "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode(),
            "shasum": hashlib.sha1(tarball).hexdigest(),
        },
    }
    return json.dumps({
        "_id": name,
        "name": name,
        "dist-tags": {"latest": version},
        "versions": {version: manifest},
        "_attachments": {
            f"{name}-{version}.tgz": {
                "content_type": "application/octet-stream",
                "data": base64.b64encode(tarball).decode(),
                "length": len(tarball),
            }
        },
    }).encode()


class Client:
    """One keep-alive HTTP connection to the registry."""

    def __init__(self, registry, token):
        u = urllib.parse.urlsplit(registry)
        self.host, self.port = u.hostname, u.port or 80
        self.prefix = u.path.rstrip("/")
        self.token = token
        self.conn = None

    def put(self, name, body, timeout=600):
        path = f"{self.prefix}/{urllib.parse.quote(name, safe='@')}"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            try:
                self.conn.request("PUT", path, body=body, headers={
                    "authorization": f"Bearer {self.token}",
                    "content-type": "application/json",
                    "npm-command": "publish",
                })
                resp = self.conn.getresponse()
                text = resp.read()
                return resp.status, text
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server may close an idle keep-alive connection; reconnect once.
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def seed(args):
    names = [f"{args.scope}/p{i}" for i in range(args.packages)]
    next_index = [0]
    lock = threading.Lock()
    failures = []
    done = [0]
    started = time.monotonic()

    def worker():
        client = Client(args.registry, args.token)
        while True:
            with lock:
                if failures or next_index[0] >= len(names):
                    return
                i = next_index[0]
                next_index[0] += 1
            name = names[i]
            # A few dependencies on other benchmark packages make the documents realistic.
            deps = {names[(i + k) % len(names)]: "^1.0.0" for k in (1, 7, 31) if len(names) > k}
            for v in range(args.versions):
                version = f"1.0.{v}"
                body = publish_body(name, version, tgz(name, version), deps)
                status, text = client.put(name, body)
                if status != 201:
                    with lock:
                        failures.append(f"PUT {name}@{version}: {status} {text[:500]!r}")
                    return
                with lock:
                    done[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    if failures:
        print("seed failed:", *failures, sep="\n  ", file=sys.stderr)
        sys.exit(1)
    print(f"seeded {args.packages} packages x {args.versions} versions = {done[0]} publishes "
          f"in {elapsed:.1f}s ({done[0] / elapsed:.0f} publishes/s, {args.threads} threads)")


def big(args):
    t0 = time.monotonic()
    # Random bytes don't compress: the tarball ends up about --big-mb MiB.
    payload = os.urandom(args.big_mb * 1024 * 1024)
    tarball = gzip.compress(payload, compresslevel=1, mtime=0)
    del payload
    body = publish_body(args.big, "1.0.0", tarball, {})
    t1 = time.monotonic()
    status, text = Client(args.registry, args.token).put(args.big, body)
    t2 = time.monotonic()
    if status != 201:
        print(f"big publish failed: {status} {text[:500]!r}", file=sys.stderr)
        sys.exit(1)
    print(f"published {args.big}@1.0.0: tarball {len(tarball)} bytes, request body {len(body)} bytes; "
          f"built in {t1 - t0:.1f}s, PUT took {t2 - t1:.1f}s")
    if args.size_file:
        with open(args.size_file, "w") as f:
            f.write(f"{len(tarball)}\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--registry", required=True, help="e.g. http://127.0.0.1:8080/acme/npm")
    p.add_argument("--token", required=True, help="a publish token")
    p.add_argument("--scope", default="@acme")
    p.add_argument("--packages", type=int, default=1000)
    p.add_argument("--versions", type=int, default=20)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--big", help="publish one big package with this name instead of seeding")
    p.add_argument("--big-mb", type=int, default=100)
    p.add_argument("--size-file", help="with --big: write the tarball size in bytes here")
    args = p.parse_args()
    if args.big:
        big(args)
    else:
        seed(args)


if __name__ == "__main__":
    main()
