"""Measurement 3: token endpoint calls over a simulated hour of commands."""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from benchmarks.context import Bench
from benchmarks.loadgen import Request, send_requests
from benchmarks.people import (
    SEARCH_TEXT,
    Person,
    command_request,
    connect,
    is_search_result,
    new_people,
    wait_answers,
)
from benchmarks.results import Figure, Section, Target

# MSAL refreshes an access token once it has less than 5 minutes left (msal 1.x,
# ClientApplication._acquire_token_silent_from_cache_and_possibly_refresh_it).
MSAL_REFRESH_MARGIN = 300
REAL_LIFETIME_MINUTES = 60
GRAPH_DELAY = 0.05
DEFAULT_LIFETIME = 3599
SEED = 7

METHOD = (
    "The fake identity platform issues access tokens that live {lifetime} s. MSAL refreshes"
    " a token with less than 5 minutes left, so each token serves {usable} s, which stands"
    " for the 55 usable minutes of a 60-minute token; one simulated hour is then"
    " {hour:.1f} s. {people} people connect, then {commands} `/onedrive search report`"
    " commands go out at even intervals over {hours:g} simulated hour(s) ({span:.0f} s),"
    " each from a person drawn at random (seed {seed}), through the load generator without"
    " waiting for answers. The fake Graph answers after {delay:.0f} ms. A person's"
    " successful refreshes are the refresh tokens the fake issued to them after the sign-in;"
    " the allowed number is one per {usable} s between the start of their sign-in and the"
    " answer to their last command (plus 1 s, because MSAL rounds expiry times down to whole"
    " seconds). The app runs on {db}."
)


@dataclass(frozen=True)
class PersonRecord:
    person: Person
    connect_started: float


def _schedule(
    bench: Bench, people: list[Person], span: float, app_url: str
) -> tuple[list[Request], list[int]]:
    """Return the scheduled requests and, for each, the index of the person sending it."""
    commands = bench.plan.token_commands
    chooser = random.Random(SEED)
    senders = [chooser.randrange(len(people)) for _ in range(commands)]
    requests = [
        command_request(
            people[sender],
            app_url,
            bench.signing_secret,
            SEARCH_TEXT,
            bench.services.slack.new_response_url(),
            at=span * index / commands,
        )
        for index, sender in enumerate(senders)
    ]
    return requests, senders


def measure(bench: Bench) -> Section:
    plan = bench.plan
    services = bench.services
    usable = plan.token_lifetime - MSAL_REFRESH_MARGIN
    hour = usable * REAL_LIFETIME_MINUTES / (REAL_LIFETIME_MINUTES - 5)
    span = hour * plan.token_hours
    section = Section(
        "3. Token endpoint calls",
        METHOD.format(
            lifetime=plan.token_lifetime,
            usable=usable,
            hour=hour,
            people=plan.token_people,
            commands=plan.token_commands,
            hours=plan.token_hours,
            span=span,
            seed=SEED,
            delay=GRAPH_DELAY * 1000,
            db="PostgreSQL" if bench.postgres else "SQLite",
        ),
    )
    services.identity.access_token_lifetime = plan.token_lifetime
    try:
        with bench.database() as db, bench.new_app("token-app", db) as app:
            people = new_people(services, plan.token_people)
            records = []
            for person in people:
                started = time.monotonic()
                connect(services, person, app.url, bench.signing_secret)
                records.append(PersonRecord(person, started))
            refreshes_before = services.identity.token_requests["refresh_token"]
            services.graph.delay_seconds = GRAPH_DELAY
            requests, senders = _schedule(bench, people, span, app.url)
            results = send_requests(requests, preconnect=False, timeout=30.0)
            response_urls = [_response_url_of(request) for request in requests]
            answers = wait_answers(services, response_urls, timeout=60.0)
            services.graph.delay_seconds = 0.0
            refresh_calls = services.identity.token_requests["refresh_token"] - refreshes_before
    finally:
        services.identity.access_token_lifetime = DEFAULT_LIFETIME
        services.graph.delay_seconds = 0.0

    acked = sum(1 for result in results if result.status == 200)
    searched = sum(1 for message, _ in answers.values() if is_search_result(message))
    last_answer: dict[int, float] = {}
    for url, sender in zip(response_urls, senders, strict=True):
        if url in answers:
            last_answer[sender] = max(last_answer.get(sender, 0.0), answers[url][1])

    allowed_total = refreshed_total = over = 0
    worst = 0
    for index, record in enumerate(records):
        refreshed = len(services.identity.refresh_tokens_of(record.person.account)) - 1
        end = last_answer.get(index, record.connect_started)
        allowed = math.floor((end - record.connect_started + 1) / usable)
        allowed_total += allowed
        refreshed_total += refreshed
        worst = max(worst, refreshed - allowed)
        over += refreshed > allowed

    commands = len(requests)
    section.figures += [
        Figure("commands acknowledged with HTTP 200", f"{acked} of {commands}"),
        Figure("searches answered with results", f"{searched} of {commands}"),
        Figure("refresh_token requests to the token endpoint", str(refresh_calls)),
        Figure(
            "successful refreshes, all people", str(refreshed_total), f"{allowed_total} allowed"
        ),
        Figure("people over their allowance", f"{over} of {len(records)}"),
    ]
    met = over == 0 and refresh_calls <= allowed_total
    section.targets.append(
        Target(
            "at most one refresh per person per token lifetime",
            f"{refresh_calls} refresh requests, {allowed_total} allowed; {over} people over",
            met,
            gap=""
            if met
            else f"{max(0, refresh_calls - allowed_total)} requests over the "
            f"allowance; worst person {worst} over",
        )
    )
    if searched < commands:
        section.notes.append(
            f"{commands - searched} commands got no search result (error or no answer)."
        )
    return section


def _response_url_of(request: Request) -> str:
    return parse_qs(request.body)["response_url"][0]
