"""Concurrent commands and several app processes sharing one database."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.app_process import AppProcess
from tests.e2e.people import CHANNEL, App, People, Person, all_text
from tests.e2e.slack_requests import SlackUserAgent
from tests.fakes import FakeGraph, FakeIdentityPlatform, FakeSlack


@pytest.fixture
def lifetime(identity: FakeIdentityPlatform) -> Iterator[None]:
    yield
    identity.access_token_lifetime = 3599


def _search_many(person: Person, agents: list[SlackUserAgent], count: int) -> list[str]:
    """Send `count` searches at once, spread over the agents; return the answers' text."""

    def one(index: int) -> str:
        agent = agents[index % len(agents)]
        response_url = person.slack.new_response_url()
        ack = agent.command("search Shared", CHANNEL, response_url)
        assert ack.status_code == 200
        return all_text(person.reply(response_url, timeout=30))

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_concurrent_commands_refresh_once(
    people: People, graph: FakeGraph, identity: FakeIdentityPlatform, lifetime: None
) -> None:
    adele = people.new()
    graph.add_item(adele.account, "Shared notes.txt", content=b"s")
    identity.access_token_lifetime = 299  # msal sees it as expired at once
    adele.connect()
    identity.access_token_lifetime = 3599
    before = identity.token_requests["refresh_token"]

    answers = _search_many(adele, [adele.agent], 8)

    assert all("Shared notes.txt" in answer for answer in answers)
    assert identity.token_requests["refresh_token"] - before == 1


def test_two_processes_share_rotating_tokens(
    request: pytest.FixtureRequest,
    app: App,
    people: People,
    graph: FakeGraph,
    identity: FakeIdentityPlatform,
    lifetime: None,
) -> None:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("several processes need PostgreSQL")
    second = AppProcess(app.process.env | {}, app.process.log_path.with_name("second.log"))
    second.env["PORT"] = str(second.port)
    second.env["PUBLIC_URL"] = second.url
    identity.redirect_uris.append(f"{second.url}/auth/callback")

    with second:
        adele = people.new()
        graph.add_item(adele.account, "Shared deck.pptx", content=b"d")
        # every token expires at once for msal, so every command refreshes and rotates
        identity.access_token_lifetime = 299
        link = adele.connect_link()
        assert link.startswith(app.url)
        assert adele.open_link(link).status_code == 200

        other_agent = SlackUserAgent(
            second.url, app.signing_secret, team_id=adele.agent.team_id, user_id=adele.user_id
        )
        answers = _search_many(adele, [adele.agent, other_agent], 10)

        assert all("Shared deck.pptx" in answer for answer in answers), answers
        identity.access_token_lifetime = 3599
        assert "Shared deck.pptx" in all_text(adele.ask("search Shared"))
        assert "ERROR" not in second.log()


def test_sigterm_finishes_accepted_fetch(
    app: App, people: People, graph: FakeGraph, slack: FakeSlack
) -> None:
    stopping = AppProcess(app.process.env | {}, app.process.log_path.with_name("stopping.log"))
    stopping.env["PORT"] = str(stopping.port)
    stopping.env["PUBLIC_URL"] = stopping.url
    adele = people.new()
    content = b"slow bytes" * 1000
    graph.add_item(adele.account, "Slow file.bin", content=content)
    adele.connect()

    with stopping:
        agent = SlackUserAgent(
            stopping.url, app.signing_secret, team_id=adele.agent.team_id, user_id=adele.user_id
        )
        graph.delay_seconds = 1.0
        try:
            ack = agent.command("fetch Slow file.bin", CHANNEL, slack.new_response_url())
            assert ack.status_code == 200
            stopping.terminate()
            upload = slack.wait_for_sync(
                lambda u: adele.user_id in (u.initial_comment or ""), kind="uploads", timeout=20
            )
        finally:
            graph.delay_seconds = 0.0
        assert upload.size == len(content)
        # uvicorn re-raises SIGTERM after its graceful shutdown, so the exit status is -15
        assert stopping.wait() in (0, -15)
    log = stopping.log()
    assert "waiting for 1 commands in progress" in log
    assert log.index("uploaded file") < log.index("app stopped")
