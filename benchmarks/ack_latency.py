"""Measurement 1: ack latency of a burst of slash commands, against a bare Bolt app."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from benchmarks.context import Bench
from benchmarks.loadgen import Result, send_requests
from benchmarks.people import (
    SEARCH_TEXT,
    Person,
    answer_to,
    command_request,
    connect,
    is_search_result,
    new_people,
    send_command,
    wait_answers,
)
from benchmarks.processes import ServerProcess
from benchmarks.results import Figure, Section, Target
from benchmarks.stats import ms, percentile, ratio, times

GRAPH_DELAY = 0.3
ANSWER_TIMEOUT = 120.0
HELP_TEXT = "help"
MAX_RATIO = 1.25
WARM_UP_COMMANDS = 3

CAUSE = (
    "The app's ack path alone is not the slow part: `/onedrive help`, which acks with no work"
    " after it, was acked at p50 {help_p50} and p99 {help_p99} in the same rounds. The gap"
    " comes from the work each search starts right after its ack, in the same process as the"
    " acks still waiting: a token lookup and {graph:.1f} Graph requests per search, about"
    " {queued} Graph requests per burst. The app used {cpu} of CPU per search from the start"
    " of a burst to its last answer; compare its CPU per search at a steady rate in"
    " measurement 5."
)

METHOD = (
    "Each round sends {requests} signed `/onedrive search report` commands at once, each on"
    " a connection opened beforehand, from {people} connected people, to the app and then"
    " to a bare Bolt `AsyncApp` whose listener only acks (`benchmarks/bare_app.py`: same"
    " uvicorn arguments, same `AsyncSlackRequestHandler`). The fake Graph answers after"
    " {delay:.0f} ms. The load generator is a separate process; latency runs from writing a"
    " request to reading its whole response. Each round also sends the app a burst of"
    " `/onedrive help`, which it acks with no work after it. Rounds alternate between the"
    " apps ({rounds} each), percentiles are over all rounds' requests, and the next round"
    " starts only after every search was answered through `response_url`. The app runs on"
    " {db}."
)


def _burst(
    bench: Bench, target: ServerProcess, people: list[Person], text: str = SEARCH_TEXT
) -> tuple[list[Result], list[str]]:
    """Send one burst of commands; return the results and the commands' response URLs."""
    response_urls = [
        bench.services.slack.new_response_url() for _ in range(bench.plan.ack_requests)
    ]
    requests = [
        command_request(people[index % len(people)], target.url, bench.signing_secret, text, url)
        for index, url in enumerate(response_urls)
    ]
    return send_requests(requests, preconnect=True, timeout=30.0), response_urls


def _warm_up(bench: Bench, targets: list[ServerProcess], people: list[Person]) -> None:
    with httpx.Client(timeout=20) as client:
        for target in targets:
            for person in people[:WARM_UP_COMMANDS]:
                response_url, _ = send_command(
                    client, bench.services, person, target.url, bench.signing_secret, SEARCH_TEXT
                )
                if target.command[-1] == "serve":
                    answer_to(bench.services, response_url)


@dataclass
class BurstStats:
    """Totals over the bursts: latencies, search results, Graph requests and app CPU time."""

    app_results: list[Result] = field(default_factory=list)
    bare_results: list[Result] = field(default_factory=list)
    help_results: list[Result] = field(default_factory=list)
    searched: int = 0
    graph_requests: int = 0
    cpu_seconds: float = 0.0
    answer_spans: list[float] = field(default_factory=list)


def measure(bench: Bench) -> Section:
    plan = bench.plan
    services = bench.services
    section = Section(
        "1. Ack latency under load",
        METHOD.format(
            requests=plan.ack_requests,
            people=plan.ack_people,
            delay=GRAPH_DELAY * 1000,
            rounds=plan.ack_rounds,
            db="PostgreSQL" if bench.postgres else "SQLite",
        ),
    )
    stats = BurstStats()
    services.graph.delay_seconds = 0.0
    with bench.database() as db, bench.new_app("ack-app", db) as app:
        with bench.new_bare_app("ack-bare") as bare:
            people = new_people(services, plan.ack_people)
            for person in people:
                connect(services, person, app.url, bench.signing_secret)
            services.graph.delay_seconds = GRAPH_DELAY
            try:
                _warm_up(bench, [app, bare], people)
                for _ in range(plan.ack_rounds):
                    stats.bare_results += _burst(bench, bare, people)[0]
                    stats.help_results += _burst(bench, app, people, HELP_TEXT)[0]
                    cpu_before = app.cpu_seconds()
                    graph_before = len(services.graph.requests)
                    results, response_urls = _burst(bench, app, people)
                    stats.app_results += results
                    answers = wait_answers(services, response_urls, timeout=ANSWER_TIMEOUT)
                    stats.cpu_seconds += app.cpu_seconds() - cpu_before
                    stats.graph_requests += len(services.graph.requests) - graph_before
                    stats.searched += sum(
                        1 for message, _ in answers.values() if is_search_result(message)
                    )
                    if answers:
                        last = max(arrived for _, arrived in answers.values())
                        stats.answer_spans.append(last - min(r.sent for r in results))
            finally:
                services.graph.delay_seconds = 0.0

    _report(section, stats)
    return section


def _report(section: Section, stats: BurstStats) -> None:
    sent = len(stats.app_results)
    acked = sum(1 for result in stats.app_results if result.status == 200)
    bare_acked = sum(1 for result in stats.bare_results if result.status == 200)
    cpu_per_search = stats.cpu_seconds / sent if sent else 0.0
    graph_per_search = stats.graph_requests / sent if sent else 0.0
    section.figures += [
        Figure("commands acknowledged with HTTP 200", f"{acked} of {sent}", f"{bare_acked}"),
        Figure("searches answered with results", f"{stats.searched} of {sent}"),
        Figure(
            "burst start to the last answer, per round",
            ", ".join(f"{span:.1f} s" for span in stats.answer_spans),
        ),
        Figure("Graph requests per search", f"{graph_per_search:.2f}"),
        Figure("app CPU time per search, burst start to last answer", ms(cpu_per_search)),
    ]
    errors = sorted({result.error for result in stats.app_results if result.error})
    if errors:
        section.notes.append("Failed requests: " + "; ".join(errors[:5]))
    section.targets.append(
        Target(
            "every command acknowledged (HTTP 200)",
            f"{acked} of {sent}",
            acked == sent,
            gap="" if acked == sent else f"{sent - acked} not acknowledged",
        )
    )

    app_ok = [result.latency for result in stats.app_results if result.status == 200]
    bare_ok = [result.latency for result in stats.bare_results if result.status == 200]
    if not app_ok or not bare_ok:
        section.error = "no acknowledged request to compute latencies from"
        return
    help_ok = [result.latency for result in stats.help_results if result.status == 200]
    help_p50 = percentile(help_ok, 0.5) if help_ok else 0.0
    help_p99 = percentile(help_ok, 0.99) if help_ok else 0.0
    section.figures.append(
        Figure(
            "`/onedrive help` (acks with no work after it): p50 / p99 ack latency",
            f"{ms(help_p50)} / {ms(help_p99)}",
        )
    )
    cause = CAUSE.format(
        help_p50=ms(help_p50),
        help_p99=ms(help_p99),
        graph=graph_per_search,
        queued=round(graph_per_search * sent / max(1, len(stats.answer_spans))),
        cpu=ms(cpu_per_search),
    )
    for label, fraction in (("p50", 0.5), ("p99", 0.99)):
        value = percentile(app_ok, fraction)
        baseline = percentile(bare_ok, fraction)
        factor = ratio(value, baseline)
        section.figures.append(
            Figure(f"{label} ack latency", ms(value), ms(baseline), times(factor))
        )
        met = factor <= MAX_RATIO
        section.targets.append(
            Target(
                f"{label} ack latency at most {MAX_RATIO}x the bare Bolt app",
                times(factor),
                met,
                gap="" if met else f"{factor:.3f}x against {MAX_RATIO}x ({ms(value - baseline)})",
                cause="" if met else cause,
            )
        )
