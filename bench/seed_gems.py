#!/usr/bin/env python3
"""Seed a running tollgate with gems over the real push endpoint (stdlib only).

  seed_gems.py --source http://127.0.0.1:PORT/acme/gems --token PUBLISH_TOKEN \
      --gems 1000 --versions 20 --threads 8

pushes g0000 .. g0999 (`--prefix g`, 4 digits), each with 1.0.0 .. 1.0.19, through
`POST {source}/api/v1/gems` (the `.gem` as the body, the token raw in Authorization, as
`gem push` sends them). Versions of one gem go in order; gems go concurrently on --threads
keep-alive connections. Exits non-zero on the first failed push and prints the server's answer.

The `.gem` files are built here, not with `gem build` (too slow for 20 000): a plain tar of
`metadata.gz` (the gzipped YAML gemspec, as `Gem::Specification#to_yaml` writes it, with the
`!ruby/object:Gem::…` tags), `data.tar.gz` (lib/NAME.rb) and `checksums.yaml.gz` (SHA256 and
SHA512 of the other two). Each gem but the last has one runtime dependency on the next
benchmark gem (`~> 1.0`, no cycle) and a development dependency on rake, so /info lines look
like real ones.
"""

import argparse
import gzip
import hashlib
import http.client
import io
import sys
import tarfile
import threading
import time
import urllib.parse

MTIME = 1764028800  # 2025-11-25, fixed so the bytes are reproducible


def gem_name(prefix, i):
    return f"{prefix}{i:04d}"


def requirement(op, version, indent):
    pad = " " * indent
    return (f"!ruby/object:Gem::Requirement\n"
            f"{pad}requirements:\n"
            f"{pad}- - \"{op}\"\n"
            f"{pad}  - !ruby/object:Gem::Version\n"
            f"{pad}    version: '{version}'\n")


def dependency(name, op, version, kind):
    return (f"- !ruby/object:Gem::Dependency\n"
            f"  name: {name}\n"
            f"  requirement: {requirement(op, version, 4)}"
            f"  type: :{kind}\n"
            f"  prerelease: false\n"
            f"  version_requirements: {requirement(op, version, 4)}")


def gemspec_yaml(name, version, deps):
    dependencies = "".join(dependency(d, "~>", "1.0", "runtime") for d in deps)
    dependencies += dependency("rake", ">=", "0", "development")
    return (
        "--- !ruby/object:Gem::Specification\n"
        f"name: {name}\n"
        "version: !ruby/object:Gem::Version\n"
        f"  version: {version}\n"
        "platform: ruby\n"
        "authors:\n"
        "- Acme\n"
        "autorequire:\n"
        "bindir: bin\n"
        "cert_chain: []\n"
        "date: 2026-11-25 00:00:00.000000000 Z\n"
        f"dependencies:\n{dependencies}"
        f"description: Benchmark gem {name}, version {version}.\n"
        "email: bench@example.com\n"
        "executables: []\n"
        "extensions: []\n"
        "extra_rdoc_files: []\n"
        "files:\n"
        f"- lib/{name}.rb\n"
        "homepage: https://example.com/acme\n"
        "licenses:\n"
        "- Nonstandard\n"
        "metadata: {}\n"
        "post_install_message:\n"
        "rdoc_options: []\n"
        "require_paths:\n"
        "- lib\n"
        f"required_ruby_version: {requirement('>=', '2.7', 2)}"
        f"required_rubygems_version: {requirement('>=', '0', 2)}"
        "requirements: []\n"
        "rubygems_version: 3.3.15\n"
        "signing_key:\n"
        "specification_version: 4\n"
        f"summary: Benchmark gem {name}\n"
        "test_files: []\n"
    )


def tar_bytes(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path, data in entries:
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o444
            info.mtime = MTIME
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def gem_file(name, version, deps):
    module = "".join(part.capitalize() for part in name.split("_"))
    lib = f"module {module}\n  VERSION = {version!r}\nend\n".replace("'", '"').encode()
    data = gzip.compress(tar_bytes([(f"lib/{name}.rb", lib)]), mtime=0)
    metadata = gzip.compress(gemspec_yaml(name, version, deps).encode(), mtime=0)
    parts = {"metadata.gz": metadata, "data.tar.gz": data}
    checksums = "---\n"
    for algo in ("SHA256", "SHA512"):
        checksums += f"{algo}:\n"
        for fname, blob in parts.items():
            checksums += f"  {fname}: {hashlib.new(algo.lower(), blob).hexdigest()}\n"
    return tar_bytes([
        ("metadata.gz", metadata),
        ("data.tar.gz", data),
        ("checksums.yaml.gz", gzip.compress(checksums.encode(), mtime=0)),
    ])


class Client:
    """One keep-alive HTTP connection to the source."""

    def __init__(self, url, token):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port or 80
        self.prefix = u.path.rstrip("/")
        self.token = token
        self.conn = None

    def post(self, path, body):
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
            try:
                self.conn.request("POST", self.prefix + path, body=body, headers={
                    "authorization": self.token,
                    "content-type": "application/octet-stream",
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
    p.add_argument("--source", required=True, help="e.g. http://127.0.0.1:8080/acme/gems")
    p.add_argument("--token", required=True, help="a publish token")
    p.add_argument("--prefix", default="g")
    p.add_argument("--gems", type=int, default=1000)
    p.add_argument("--versions", type=int, default=20)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--write", metavar="DIR", help="also write the first gem's first .gem file here")
    args = p.parse_args()

    names = [gem_name(args.prefix, i) for i in range(args.gems)]
    next_index = [0]
    lock = threading.Lock()
    failures = []
    done = [0]
    body_bytes = [0]
    started = time.monotonic()

    if args.write and names:
        with open(f"{args.write}/{names[0]}-1.0.0.gem", "wb") as f:
            f.write(gem_file(names[0], "1.0.0", names[1:2]))

    def worker():
        client = Client(args.source, args.token)
        while True:
            with lock:
                if failures or next_index[0] >= len(names):
                    return
                i = next_index[0]
                next_index[0] += 1
            name = names[i]
            deps = [names[i + 1]] if i + 1 < len(names) else []
            for v in range(args.versions):
                version = f"1.0.{v}"
                body = gem_file(name, version, deps)
                status, text = client.post("/api/v1/gems", body)
                if status != 200:
                    with lock:
                        failures.append(f"POST api/v1/gems {name}-{version}: {status} {text[:500]!r}")
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
    print(f"seeded {args.gems} gems x {args.versions} versions = {done[0]} pushes "
          f"in {elapsed:.1f}s ({done[0] / elapsed:.0f} pushes/s, {args.threads} threads, "
          f"{body_bytes[0] / max(done[0], 1):.0f} bytes per .gem)")


if __name__ == "__main__":
    main()
