"""Faults injected through the fakes: Graph retries, Slack errors and events, tenant rules."""

from __future__ import annotations

import contextlib
import email.utils
import json
import socket
import time
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlencode

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from tests.e2e.app_process import AppProcess
from tests.e2e.conftest import FETCH_MAX_BYTES
from tests.e2e.people import CHANNEL, App, People, all_text
from tests.e2e.slack_requests import SlackUserAgent, signature_headers
from tests.fakes import FakeGraph, FakeIdentityPlatform, FakeSlack
from tests.fakes.accounts import work_account
from tests.fakes.faults import RESET


def _event_body(event: dict, team_id: str) -> bytes:
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": team_id,
            "api_app_id": "A123456",
            "event": event,
            "type": "event_callback",
            "event_id": "Ev0PV52K21",
            "event_time": int(time.time()),
        }
    ).encode()


def _post_event(people: People, body: bytes) -> int:
    headers = signature_headers(people.app.signing_secret, body)
    headers["Content-Type"] = "application/json"
    agent = SlackUserAgent(people.app.url, people.app.signing_secret, team_id="T", user_id="U")
    return agent.post(body, headers).status_code


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (429, {"Retry-After": "1"}, None),
        (503, None, None),
        (504, {}, None),
        (200, {"Content-Type": "text/html"}, "<html>proxy error</html>"),
    ],
    ids=["429-seconds", "503", "504", "not-json"],
)
def test_graph_faults_are_retried(
    people: People, graph: FakeGraph, status: int, headers: dict | None, body: str | None
) -> None:
    adele = people.new()
    graph.add_item(adele.account, "Sturdy.txt", content=b"s")
    adele.connect()
    graph.fail_next(1, status, body=body, headers=headers, path_pattern=r"/search\(")
    assert "Sturdy.txt" in all_text(adele.ask("search Sturdy"))


def test_retry_after_as_http_date(people: People, graph: FakeGraph) -> None:
    adele = people.new()
    graph.add_item(adele.account, "Dated.txt", content=b"d")
    adele.connect()
    when = email.utils.formatdate(time.time() + 2, usegmt=True)
    graph.fail_next(1, 429, headers={"Retry-After": when}, path_pattern=r"/search\(")
    started = time.monotonic()
    assert "Dated.txt" in all_text(adele.ask("search Dated"))
    assert time.monotonic() - started >= 1.0


def test_graph_read_timeout_is_retried(people: People, graph: FakeGraph) -> None:
    adele = people.new()
    graph.add_item(adele.account, "Slowpoke.txt", content=b"s")
    adele.connect()
    # the app gives Graph 3 seconds a request; this response would come after 5
    graph.fail_next(1, 500, delay_seconds=5, path_pattern=r"/search\(")
    assert "Slowpoke.txt" in all_text(adele.ask("search Slowpoke"))


def test_graph_down_past_retries(people: People, graph: FakeGraph) -> None:
    adele = people.new()
    adele.connect()
    graph.fail_next(6, 503, headers={"Retry-After": "0"}, path_pattern=r"/search\(")
    reply = adele.ask("search anything")
    assert "busy" in all_text(reply) or "not answering" in all_text(reply)
    graph.faults.clear()


def test_slack_ratelimit_is_waited_out(people: People, graph: FakeGraph, slack: FakeSlack) -> None:
    adele = people.new()
    graph.add_item(adele.account, "Limited.txt", content=b"l")
    adele.connect()
    slack.fail_next("chat.postMessage", status=429, headers={"Retry-After": "1"})
    adele.command("share Limited.txt")
    posted = slack.wait_for_sync(
        lambda m: m.kind == "message" and f"<@{adele.user_id}>" in (m.text or ""), timeout=20
    )
    assert "Limited.txt" in (posted.text or "")


def test_expired_response_url_falls_back(
    people: People, graph: FakeGraph, slack: FakeSlack
) -> None:
    adele = people.new()
    adele.connect()
    slack.fail_next("response_url", body="expired_url", status=404)
    adele.command("search nothing-here-at-all")
    ephemeral = slack.wait_for_sync(
        lambda m: m.kind == "ephemeral" and m.user == adele.user_id, timeout=15
    )
    assert ephemeral.channel == CHANNEL
    assert "No files" in (ephemeral.text or "")


def test_app_uninstalled_deletes_team(people: People, app: App) -> None:
    adele = people.new()
    adele.connect()
    other = people.new()
    other.agent.team_id = "T0THER0001"
    assert app.connection_count(adele.user_id) == 1
    body = _event_body({"type": "app_uninstalled"}, adele.agent.team_id)
    assert _post_event(people, body) == 200
    deadline = time.monotonic() + 10
    while app.connection_count(adele.user_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert app.connection_count(adele.user_id) == 0


def test_tokens_revoked_deletes_users(people: People, app: App) -> None:
    adele = people.new()
    bob = people.new()
    adele.connect()
    bob.connect()
    event = {"type": "tokens_revoked", "tokens": {"oauth": [adele.user_id], "bot": []}}
    assert _post_event(people, _event_body(event, adele.agent.team_id)) == 200
    deadline = time.monotonic() + 10
    while app.connection_count(adele.user_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert app.connection_count(adele.user_id) == 0
    assert app.connection_count(bob.user_id) == 1


def test_foreign_team_payload_ignored(people: People, graph: FakeGraph) -> None:
    adele = people.new()
    adele.agent.team_id = "T0FOREIGN1"
    graph_requests = len(graph.requests.snapshot())
    _, response_url = adele.command("connect")
    time.sleep(1)
    assert adele.replies(response_url) == []
    assert len(graph.requests.snapshot()) == graph_requests


def test_malformed_bodies_do_nothing(people: People, slack: FakeSlack) -> None:
    adele = people.new()
    calls_before = len(slack.calls.snapshot())
    bodies = [
        b"\xff\xfe not a form",
        urlencode({"payload": "{not json"}).encode(),
        urlencode({"payload": "[]"}).encode(),
        urlencode({"payload": "null"}).encode(),
        b"",
    ]
    for body in bodies:
        response = adele.agent.post(body)
        assert response.status_code in (200, 400, 401, 404)
    no_actions = json.loads(
        parse_qs(adele.agent.click_body("share_item", "x", CHANNEL, "u").decode())["payload"][0]
    )
    no_actions["actions"] = []
    response = adele.agent.post(urlencode({"payload": json.dumps(no_actions)}).encode())
    assert response.status_code in (200, 400, 404)
    response_url = slack.new_response_url()
    unknown = adele.agent.click_body("no_such_action", "x", CHANNEL, response_url)
    assert adele.agent.post(unknown).status_code in (200, 404)
    time.sleep(0.5)
    assert adele.replies(response_url) == []
    assert [c.method for c in slack.calls.snapshot()[calls_before:]] in ([], ["auth.test"])


def test_tenant_outside_allow_list(
    people: People, another_app: Callable[..., AppProcess], app: App
) -> None:
    adele = people.new()
    strict: AppProcess = another_app(ALLOWED_TENANTS="00000000-1111-2222-3333-444444444444")
    agent = SlackUserAgent(
        strict.url, app.signing_secret, team_id=adele.agent.team_id, user_id=adele.user_id
    )
    adele.agent = agent
    page = adele.open_link(adele.connect_link())
    assert page.status_code == 403
    assert "not set up for" in page.text
    assert app.connection_count(adele.user_id) == 0


def test_allow_list_applies_to_stored_connections(
    people: People, another_app: Callable[..., AppProcess], app: App
) -> None:
    adele = people.new()
    adele.connect()
    strict: AppProcess = another_app(ALLOWED_TENANTS="00000000-1111-2222-3333-444444444444")
    adele.agent = SlackUserAgent(
        strict.url, app.signing_secret, team_id=adele.agent.team_id, user_id=adele.user_id
    )
    reply = adele.ask("search anything")
    assert "no longer allows accounts of your organization" in all_text(reply)
    assert app.connection_count(adele.user_id) == 0


def test_wrong_key_keeps_connections(
    people: People, another_app: Callable[..., AppProcess], app: App, identity: FakeIdentityPlatform
) -> None:
    adele = people.new()
    adele.connect()
    wrong = another_app(TOKEN_ENCRYPTION_KEY=Fernet.generate_key().decode())
    adele.agent = SlackUserAgent(
        wrong.url, app.signing_secret, team_id=adele.agent.team_id, user_id=adele.user_id
    )
    reply = adele.ask("search anything")
    assert "cannot read your stored Microsoft sign-in" in all_text(reply)
    assert app.connection_count(adele.user_id) == 1
    assert "does not decrypt" in wrong.log()


def test_retried_uninstall_event_still_deletes(people: People, app: App) -> None:
    adele = people.new()
    adele.connect()
    body = _event_body({"type": "app_uninstalled"}, adele.agent.team_id)
    headers = signature_headers(people.app.signing_secret, body)
    headers["Content-Type"] = "application/json"
    headers["X-Slack-Retry-Num"] = "1"
    assert adele.agent.post(body, headers).status_code == 200
    deadline = time.monotonic() + 10
    while app.connection_count(adele.user_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert app.connection_count(adele.user_id) == 0


def test_direct_content_over_limit_stops(people: People, graph: FakeGraph) -> None:
    adele = people.new()
    graph.add_item(adele.account, "Liar.bin", content=b"small")
    adele.connect()
    graph.fail_next(1, 200, body="x" * (FETCH_MAX_BYTES + 10), path_pattern=r"/content")
    _, response_url = adele.command("fetch Liar.bin")
    reply = adele.reply(response_url, lambda m: "limit" in (m.text or ""))
    assert "over the" in all_text(reply)


def test_plain_http_download_redirect_refused(people: People, graph: FakeGraph) -> None:
    adele = people.new()
    graph.add_item(adele.account, "Plain.bin", content=b"p")
    adele.connect()
    headers = {"Location": "http://127.0.0.1:9/download"}
    graph.fail_next(1, 302, body="", headers=headers, path_pattern=r"/content")
    _, response_url = adele.command("fetch Plain.bin")
    reply = adele.reply(response_url, lambda m: "Fetching" not in (m.text or ""))
    assert "not answering" in all_text(reply)


def test_second_fetch_waits_its_turn(people: People, graph: FakeGraph, slack: FakeSlack) -> None:
    adele = people.new()
    graph.add_item(adele.account, "Turn.bin", content=b"t" * 1000)
    adele.connect()
    graph.delay_seconds = 1.5
    try:
        adele.command("fetch Turn.bin")
        time.sleep(0.3)
        _, second = adele.command("fetch Turn.bin")
        reply = adele.reply(second, lambda m: "in progress" in (m.text or ""), timeout=20)
        # let the first fetch finish here, so it cannot take a fault queued by a later test
        slack.wait_for_sync(
            lambda u: adele.user_id in (u.initial_comment or ""), kind="uploads", timeout=20
        )
    finally:
        graph.delay_seconds = 0.0
    assert reply.response_type == "ephemeral"


def test_long_search_text_explained(people: People, graph: FakeGraph) -> None:
    adele = people.new()
    adele.connect()
    searches = len(graph.searches.snapshot())
    reply = adele.ask("search " + "x" * 500)
    assert "too long" in all_text(reply)
    assert len(graph.searches.snapshot()) == searches


def test_odd_account_name_is_stored_clean(people: People, app: App) -> None:
    adele = people.new()
    adele.account = work_account(preferred_username="a\x00" + "b" * 700 + "@contoso.example")
    page = adele.connect()
    assert page.status_code == 200
    with app.engine.connect() as connection:
        query = text("SELECT username FROM connection WHERE user_id = :user")
        stored = connection.execute(query, {"user": adele.user_id}).scalar_one()
    assert "\x00" not in stored
    assert len(stored) == 512


def test_reset_connection_is_retried(people: People, graph: FakeGraph) -> None:
    adele = people.new()
    graph.add_item(adele.account, "Resilient.txt", content=b"r")
    adele.connect()
    graph.fail_next(1, RESET, body="", headers={}, path_pattern=r"/search\(")
    assert "Resilient.txt" in all_text(adele.ask("search Resilient"))


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("is_archived", "archived"),
        ("channel_not_found", "/invite"),
        ("token_revoked", "reinstall"),
        ("invalid_auth", "reinstall"),
    ],
)
def test_slack_upload_errors_explained(
    people: People, graph: FakeGraph, slack: FakeSlack, error: str, expected: str
) -> None:
    adele = people.new()
    graph.add_item(adele.account, f"Upload {error}.txt", content=b"u")
    adele.connect()
    slack.fail_next("files.completeUploadExternal", error=error)
    _, response_url = adele.command(f"fetch Upload {error}.txt")
    reply = adele.reply(response_url, lambda m: "Fetching" not in (m.text or ""))
    assert expected in all_text(reply)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port whose listen queue is full, so new connections time out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    listener.close()


def test_graph_connect_timeout_gives_up(
    people: People, another_app: Callable[..., AppProcess], app: App, silent_port: int
) -> None:
    adele = people.new()
    adele.connect()
    unreachable = another_app(
        GRAPH_API_URL=f"https://127.0.0.1:{silent_port}/v1.0", HTTP_TIMEOUT_SECONDS="1"
    )
    adele.agent = SlackUserAgent(
        unreachable.url, app.signing_secret, team_id=adele.agent.team_id, user_id=adele.user_id
    )
    started = time.monotonic()
    reply = adele.reply(adele.command("search anything")[1], timeout=40)
    assert "not answering" in all_text(reply)
    assert time.monotonic() - started < 30
    assert unreachable.log().count("ConnectTimeout (attempt") >= 2
