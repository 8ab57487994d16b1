#!/usr/bin/env python3
"""Print one field of a `wrk --latency` report (used by bench/cargo.sh and bench/rubygems.sh).

  wrkstats.py REPORT FIELD     FIELD: rps, p50, p90, p99 (milliseconds), non2xx, errors, requests
"""

import re
import sys


def ms(v):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", v)
    n, u = float(m.group(1)), m.group(2)
    return n * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[u]


def main():
    text = open(sys.argv[1]).read()
    field = sys.argv[2]
    if field == "rps":
        print(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    elif field in ("p50", "p90", "p99"):
        v = re.search(r"^\s+%s%%\s+(\S+)" % field[1:], text, re.M).group(1)
        print(f"{ms(v):.2f}")
    elif field == "non2xx":
        m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
        print(m.group(1) if m else 0)
    elif field == "errors":
        m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
        print(sum(map(int, m.groups())) if m else 0)
    elif field == "requests":
        print(re.search(r"(\d+) requests in", text).group(1))
    else:
        sys.exit(f"unknown field {field}")


if __name__ == "__main__":
    main()
