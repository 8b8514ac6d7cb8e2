"""Measurement 4: memory and throughput of `fetch` on a large file, against a plain httpx copy."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx

from benchmarks.context import Bench
from benchmarks.people import Person, connect, new_people, send_command
from benchmarks.processes import REPOSITORY, ServerProcess
from benchmarks.results import Figure, Section, Target
from benchmarks.services import Interval, Services
from benchmarks.stats import mebibytes, ratio, times
from tests.fakes import SlackUpload

MAX_GROWTH = 50 * 2**20
MAX_SLOWDOWN = 2.0
WARM_UP_SIZE = 2 * 10**6
SAMPLE_SECONDS = 0.02
FETCH_TIMEOUT = 600.0

DOWNLOAD_CAUSE = (
    "The app streams the download with httpx's async client and hands every 256 KiB chunk"
    " to a worker thread to write it to the spool file (`GraphClient._stream_to` in"
    " bot/graph/client.py), a thread hop per chunk; the baseline writes each chunk directly."
)

METHOD = (
    "One connected person runs `/onedrive fetch` on a {size} file that the fake Graph"
    " generates while it is read, with `FETCH_MAX_BYTES` above it, after a {warm} warm-up"
    " fetch. Peak memory is VmHWM of the app process from /proc after resetting it"
    " (`clear_refs` 5) just before the command, minus VmRSS at that moment; VmRSS is also"
    " sampled every {sample:.0f} ms. Download and upload times are the intervals the fake"
    " download host and the fake Slack upload host spent on the transfer. The baseline is"
    " `benchmarks/copy_baseline.py` in its own process: a plain httpx stream of the same"
    " bytes from the same download host into a temporary file, then a streamed httpx upload"
    " to the same upload host, as the app's fetch does."
)


def _is_upload_of(upload: SlackUpload, person: Person, name: str) -> bool:
    return upload.filename == name and person.user_id in (upload.initial_comment or "")


def _fetch(
    bench: Bench, app: ServerProcess, person: Person, name: str
) -> tuple[int, int, float, float]:
    """Fetch one file; return RSS before, peak RSS, the command's send time and its end."""
    services = bench.services
    app.reset_peak_memory()
    before = app.memory().rss
    sampled_peak = before
    uploads_before = len(services.slack.completed_uploads)
    with httpx.Client(timeout=20) as client:
        _, sent = send_command(
            client, services, person, app.url, bench.signing_secret, f"fetch {name}"
        )
    deadline = sent + FETCH_TIMEOUT
    while True:
        sampled_peak = max(sampled_peak, app.memory().rss)
        done = [
            (upload, arrived)
            for upload, arrived in services.slack.completed_uploads.timed()[uploads_before:]
            if _is_upload_of(upload, person, name)
        ]
        if done:
            finished = done[0][1]
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"fetch of {name} did not finish within {FETCH_TIMEOUT} s")
        time.sleep(SAMPLE_SECONDS)
    peak = max(app.memory().peak, sampled_peak)
    return before, peak, sent, finished


def _transfers_since(services: Services, since: float) -> tuple[Interval, Interval]:
    download = [
        i for i in services.graph.timed_download_host.transfers.snapshot() if i.started >= since
    ]
    upload = [i for i in services.slack.upload_intervals.snapshot() if i.started >= since]
    if not download or not upload:
        raise RuntimeError("the fakes recorded no download or no upload for the fetch")
    return download[-1], upload[-1]


def _baseline(bench: Bench, download_url: str, upload: SlackUpload) -> dict[str, int]:
    completed = subprocess.run(  # noqa: S603 - fixed interpreter and module
        [sys.executable, "-m", "benchmarks.copy_baseline", download_url, upload.upload_url],
        env={**bench.services.ca.env(), "PATH": "", "PYTHONPATH": str(REPOSITORY)},
        capture_output=True,
        text=True,
        timeout=FETCH_TIMEOUT,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"copy baseline failed:\n{completed.stderr[-2000:]}")
    return dict(json.loads(completed.stdout))


def measure(bench: Bench) -> Section:
    services = bench.services
    size = bench.plan.fetch_size
    section = Section(
        "4. Memory on large files",
        METHOD.format(
            size=f"{size / 10**6:.0f} MB ({mebibytes(size)})",
            warm=mebibytes(WARM_UP_SIZE),
            sample=SAMPLE_SECONDS * 1000,
        ),
    )
    with bench.database() as db:
        app = bench.new_app("fetch-app", db, FETCH_MAX_BYTES=str(size + 10 * 2**20))
        with app:
            person = new_people(services, 1)[0]
            connect(services, person, app.url, bench.signing_secret)
            big = services.graph.add_item(person.account, "big.bin", "/Large", size=size)
            services.graph.add_item(person.account, "warm.bin", "/Large", size=WARM_UP_SIZE)
            _fetch(bench, app, person, "warm.bin")

            rss_before, peak, sent, finished = _fetch(bench, app, person, "big.bin")
            download, upload = _transfers_since(services, sent)
            if not app.reset_peak_memory():
                section.notes.append("VmHWM could not be reset; the peak is the sampled VmRSS.")

    start = time.monotonic()
    target_upload = services.slack.announce_upload("big.bin", size)
    base_memory = _baseline(bench, services.graph.download_host.url_for(big), target_upload)
    base_download, base_upload = _transfers_since(services, start)
    _report(
        section,
        size,
        peak - rss_before,
        base_memory["peak"] - base_memory["rss_before"],
        (download, upload, finished - sent),
        (base_download, base_upload),
    )
    return section


def _report(
    section: Section,
    size: int,
    growth: int,
    base_growth: int,
    app: tuple[Interval, Interval, float],
    base: tuple[Interval, Interval],
) -> None:
    download, upload, total = app
    base_download, base_upload = base
    app_download = download.ended - download.started
    base_download_time = base_download.ended - base_download.started
    app_span = upload.ended - download.started
    base_span = base_upload.ended - base_download.started

    def rate(seconds: float) -> str:
        return f"{size / seconds / 10**6:.0f} MB/s"

    section.figures += [
        Figure("peak RSS growth during the fetch", mebibytes(growth), mebibytes(base_growth)),
        Figure(
            "download throughput",
            rate(app_download),
            rate(base_download_time),
            times(ratio(app_download, base_download_time)),
        ),
        Figure(
            "download and upload, start to end",
            rate(app_span),
            rate(base_span),
            times(ratio(app_span, base_span)),
        ),
        Figure("command to completed upload", f"{total:.1f} s"),
    ]
    section.targets.append(
        Target(
            f"peak RSS grows by under {mebibytes(MAX_GROWTH)}",
            mebibytes(growth),
            growth < MAX_GROWTH,
            gap="" if growth < MAX_GROWTH else f"{mebibytes(growth - MAX_GROWTH)} over",
        )
    )
    slowdown = ratio(app_download, base_download_time)
    section.targets.append(
        Target(
            f"download throughput within {MAX_SLOWDOWN:g}x of a plain httpx stream",
            f"{times(slowdown)} the baseline's time",
            slowdown <= MAX_SLOWDOWN,
            gap="" if slowdown <= MAX_SLOWDOWN else f"{slowdown:.3f}x against {MAX_SLOWDOWN}x",
            cause="" if slowdown <= MAX_SLOWDOWN else DOWNLOAD_CAUSE,
        )
    )
