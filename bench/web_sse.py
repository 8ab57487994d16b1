#!/usr/bin/env python3
"""How long open dashboards wait between an npm publish and their live update (stdlib only).

  web_sse.py --url http://127.0.0.1:PORT --seller acme --jar cookies.txt \\
      --token PUBLISH_TOKEN --package @acme/live --streams 200 --rounds 5

Opens STREAMS event streams `GET /{seller}/dashboard/live` (text/event-stream, the signed-in
seller's session cookie from the curl cookie jar) on raw asyncio connections, then ROUNDS times:
publishes the next version of PACKAGE through the real npm publish endpoint
(`PUT /{seller}/npm/{name}`, bench/seed.py's body) and records, per stream, when the first
`event: change` with `data: releases` (or `everything`) arrives. Reports p50/p99/max over the
streams for each round and over all rounds, measured from the publish response and from the
moment the PUT was sent (a stream may hear of the release before the publisher's response
arrives; such waits count as 0 from the response). Timestamps are taken by this one Python
event loop as it reads each socket, so the tail includes the client's own time to read 200
sockets. Exits non-zero if a stream is refused or misses an update within --timeout seconds.
"""

import argparse
import asyncio
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed import publish_body, tgz  # noqa: E402


def session_cookie(jar):
    """`name=value` of every cookie in a curl (Netscape) cookie jar."""
    pairs = []
    for line in open(jar):
        if line.startswith("#HttpOnly_"):
            line = line[len("#HttpOnly_"):]
        elif line.startswith("#") or not line.strip():
            continue
        fields = line.rstrip("\n").split("\t")
        if len(fields) >= 7:
            pairs.append(f"{fields[5]}={fields[6]}")
    if not pairs:
        sys.exit(f"web_sse: no cookie in {jar}")
    return "; ".join(pairs)


async def read_head(reader):
    """Status code and lower-cased headers of an HTTP/1.1 response."""
    status = await reader.readline()
    if not status:
        raise ConnectionError("connection closed before the response")
    code = int(status.split()[1])
    headers = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            return code, headers
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()


class Stream:
    """One open dashboard: parses its event stream and timestamps every event."""

    def __init__(self):
        self.events = []  # (monotonic time, event, data)
        self.wake = asyncio.Event()
        self.error = None

    async def open(self, host, port, path, cookie):
        self.reader, self.writer = await asyncio.open_connection(host, port)
        self.writer.write((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
                           "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n").encode())
        await self.writer.drain()
        code, headers = await read_head(self.reader)
        kind = headers.get("content-type", "")
        if code != 200 or not kind.startswith("text/event-stream"):
            raise ConnectionError(f"GET {path} answered {code} {kind!r}")
        self.chunked = "chunked" in headers.get("transfer-encoding", "")

    async def body(self):
        """The response body as it arrives, with chunked framing removed."""
        r = self.reader
        while True:
            if not self.chunked:
                data = await r.read(65536)
                if not data:
                    return
                yield data
                continue
            size = int((await r.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                return
            data = await r.readexactly(size + 2)
            yield data[:-2]

    async def run(self):
        buf = b""
        try:
            async for data in self.body():
                buf += data.replace(b"\r\n", b"\n")
                while b"\n\n" in buf:
                    block, buf = buf.split(b"\n\n", 1)
                    at = time.monotonic()
                    event, lines = "message", []
                    for line in block.decode().split("\n"):
                        if line.startswith(":"):
                            continue
                        field, _, value = line.partition(":")
                        value = value[1:] if value.startswith(" ") else value
                        if field == "event":
                            event = value
                        elif field == "data":
                            lines.append(value)
                    if lines or event != "message":
                        self.events.append((at, event, "\n".join(lines)))
                        self.wake.set()
            self.error = "the server closed the stream"
        except (ConnectionError, asyncio.IncompleteReadError, ValueError) as e:
            self.error = f"stream failed: {e}"
        self.wake.set()

    def update_after(self, t0):
        for at, event, data in self.events:
            if at >= t0 and event == "change" and data in ("releases", "everything"):
                return at
        return None


async def publish(host, port, path, token, body):
    """PUT the npm publish document; returns (status, text, time sent, time answered)."""
    reader, writer = await asyncio.open_connection(host, port)
    head = (f"PUT {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nnpm-command: publish\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode()
    sent = time.monotonic()
    writer.write(head + body)
    await writer.drain()
    code, headers = await read_head(reader)
    text = await reader.read(int(headers["content-length"])) if "content-length" in headers else b""
    answered = time.monotonic()
    writer.close()
    return code, text, sent, answered


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def line(label, waits):
    ms = [w * 1000 for w in waits]
    return (f"{label:<10} p50 {pct(ms, 50):7.1f} ms   p99 {pct(ms, 99):7.1f} ms   "
            f"max {max(ms):7.1f} ms   min {min(ms):7.1f} ms   ({len(ms)} streams)")


async def main_async(args):
    u = urllib.parse.urlsplit(args.url)
    host, port = u.hostname, u.port or 80
    cookie = session_cookie(args.jar)
    live = f"/{args.seller}/dashboard/live"
    streams = [Stream() for _ in range(args.streams)]
    t0 = time.monotonic()
    # Open them 50 at a time (the server's accept queue and session reads stay reasonable).
    for i in range(0, len(streams), 50):
        await asyncio.gather(*(s.open(host, port, live, cookie) for s in streams[i:i + 50]))
    tasks = [asyncio.create_task(s.run()) for s in streams]
    print(f"opened {len(streams)} event streams in {time.monotonic() - t0:.2f}s", flush=True)
    await asyncio.sleep(args.settle)
    if args.server_pid:
        rss = [l.split()[1] for l in open(f"/proc/{args.server_pid}/status") if l.startswith("VmRSS:")]
        print(f"server RSS with {len(streams)} streams open: {int(rss[0]) / 1024:.1f} MiB", flush=True)

    name = args.package
    path = f"/{args.seller}/npm/{urllib.parse.quote(name, safe='@')}"
    all_resp, all_sent = [], []
    for n in range(1, args.rounds + 1):
        version = f"{args.major}.0.{n}"
        body = publish_body(name, version, tgz(name, version), {})
        for s in streams:
            s.events.clear()
            s.wake.clear()
        code, text, sent, answered = await publish(host, port, path, args.token, body)
        if code != 201:
            sys.exit(f"web_sse: PUT {name}@{version} answered {code}: {text[:300]!r}")
        deadline = answered + args.timeout
        for s in streams:
            while s.update_after(sent) is None and s.error is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    await asyncio.wait_for(s.wake.wait(), left)
                except asyncio.TimeoutError:
                    break
                s.wake.clear()
        arrivals = [s.update_after(sent) for s in streams]
        missed = [i for i, a in enumerate(arrivals) if a is None]
        if missed:
            errors = {streams[i].error for i in missed if streams[i].error}
            sys.exit(f"web_sse: round {n}: {len(missed)} of {len(streams)} streams got no update within "
                     f"{args.timeout}s {sorted(errors)}")
        from_resp = [max(0.0, a - answered) for a in arrivals]
        from_sent = [a - sent for a in arrivals]
        early = sum(1 for a in arrivals if a < answered)
        all_resp += from_resp
        all_sent += from_sent
        print(f"round {n}: {name}@{version} PUT took {(answered - sent) * 1000:.1f} ms; "
              f"{early} streams heard before the response", flush=True)
        print("  " + line("from resp", from_resp), flush=True)
        await asyncio.sleep(args.pause)
    print(f"all {args.rounds} rounds:")
    print("  " + line("from resp", all_resp))
    print("  " + line("from PUT", all_sent))
    for t in tasks:
        t.cancel()
    for s in streams:
        s.writer.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8080")
    p.add_argument("--seller", default="acme")
    p.add_argument("--jar", required=True, help="curl cookie jar of a signed-in seller")
    p.add_argument("--token", required=True, help="a publish token")
    p.add_argument("--package", default="@acme/live")
    p.add_argument("--major", type=int, default=1, help="versions published are MAJOR.0.1, MAJOR.0.2, ...")
    p.add_argument("--streams", type=int, default=200)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--settle", type=float, default=1.0, help="seconds to wait after opening")
    p.add_argument("--server-pid", type=int, help="report this process's RSS with the streams open")
    p.add_argument("--pause", type=float, default=1.0, help="seconds between rounds")
    args = p.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
