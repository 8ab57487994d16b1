#!/usr/bin/env python3
"""Seed a running tollgate with one PyPI project over the real upload endpoint (stdlib only).

  pypi_seed.py --upload http://127.0.0.1:PORT/acme/pypi/upload/ --token PUBLISH_TOKEN \
      --name acme-pro --files 200 --threads 4

uploads FILES/2 versions (1.0.0, 1.0.1, ...) of the project, each as a pure wheel and an sdist,
through the legacy upload API the way twine sends it: `POST` multipart/form-data with
`:action=file_upload`, `protocol_version=1`, the core metadata fields, `sha256_digest` and the
file in `content`, HTTP Basic `__token__:TOKEN`. Exits non-zero on the first failed upload and
prints the server's answer; prints one summary line.

The files are built here, not with `python -m build` (too slow for hundreds): a wheel is a zip
of the module, `METADATA`, `WHEEL` and `RECORD`; an sdist a tar.gz of `PKG-INFO`,
`pyproject.toml` and the module. Fixed timestamps make the bytes reproducible.
"""

import argparse
import base64
import hashlib
import http.client
import io
import sys
import tarfile
import threading
import time
import urllib.parse
import zipfile

MTIME = 1764028800  # 2025-11-25
ZIP_TIME = (2025, 11, 25, 0, 0, 0)


def metadata(name, version, version_line="Metadata-Version: 2.1"):
    return (
        f"{version_line}\nName: {name}\nVersion: {version}\n"
        f"Summary: Benchmark project {name}\nRequires-Python: >=3.8\n"
        "Requires-Dist: acme-core>=1.0\n\n"
    ).encode()


def record_hash(data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest},{len(data)}"


def wheel(name, version):
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f'def hello():\n    return "{name} {version}"\n'.encode(),
        f"{dist_info}/METADATA": metadata(name, version),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: pypi_seed\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n",
    }
    record = "".join(f"{path},{record_hash(data)}\n" for path, data in files.items())
    record += f"{dist_info}/RECORD,,\n"
    files[f"{dist_info}/RECORD"] = record.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files.items():
            z.writestr(zipfile.ZipInfo(path, ZIP_TIME), data)
    return f"{module}-{version}-py3-none-any.whl", buf.getvalue()


def sdist(name, version):
    module = name.replace("-", "_")
    top = f"{module}-{version}"
    files = {
        f"{top}/PKG-INFO": metadata(name, version),
        f"{top}/pyproject.toml": (
            '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
            f'[project]\nname = "{name}"\nversion = "{version}"\n'
        ).encode(),
        f"{top}/{module}/__init__.py": f'def hello():\n    return "{name} {version}"\n'.encode(),
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as t:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mtime = MTIME
            t.addfile(info, io.BytesIO(data))
    return f"{top}.tar.gz", buf.getvalue()


def multipart(fields, filename, content):
    boundary = "tollgate-bench-" + hashlib.sha256(content).hexdigest()[:24]
    out = io.BytesIO()
    for key, value in fields:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
    out.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="content"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
    )
    out.write(content)
    out.write(f"\r\n--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", out.getvalue()


def upload_one(conn, path, auth, name, version, kind, filename, content):
    fields = [
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("metadata_version", "2.1"),
        ("name", name),
        ("version", version),
        ("filetype", "bdist_wheel" if kind == "wheel" else "sdist"),
        ("pyversion", "py3" if kind == "wheel" else "source"),
        ("summary", f"Benchmark project {name}"),
        ("requires_python", ">=3.8"),
        ("requires_dist", "acme-core>=1.0"),
        ("sha256_digest", hashlib.sha256(content).hexdigest()),
    ]
    ctype, body = multipart(fields, filename, content)
    conn.request("POST", path, body=body, headers={"Authorization": auth, "Content-Type": ctype})
    res = conn.getresponse()
    text = res.read().decode("utf-8", "replace")
    if res.status != 200:
        sys.exit(f"upload of {filename} answered {res.status} {res.reason}: {text[:500]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upload", required=True, help="http://HOST/SELLER/pypi/upload/")
    ap.add_argument("--token", required=True, help="the seller's publish token")
    ap.add_argument("--name", default="acme-pro")
    ap.add_argument("--files", type=int, default=200, help="even: a wheel and an sdist per version")
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    if args.files < 2 or args.files % 2:
        sys.exit("--files must be an even number >= 2")

    url = urllib.parse.urlsplit(args.upload)
    auth = "Basic " + base64.b64encode(f"__token__:{args.token}".encode()).decode()
    jobs = []
    for i in range(args.files // 2):
        version = f"1.0.{i}"
        for kind, build in (("wheel", wheel), ("sdist", sdist)):
            filename, content = build(args.name, version)
            jobs.append((version, kind, filename, content))
    total_bytes = sum(len(j[3]) for j in jobs)
    lock = threading.Lock()
    errors = []

    def worker():
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        while True:
            with lock:
                if not jobs or errors:
                    return
                job = jobs.pop(0)
            try:
                upload_one(conn, url.path, auth, args.name, *job)
            except BaseException as e:  # SystemExit from upload_one too
                with lock:
                    errors.append(str(e))
                return

    started = time.time()
    threads = [threading.Thread(target=worker) for _ in range(max(1, args.threads))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit(errors[0])
    secs = time.time() - started
    print(
        f"uploaded {args.files} files ({args.files // 2} versions x wheel+sdist) of {args.name}, "
        f"{total_bytes} bytes, in {secs:.1f}s ({args.files / secs:.0f} uploads/s)"
    )


if __name__ == "__main__":
    main()
