"""The baseline copy of a file: a plain httpx stream download, then an httpx streamed upload.

`python -m benchmarks.copy_baseline DOWNLOAD_URL UPLOAD_URL` does what the app's `fetch`
does with the bytes, in the same two steps (download into a temporary file, then upload
it with a Content-Length), and writes its RSS at start and its peak RSS as JSON on stdout.
TLS trust comes from SSL_CERT_FILE, as for the app.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import httpx

CHUNK_SIZE = 256 * 1024


def _memory() -> dict[str, int]:
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024
    return values


def _chunks(source: BinaryIO) -> Iterator[bytes]:
    while chunk := source.read(CHUNK_SIZE):
        yield chunk


def copy(download_url: str, upload_url: str) -> int:
    """Download the file into a temporary file, upload it, and return its size in bytes."""
    verify = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    with httpx.Client(verify=verify, timeout=120) as client, tempfile.TemporaryFile() as spool:
        with client.stream("GET", download_url) as response:
            response.raise_for_status()
            for chunk in response.iter_bytes(CHUNK_SIZE):
                spool.write(chunk)
        size = spool.tell()
        spool.seek(0)
        uploaded = client.post(
            upload_url,
            content=_chunks(spool),
            headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"},
        )
        uploaded.raise_for_status()
    return size


def main() -> None:
    before = _memory()
    size = copy(sys.argv[1], sys.argv[2])
    after = _memory()
    json.dump({"size": size, "rss_before": before["VmRSS"], "peak": after["VmHWM"]}, sys.stdout)


if __name__ == "__main__":
    main()
