"""Measurement 2: the app's own time per command, and its Graph and database round trips."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from benchmarks import database, sql_counts
from benchmarks.context import Bench
from benchmarks.database import TableCounters
from benchmarks.people import (
    CHANNEL,
    SEARCH_TEXT,
    SHARE_TEXT,
    Person,
    answer_to,
    connect,
    is_search_result,
    new_people,
    send_command,
)
from benchmarks.processes import COUNTING_COMMAND, ServerProcess
from benchmarks.results import Figure, Section, Target
from benchmarks.services import Interval
from benchmarks.stats import median, ms, ratio, times
from tests.fakes import SlackMessage

GRAPH_DELAY = 0.1
MAX_OVERHEAD = 0.015
PEOPLE = 3
WARM_UP_ROUNDS = 2
STATS_QUIET = 12.0

SEARCH_GRAPH_CAUSE = (
    "The requests after the search itself look up the results' parent folders, because Graph"
    " search results for work and school drives carry `parentReference.id` but not"
    " `parentReference.path` (see `OneDrive.search` in bot/onedrive.py)."
)

OVERHEAD_CAUSE = (
    "Where the time goes, as measured: {lead} from the command to the first Graph request"
    " (the ack, then the token lookup: {statements:.1f} SQL statements per command{trips}),"
    " {middle} between Graph requests ({graph:.1f} Graph requests per command), and {tail}"
    " from the end of the last Graph request to the answer reaching Slack. The bare Bolt"
    " app takes {bare} from the command to its answer."
)

METHOD = (
    "One command at a time from {people} connected people, {samples} of each kind, with the"
    " fake Graph answering every request after {delay:.0f} ms. The time runs from sending"
    " the signed command to the answer reaching the fake Slack (`response_url` for search,"
    " `chat.postMessage` into the channel for share). The Graph time is the union of the"
    " intervals the fake Graph spent on the command's requests, so parallel requests count"
    " once; overhead is the difference. The baseline is a bare Bolt app whose listener acks"
    " and answers once through `response_url`. The app runs under"
    " `benchmarks/counting_app.py`, which counts SQL statements, transactions and pool"
    " checkouts with SQLAlchemy events. In a full run on PostgreSQL, the row changes in the"
    " schema's `pg_stat_user_tables` cross-check the writes, read once the counters have"
    " been still for {quiet:.0f} s. The app runs on {db}."
)


@dataclass
class CommandStats:
    """Costs of one kind of command, summed or listed over its samples."""

    overheads: list[float] = field(default_factory=list)
    totals: list[float] = field(default_factory=list)
    # The overhead before the first Graph request began, between Graph requests, and after
    # the last one ended; each list has one value per command that made a Graph request.
    leads: list[float] = field(default_factory=list)
    middles: list[float] = field(default_factory=list)
    tails: list[float] = field(default_factory=list)
    graph_requests: int = 0
    token_requests: int = 0
    sql: Counter[str] = field(default_factory=Counter)
    tables: TableCounters | None = None
    failures: int = 0

    @property
    def samples(self) -> int:
        return len(self.totals)


def union_seconds(intervals: list[Interval]) -> float:
    """Return the total length covered by the intervals, counting overlaps once."""
    covered = 0.0
    end = float("-inf")
    for interval in sorted(intervals, key=lambda item: item.started):
        start = max(interval.started, end)
        if interval.ended > start:
            covered += interval.ended - start
        end = max(end, interval.ended)
    return covered


def _is_share_message(person: Person) -> Callable[[SlackMessage], bool]:
    mention = f"<@{person.user_id}>"
    return lambda m: m.kind == "message" and m.channel == CHANNEL and mention in (m.text or "")


def _run_command(
    client: httpx.Client,
    bench: Bench,
    app: ServerProcess,
    person: Person,
    text: str,
    stats: CommandStats,
) -> None:
    services = bench.services
    graph_before = len(services.graph.requests)
    intervals_before = len(services.graph.intervals)
    tokens_before = sum(services.identity.token_requests.values())
    sql_before = sql_counts.read_counts(app)
    messages_before = len(services.slack.messages)

    response_url, sent = send_command(client, services, person, app.url, bench.signing_secret, text)
    if text == SHARE_TEXT:
        message, arrived = services.slack.wait_message(
            _is_share_message(person), 30.0, messages_before
        )
    else:
        message, arrived = answer_to(services, response_url)
        if not is_search_result(message):
            stats.failures += 1
    graph = [
        interval
        for interval in services.graph.intervals.snapshot()[intervals_before:]
        if interval.started >= sent and interval.ended <= arrived
    ]
    total = arrived - sent
    stats.totals.append(total)
    stats.overheads.append(total - union_seconds(graph))
    if graph:
        lead = min(interval.started for interval in graph) - sent
        tail = arrived - max(interval.ended for interval in graph)
        stats.leads.append(lead)
        stats.middles.append(stats.overheads[-1] - lead - tail)
        stats.tails.append(tail)
    stats.graph_requests += len(services.graph.requests) - graph_before
    stats.token_requests += sum(services.identity.token_requests.values()) - tokens_before
    stats.sql.update(sql_counts.read_counts(app) - sql_before)


def _measure_kind(
    bench: Bench, app: ServerProcess, people: list[Person], text: str
) -> CommandStats:
    stats = CommandStats()
    with httpx.Client(timeout=20) as client:
        for index in range(bench.plan.overhead_samples):
            _run_command(client, bench, app, people[index % len(people)], text, stats)
    return stats


def _measure_kinds(
    bench: Bench, app: ServerProcess, people: list[Person], db: database.Database
) -> dict[str, CommandStats]:
    """Measure search, then share; on PostgreSQL in a full run, cross-check their writes."""
    cross_check = db.is_postgres and not bench.plan.quick
    first = database.table_counters(db.schema, STATS_QUIET) if cross_check else None
    search = _measure_kind(bench, app, people, SEARCH_TEXT)
    middle = database.table_counters(db.schema, STATS_QUIET) if cross_check else None
    share = _measure_kind(bench, app, people, SHARE_TEXT)
    if first is not None and middle is not None:
        search.tables = middle - first
        share.tables = database.table_counters(db.schema, STATS_QUIET) - middle
    return {"search": search, "share": share}


def _bare_round_trips(bench: Bench, bare: ServerProcess, people: list[Person]) -> list[float]:
    totals = []
    with httpx.Client(timeout=20) as client:
        for index in range(bench.plan.overhead_samples):
            response_url, sent = send_command(
                client,
                bench.services,
                people[index % len(people)],
                bare.url,
                bench.signing_secret,
                SEARCH_TEXT,
            )
            totals.append(answer_to(bench.services, response_url)[1] - sent)
    return totals


def _warm_up(bench: Bench, app: ServerProcess, bare: ServerProcess, people: list[Person]) -> None:
    with httpx.Client(timeout=20) as client:
        for _ in range(WARM_UP_ROUNDS):
            for person in people:
                for target, text in ((app, SEARCH_TEXT), (app, SHARE_TEXT), (bare, SEARCH_TEXT)):
                    send_command(
                        client, bench.services, person, target.url, bench.signing_secret, text
                    )
        time.sleep(1.0)


def measure(bench: Bench) -> Section:
    services = bench.services
    section = Section(
        "2. Overhead per command",
        METHOD.format(
            people=PEOPLE,
            samples=bench.plan.overhead_samples,
            delay=GRAPH_DELAY * 1000,
            quiet=STATS_QUIET,
            db="PostgreSQL" if bench.postgres else "SQLite",
        ),
    )
    with bench.database() as db:
        counts_file = sql_counts.counts_path(bench.directory, "overhead-app")
        app = bench.new_app(
            "overhead-app", db, COUNTING_COMMAND, BENCH_SQL_COUNTS_PATH=str(counts_file)
        )
        with app, bench.new_bare_app("overhead-bare", respond=True) as bare:
            people = new_people(services, PEOPLE)
            for person in people:
                connect(services, person, app.url, bench.signing_secret)
            services.graph.delay_seconds = GRAPH_DELAY
            try:
                _warm_up(bench, app, bare, people)
                bare_totals = _bare_round_trips(bench, bare, people)
                kinds = _measure_kinds(bench, app, people, db)
            finally:
                services.graph.delay_seconds = 0.0
    _report(section, bench, bare_totals, kinds)
    return section


def _report(
    section: Section, bench: Bench, bare_totals: list[float], kinds: dict[str, CommandStats]
) -> None:
    bare = median(bare_totals)
    section.figures.append(
        Figure("bare Bolt app: command to `response_url` answer (median)", ms(bare))
    )
    for name, stats in kinds.items():
        overhead = median(stats.overheads)
        section.figures.append(
            Figure(
                f"`{name}` overhead (median)", ms(overhead), ms(bare), times(ratio(overhead, bare))
            )
        )
        section.figures.append(
            Figure(f"`{name}` command to answer (median)", ms(median(stats.totals)))
        )
        lead = median(stats.leads) if stats.leads else 0.0
        middle = median(stats.middles) if stats.middles else 0.0
        tail = median(stats.tails) if stats.tails else 0.0
        section.figures.append(
            Figure(
                f"`{name}` overhead before the first Graph request / between Graph"
                " requests / after the last (medians)",
                f"{ms(lead)} / {ms(middle)} / {ms(tail)}",
            )
        )
        section.figures.append(
            _per_command(f"`{name}` Graph requests", stats.graph_requests, stats)
        )
        section.figures.append(
            _per_command(f"`{name}` SQL statements", sql_counts.statements(stats.sql), stats)
        )
        section.figures.append(
            _per_command(
                f"`{name}` SQL writes (INSERT, UPDATE, DELETE)", sql_counts.writes(stats.sql), stats
            )
        )
        if bench.postgres:
            section.figures.append(
                _per_command(
                    f"`{name}` PostgreSQL round trips",
                    sql_counts.postgres_round_trips(stats.sql),
                    stats,
                )
            )
        if stats.tables is not None:
            section.figures.append(
                _per_command(
                    f"`{name}` rows written (pg_stat_user_tables)", stats.tables.written, stats
                )
            )
        section.figures.append(
            _per_command(f"`{name}` token endpoint calls", stats.token_requests, stats)
        )
        if stats.failures:
            section.notes.append(f"{stats.failures} `{name}` answers were not search results.")

        met = overhead < MAX_OVERHEAD
        cause = OVERHEAD_CAUSE.format(
            lead=ms(lead),
            statements=sql_counts.statements(stats.sql) / stats.samples,
            trips=(
                f", {sql_counts.postgres_round_trips(stats.sql) / stats.samples:.1f}"
                " PostgreSQL round trips"
                if bench.postgres
                else ""
            ),
            middle=ms(middle),
            graph=stats.graph_requests / stats.samples,
            tail=ms(tail),
            bare=ms(bare),
        )
        section.targets.append(
            Target(
                f"`{name}` overhead median under {MAX_OVERHEAD * 1000:.0f} ms",
                ms(overhead),
                met,
                gap="" if met else f"{ms(overhead - MAX_OVERHEAD)} over",
                cause="" if met else cause,
            )
        )
        writes = sql_counts.writes(stats.sql)
        section.targets.append(
            Target(
                f"`{name}`: no database write when the token cache did not change",
                f"{writes / stats.samples:.2f} writes per command, "
                f"{stats.token_requests} token endpoint calls",
                writes == 0,
                gap="" if writes == 0 else f"{writes} writes in {stats.samples} commands",
            )
        )
    search = kinds["search"]
    per_search = search.graph_requests / search.samples
    section.targets.append(
        Target(
            "one Graph request per `search`",
            f"{per_search:.2f} per search",
            per_search <= 1.0,
            gap="" if per_search <= 1.0 else f"{per_search - 1:.2f} extra requests per search",
            cause="" if per_search <= 1.0 else SEARCH_GRAPH_CAUSE,
        )
    )


def _per_command(name: str, total: int, stats: CommandStats) -> Figure:
    return Figure(f"{name} per command", f"{total / stats.samples:.2f}")
