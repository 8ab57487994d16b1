#!/usr/bin/env python3
"""Seed a running tollgate with crates over Cargo's real publish endpoint (stdlib only).

  seed_cargo.py --api http://127.0.0.1:PORT/acme/cargo --token PUBLISH_TOKEN \
      --crates 1000 --versions 20 --threads 8

publishes c0000 .. c0999 (`--prefix c`, 4 digits), each with 1.0.0 .. 1.0.19, through
`PUT {api}/api/v1/crates/new`: u32 LE JSON length, the JSON metadata, u32 LE crate length, the
`.crate` (a gzipped tar holding NAME-VERS/Cargo.toml and NAME-VERS/src/lib.rs). Versions of one
crate go in order; crates go concurrently on --threads keep-alive connections. Exits non-zero on
the first failed publish and prints the server's answer.
"""

import argparse
import gzip
import http.client
import io
import json
import struct
import sys
import tarfile
import threading
import time
import urllib.parse


def crate_name(prefix, i):
    return f"{prefix}{i:04d}"


def krate(name, vers):
    """A real `.crate`: NAME-VERS/Cargo.toml + NAME-VERS/src/lib.rs, gzipped tar."""
    manifest = (f'[package]\nname = "{name}"\nversion = "{vers}"\nedition = "2021"\n'
                f'description = "benchmark crate {name}"\nlicense = "MIT"\n').encode()
    lib = f"pub const VERSION: &str = {json.dumps(vers)};\n".encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path, data in (("Cargo.toml", manifest), ("src/lib.rs", lib)):
            info = tarfile.TarInfo(f"{name}-{vers}/{path}")
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 1153704088  # cargo's fixed mtime
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


def publish_body(name, vers):
    meta = json.dumps({
        "name": name,
        "vers": vers,
        "deps": [],
        "features": {},
        "authors": ["Acme"],
        "description": f"benchmark crate {name}",
        "license": "MIT",
        "keywords": [],
        "categories": [],
        "badges": {},
        "links": None,
    }).encode()
    crate = krate(name, vers)
    return struct.pack("<I", len(meta)) + meta + struct.pack("<I", len(crate)) + crate


class Client:
    """One keep-alive HTTP connection to the registry."""

    def __init__(self, url, token):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port or 80
        self.prefix = u.path.rstrip("/")
        self.token = token
        self.conn = None

    def send(self, method, path, body, content_type):
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
            try:
                self.conn.request(method, self.prefix + path, body=body, headers={
                    "authorization": self.token,
                    "content-type": content_type,
                    "accept": "application/json",
                })
                resp = self.conn.getresponse()
                return resp.status, resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server may close an idle keep-alive connection; reconnect once.
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--api", required=True, help="e.g. http://127.0.0.1:8080/acme/cargo")
    p.add_argument("--token", required=True, help="a publish token")
    p.add_argument("--prefix", default="c")
    p.add_argument("--crates", type=int, default=1000)
    p.add_argument("--versions", type=int, default=20)
    p.add_argument("--threads", type=int, default=8)
    args = p.parse_args()

    names = [crate_name(args.prefix, i) for i in range(args.crates)]
    next_index = [0]
    lock = threading.Lock()
    failures = []
    done = [0]
    body_bytes = [0]
    started = time.monotonic()

    def worker():
        client = Client(args.api, args.token)
        while True:
            with lock:
                if failures or next_index[0] >= len(names):
                    return
                name = names[next_index[0]]
                next_index[0] += 1
            for v in range(args.versions):
                vers = f"1.0.{v}"
                body = publish_body(name, vers)
                status, text = client.send("PUT", "/api/v1/crates/new", body, "application/octet-stream")
                if status != 200:
                    with lock:
                        failures.append(f"PUT crates/new {name}@{vers}: {status} {text[:500]!r}")
                    return
                with lock:
                    done[0] += 1
                    body_bytes[0] += len(body)

    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    if failures:
        print("seed failed:", *failures, sep="\n  ", file=sys.stderr)
        sys.exit(1)
    print(f"seeded {args.crates} crates x {args.versions} versions = {done[0]} publishes "
          f"in {elapsed:.1f}s ({done[0] / elapsed:.0f} publishes/s, {args.threads} threads, "
          f"{body_bytes[0] / max(done[0], 1):.0f} bytes per publish body)")


if __name__ == "__main__":
    main()
