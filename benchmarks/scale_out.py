"""Measurement 5: two app processes on one PostgreSQL database, and CPU time per search."""

from __future__ import annotations

import time

import httpx

from benchmarks.context import Bench
from benchmarks.loadgen import send_requests
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
from benchmarks.stats import median, ms, ratio, times

MAX_CPU_PER_SEARCH = 0.005
MAX_SCALE_RATIO = 1.15
RATE = 20.0
GRAPH_DELAY = 0.05

CPU_CAUSE = (
    "The bare Bolt app needs {ack} of CPU to ack a command and {respond} to ack it and answer"
    " once through `response_url` (Bolt's `respond` opens a new aiohttp session and TLS"
    " connection for each answer). On top of its ack, a search costs the app {graph} Graph"
    " requests, a token lookup and its reply, and the target leaves {room} for all of that."
)

SCALE_CAUSE = (
    "Each process keeps its own httpx pool, database pool and MSAL discovery cache, so two"
    " processes open more connections (TLS handshakes to Graph and Slack, PostgreSQL"
    " connections) for the same load. The rounds ({rounds}) show how much of the gap is the"
    " machine's noise."
)

METHOD = (
    "Two `serve` processes, A and B, each with its own port and `PUBLIC_URL`, share one"
    " PostgreSQL schema; both callback URLs are registered with the fake identity platform."
    " Half the people get their consent link from A and the other half from B; each link"
    " is opened in a browser (httpx with a cookie jar), and Microsoft's redirect to the"
    " callback is delivered to the other process with the same path, query and cookie, as"
    " a load balancer in front of both would. Then every person searches once through each"
    " process. Capacity: {searches} searches at {rate:.0f} per second from {people} people,"
    " all to A (one process) or alternating between A and B (two processes), {rounds}"
    " round(s) of each, interleaved; CPU time is user plus system time of both app"
    " processes from /proc/PID/stat, read before the first command and after the last"
    " answer, divided by the number of searches, median over rounds. The fake Graph answers"
    " after {delay:.0f} ms. Baselines: the bare Bolt app that only acks, and the one that"
    " also answers once through `response_url`, loaded the same way."
)


def _cpu(processes: list[ServerProcess]) -> float:
    return sum(process.cpu_seconds() for process in processes)


def _load(
    bench: Bench,
    targets: list[ServerProcess],
    people: list[Person],
    wait_for_answers: bool,
) -> tuple[float, int]:
    """Send the scheduled searches round-robin over `targets`.

    Returns the CPU seconds per search of all `targets` and the number of failed searches.
    """
    services = bench.services
    count = bench.plan.scale_searches
    urls = [services.slack.new_response_url() for _ in range(count)]
    requests = [
        command_request(
            people[index % len(people)],
            targets[index % len(targets)].url,
            bench.signing_secret,
            SEARCH_TEXT,
            url,
            at=index / RATE,
        )
        for index, url in enumerate(urls)
    ]
    before = _cpu(targets)
    results = send_requests(requests, preconnect=False, timeout=30.0)
    failed = sum(1 for result in results if result.status != 200)
    if wait_for_answers:
        answers = wait_answers(services, urls, timeout=60.0)
        failed += sum(
            1 for url in urls if url not in answers or not is_search_result(answers[url][0])
        )
    else:
        time.sleep(0.5)
    return (_cpu(targets) - before) / count, failed


def _connect_across(bench: Bench, a: ServerProcess, b: ServerProcess, people: list[Person]) -> int:
    """Connect each person with the link from one process and the callback on the other."""
    connected = 0
    for index, person in enumerate(people):
        link_app, callback_app = (a, b) if index % 2 == 0 else (b, a)
        connect(bench.services, person, link_app.url, bench.signing_secret, callback_app.url)
        connected += 1
    return connected


def _search_through_each(bench: Bench, apps: list[ServerProcess], people: list[Person]) -> int:
    answered = 0
    with httpx.Client(timeout=20) as client:
        for person in people:
            for app in apps:
                response_url, _ = send_command(
                    client, bench.services, person, app.url, bench.signing_secret, SEARCH_TEXT
                )
                answered += is_search_result(answer_to(bench.services, response_url)[0])
    return answered


def measure(bench: Bench) -> Section:
    plan = bench.plan
    services = bench.services
    section = Section(
        "5. Scale out",
        METHOD.format(
            searches=plan.scale_searches,
            rate=RATE,
            people=plan.scale_people,
            rounds=plan.scale_rounds,
            delay=GRAPH_DELAY * 1000,
        ),
    )
    if not bench.postgres:
        section.skipped = "PostgreSQL is not reachable, and two processes need a shared database."
        return section

    one_process: list[float] = []
    two_processes: list[float] = []
    failures = 0
    graph = 0.0
    with bench.database() as db:
        a, b = bench.new_app("scale-a", db), bench.new_app("scale-b", db)
        with a, b:
            people = new_people(services, plan.scale_people)
            connected = _connect_across(bench, a, b, people)
            services.graph.delay_seconds = GRAPH_DELAY
            try:
                either = _search_through_each(bench, [a, b], people)
                graph_before = len(services.graph.requests)
                for _ in range(plan.scale_rounds):
                    cpu, failed = _load(bench, [a], people, wait_for_answers=True)
                    one_process.append(cpu)
                    failures += failed
                    cpu, failed = _load(bench, [a, b], people, wait_for_answers=True)
                    two_processes.append(cpu)
                    failures += failed
                searches = 2 * plan.scale_rounds * plan.scale_searches
                graph = (len(services.graph.requests) - graph_before) / searches
            finally:
                services.graph.delay_seconds = 0.0

    bare_ack, bare_respond = [], []
    with (
        bench.new_bare_app("scale-bare") as bare,
        bench.new_bare_app("scale-bare-respond", respond=True) as responding,
    ):
        for _ in range(plan.scale_rounds):
            bare_ack.append(_load(bench, [bare], people, wait_for_answers=False)[0])
            bare_respond.append(_load(bench, [responding], people, wait_for_answers=True)[0])

    _report(
        section,
        plan.scale_people,
        (connected, either, failures),
        (one_process, two_processes),
        (bare_ack, bare_respond),
        graph,
    )
    return section


def _report(
    section: Section,
    people: int,
    outcomes: tuple[int, int, int],
    app_rounds: tuple[list[float], list[float]],
    bare_rounds: tuple[list[float], list[float]],
    graph: float,
) -> None:
    connected, either, failures = outcomes
    one_process, two_processes = app_rounds
    bare_ack, bare_respond = bare_rounds
    one_cpu, two_cpu = median(one_process), median(two_processes)
    ack_cpu, respond_cpu = median(bare_ack), median(bare_respond)
    rounds = "; ".join(
        f"{ms(first)} and {ms(second)}"
        for first, second in zip(one_process, two_processes, strict=True)
    )

    section.figures += [
        Figure("consent started on one process, finished on the other", f"{connected} of {people}"),
        Figure("searches answered, each person through each process", f"{either} of {2 * people}"),
        Figure("failed searches during the capacity runs", str(failures)),
        Figure("Graph requests per search", f"{graph:.2f}"),
        Figure(
            "CPU per search, one process",
            ms(one_cpu),
            ms(respond_cpu),
            times(ratio(one_cpu, respond_cpu)),
        ),
        Figure(
            "CPU per search, two processes",
            ms(two_cpu),
            ms(one_cpu),
            times(ratio(two_cpu, one_cpu)),
        ),
        Figure("CPU per search by round, one and two processes", rounds),
        Figure(
            "bare Bolt app CPU per command: ack only / ack and respond",
            f"{ms(ack_cpu)} / {ms(respond_cpu)}",
        ),
    ]

    works = connected == people and either == 2 * people and failures == 0
    section.targets.append(
        Target(
            "consent across processes and commands through either process, no errors",
            f"{connected}/{people} consents, {either}/{2 * people} searches, {failures} failures",
            works,
        )
    )

    cpu_met = one_cpu <= MAX_CPU_PER_SEARCH
    section.targets.append(
        Target(
            f"CPU per search at most {ms(MAX_CPU_PER_SEARCH)}",
            ms(one_cpu),
            cpu_met,
            gap="" if cpu_met else f"{ms(one_cpu - MAX_CPU_PER_SEARCH)} over",
            cause=""
            if cpu_met
            else CPU_CAUSE.format(
                ack=ms(ack_cpu),
                respond=ms(respond_cpu),
                graph=f"{graph:.1f}",
                room=ms(MAX_CPU_PER_SEARCH - ack_cpu),
            ),
        )
    )

    scale = ratio(two_cpu, one_cpu)
    scale_met = scale <= MAX_SCALE_RATIO
    section.targets.append(
        Target(
            f"two processes within {MAX_SCALE_RATIO}x of one",
            times(scale),
            scale_met,
            gap="" if scale_met else f"{scale:.3f}x against {MAX_SCALE_RATIO}x",
            cause="" if scale_met else SCALE_CAUSE.format(rounds=rounds),
        )
    )
