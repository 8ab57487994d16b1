#!/usr/bin/env python3
"""Seed and check tollgate's Hex repository for bench/hex.sh (stdlib only).

  hex_seed.py publish --api http://127.0.0.1:PORT/acme/hex/api --token PUBLISH_TOKEN \
      --name acme_pro --versions 200 [--dep acme_util] [--write DIR]
  hex_seed.py check FILE --name acme_pro --repository acme --versions 200 \
      [--dep acme_util] [--public-key PEM]

`publish` builds NAME's releases 1.0.0 .. 1.0.(N-1) as real Hex tarballs and posts each to
`POST {api}/publish` (the raw tarball as the body, the token verbatim in Authorization, as
hex_core's `r3_hex_api_release:publish` sends them), in version order on one keep-alive
connection. Exits non-zero on the first failed publish and prints the server's answer. Each
`--dep` becomes a requirement (`~> 1.0`, not optional) in every release's metadata.config.

A Hex tarball (hex_core `hex_tarball.erl`) is an uncompressed tar of exactly `VERSION` (`3`),
`CHECKSUM` (uppercase hex SHA-256 of VERSION ++ metadata.config ++ contents.tar.gz),
`metadata.config` (Erlang term text, one `{Key, Value}.` per line) and `contents.tar.gz` (the
package files: here src/NAME.erl, src/NAME.app.src and rebar.config).

`check` reads a `/packages/NAME` response body (gzip of the `Signed` protobuf), verifies the RSA
PKCS#1 v1.5 SHA-512 signature against the repository's public key when given, decodes the
`Package` payload and checks its name, repository, release count and each release's
dependencies. Prints one summary line.
"""

import argparse
import base64
import gzip
import hashlib
import http.client
import io
import sys
import tarfile
import time
import urllib.parse

MTIME = 946684800  # 2000-01-01T00:00:00Z, the mtime hex_core gives every entry


# ---------------------------------------------------------------- building tarballs

def tar_bytes(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path, data in entries:
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = MTIME
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def binary(s):
    return '<<"' + s.replace("\\", "\\\\").replace('"', '\\"') + '">>'


def metadata_config(name, version, deps, files):
    reqs = ",".join(
        "{%s,[{<<\"app\">>,%s},{<<\"optional\">>,false},{<<\"requirement\">>,<<\"~> 1.0\">>}]}"
        % (binary(d), binary(d))
        for d in deps
    )
    lines = [
        ("name", binary(name)),
        ("version", binary(version)),
        ("app", binary(name)),
        ("description", binary(f"Benchmark package {name}, release {version}.")),
        ("build_tools", "[<<\"rebar3\">>]"),
        ("licenses", "[<<\"Proprietary\">>]"),
        ("links", "[{<<\"Homepage\">>,<<\"https://example.com/acme\">>}]"),
        ("files", "[" + ",".join(binary(f) for f in files) + "]"),
        ("requirements", "[" + reqs + "]"),
    ]
    return "".join("{%s,%s}.\n" % (binary(k), v) for k, v in lines).encode()


def hex_tarball(name, version, deps):
    """The bytes of a valid Hex package tarball (format 3)."""
    module = (f"-module({name}).\n-export([version/0]).\n\n"
              f"version() -> <<\"{version}\">>.\n").encode()
    app_src = (f"{{application, {name}, [\n"
               f"    {{description, \"Benchmark package {name}\"}},\n"
               f"    {{vsn, \"{version}\"}},\n"
               f"    {{applications, [kernel, stdlib{''.join(', ' + d for d in deps)}]}},\n"
               f"    {{licenses, [\"Proprietary\"]}}\n]}}.\n").encode()
    rebar = ("{deps, [" + ", ".join(f'{{{d}, "~> 1.0"}}' for d in deps) + "]}.\n").encode()
    files = [
        ("rebar.config", rebar),
        (f"src/{name}.app.src", app_src),
        (f"src/{name}.erl", module),
    ]
    contents = gzip.compress(tar_bytes(files), mtime=0)
    meta = metadata_config(name, version, deps, [f for f, _ in files])
    version_file = b"3"
    checksum = hashlib.sha256(version_file + meta + contents).hexdigest().upper().encode()
    return tar_bytes([
        ("VERSION", version_file),
        ("CHECKSUM", checksum),
        ("metadata.config", meta),
        ("contents.tar.gz", contents),
    ])


class Client:
    """One keep-alive HTTP connection to the API."""

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
                    "accept": "application/vnd.hex+erlang",
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


def publish(args):
    deps = args.dep or []
    client = Client(args.api, args.token)
    started = time.monotonic()
    total = 0
    for i in range(args.versions):
        version = f"{args.major}.0.{i}"
        body = hex_tarball(args.name, version, deps)
        if args.write and i == 0:
            with open(f"{args.write}/{args.name}-{version}.tar", "wb") as f:
                f.write(body)
        status, text = client.post("/publish", body)
        if status not in (200, 201):
            sys.exit(f"POST publish {args.name}-{version}: {status} {text[:500]!r}")
        total += len(body)
    elapsed = time.monotonic() - started
    n = args.versions
    print(f"published {args.name} x {n} releases in {elapsed:.1f}s "
          f"({n / max(elapsed, 1e-9):.0f} publishes/s, {total / max(n, 1):.0f} bytes per tarball, "
          f"deps: {', '.join(deps) or 'none'})")


# ---------------------------------------------------------------- checking /packages/NAME

def varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def fields(buf):
    """(field number, value) of a protobuf message: ints for varints, bytes otherwise."""
    i, out = 0, []
    while i < len(buf):
        key, i = varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = varint(buf, i)
        elif wire == 2:
            n, i = varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wire == 1:
            v, i = buf[i:i + 8], i + 8
        elif wire == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        out.append((num, v))
    return out


def der(buf, i):
    """(tag, content, next index) of the DER element at i."""
    tag, n = buf[i], buf[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n, i = int.from_bytes(buf[i:i + k], "big"), i + k
    return tag, buf[i:i + n], i + n


def rsa_public_key(pem):
    body = "".join(l for l in pem.splitlines() if l and not l.startswith("-----"))
    data = base64.b64decode(body)
    _, seq, _ = der(data, 0)
    tag, first, rest = der(seq, 0)
    if tag == 0x30:  # SubjectPublicKeyInfo: {algorithm, BIT STRING {n, e}}
        _, bits, _ = der(seq, rest)
        _, seq, _ = der(bits[1:], 0)  # skip the unused-bits byte
    _, n, i = der(seq, 0)
    _, e, _ = der(seq, i)
    return int.from_bytes(n, "big"), int.from_bytes(e, "big")


SHA512_DIGEST_INFO = bytes.fromhex("3051300d060960864801650304020305000440")


def verify(pem, payload, signature):
    n, e = rsa_public_key(pem)
    k = (n.bit_length() + 7) // 8
    em = pow(int.from_bytes(signature, "big"), e, n).to_bytes(k, "big")
    t = SHA512_DIGEST_INFO + hashlib.sha512(payload).digest()
    return em == b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t


def check(args):
    raw = open(args.file, "rb").read()
    signed = dict(fields(gzip.decompress(raw)))
    payload, signature = signed.get(1, b""), signed.get(2)
    verified = "not checked"
    if args.public_key:
        if signature is None or not verify(open(args.public_key).read(), payload, signature):
            sys.exit("check: the signature does not verify against the public key")
        verified = "verified"
    pkg = fields(payload)
    name = next((v.decode() for f, v in pkg if f == 2), None)
    repo = next((v.decode() for f, v in pkg if f == 3), None)
    releases = [dict((f, v) for f, v in fields(v) if f != 3) | {
        "deps": [dict(fields(d)).get(1, b"").decode() for f, d in fields(v) if f == 3]}
        for f, v in pkg if f == 1]
    problems = []
    if name != args.name:
        problems.append(f"name {name!r}, expected {args.name!r}")
    if repo != args.repository:
        problems.append(f"repository {repo!r}, expected {args.repository!r}")
    if len(releases) != args.versions:
        problems.append(f"{len(releases)} releases, expected {args.versions}")
    want = sorted(args.dep or [])
    for r in releases:
        if sorted(r["deps"]) != want or len(r.get(2, b"")) != 32 or len(r.get(5, b"")) != 32:
            problems.append(f"release {r.get(1, b'?').decode()}: deps {r['deps']}, "
                            f"checksums {len(r.get(2, b''))}/{len(r.get(5, b''))} bytes")
            break
    if problems:
        sys.exit("check: " + "; ".join(problems))
    first = releases[0][1].decode() if releases else "-"
    last = releases[-1][1].decode() if releases else "-"
    print(f"{name} in {repo}: {len(releases)} releases ({first} .. {last}), "
          f"{len(raw)} bytes gzipped, {len(payload)} bytes of payload, signature {verified}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    pub = sub.add_parser("publish", help="publish NAME x VERSIONS")
    pub.add_argument("--api", required=True, help="e.g. http://127.0.0.1:8080/acme/hex/api")
    pub.add_argument("--token", required=True, help="a publish token")
    pub.add_argument("--name", default="acme_pro")
    pub.add_argument("--versions", type=int, default=200)
    pub.add_argument("--major", type=int, default=1)
    pub.add_argument("--dep", action="append", help="a requirement (repeatable)")
    pub.add_argument("--write", metavar="DIR", help="also write the first tarball here")
    chk = sub.add_parser("check", help="check a /packages/NAME body")
    chk.add_argument("file")
    chk.add_argument("--name", default="acme_pro")
    chk.add_argument("--repository", default="acme")
    chk.add_argument("--versions", type=int, default=200)
    chk.add_argument("--dep", action="append", help="a requirement every release must list")
    chk.add_argument("--public-key", metavar="PEM", help="the repository's /public_key")
    args = p.parse_args()
    publish(args) if args.command == "publish" else check(args)


if __name__ == "__main__":
    main()
