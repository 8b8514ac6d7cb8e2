"""What people see when Microsoft or Slack fails, and what the app stores afterwards."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import FETCH_MAX_BYTES
from tests.e2e.people import CHANNEL, App, People, all_text, button_values
from tests.fakes import FakeGraph, FakeIdentityPlatform, FakeSlack
from tests.fakes.faults import RESET
from tests.fakes.payloads import load_payload


@pytest.fixture
def short_tokens(identity: FakeIdentityPlatform) -> object:
    """Make msal refresh on every call: it refreshes tokens with under 5 minutes left."""
    identity.access_token_lifetime = 60
    yield None
    identity.access_token_lifetime = 3599


def test_revoked_consent_asks_to_reconnect(
    people: People, app: App, identity: FakeIdentityPlatform, short_tokens: object
) -> None:
    adele = people.new()
    adele.connect()
    assert app.connection_count(adele.user_id) == 1
    identity.revoke(adele.account)

    reply = adele.ask("search anything")
    assert "no longer works" in all_text(reply)
    assert any(
        element.get("url", "").startswith(f"{app.url}/auth/connect/")
        for block in reply.blocks or []
        for element in block.get("elements", [])
    )
    assert app.connection_count(adele.user_id) == 0


def test_refresh_rotates_and_keeps_working(
    people: People, app: App, graph: FakeGraph, identity: FakeIdentityPlatform, short_tokens: object
) -> None:
    adele = people.new()
    graph.add_item(adele.account, "Rotation.txt", content=b"r")
    adele.connect()
    for _ in range(3):
        assert "Rotation.txt" in all_text(adele.ask("search Rotation"))
    grants = identity.refresh_tokens_of(adele.account)
    assert len(grants) >= 3  # one per refresh, each replacing the one before
    assert app.connection_count(adele.user_id) == 1


def test_token_endpoint_outage_keeps_connection(
    people: People, app: App, identity: FakeIdentityPlatform, short_tokens: object
) -> None:
    adele = people.new()
    adele.connect()
    identity.fail_next_token(503, {"error": "temporarily_unavailable"}, {"Retry-After": "1"})
    reply = adele.ask("search anything")
    assert "not answering" in all_text(reply)
    assert app.connection_count(adele.user_id) == 1


def test_file_over_limit_offers_link(people: People, graph: FakeGraph) -> None:
    adele = people.new()
    big = graph.add_item(adele.account, "Huge video.mp4", size=FETCH_MAX_BYTES + 1)
    adele.connect()
    downloads_before = len(graph.download_host.downloads.snapshot())
    reply = adele.ask("fetch Huge video.mp4")
    text = all_text(reply)
    assert "over the" in text
    assert "2.9 MB limit" in text
    assert big.web_url in text
    assert len(graph.download_host.downloads.snapshot()) == downloads_before


def test_share_outside_bot_channels_uses_response_url(
    people: People, graph: FakeGraph, slack: FakeSlack
) -> None:
    adele = people.new()
    graph.add_item(adele.account, "Outside.docx", content=b"o")
    slack.add_channel("C0OUTSIDE1", "outside", bot_member=False)
    adele.connect()
    _, response_url = adele.command("share Outside.docx", channel="C0OUTSIDE1")
    posted = adele.reply(response_url, lambda m: m.response_type == "in_channel")
    assert f"<@{adele.user_id}>" in (posted.text or "")
    assert "Outside.docx" in (posted.text or "")


def test_fetch_outside_bot_channels_explains_invite(
    people: People, graph: FakeGraph, slack: FakeSlack
) -> None:
    adele = people.new()
    graph.add_item(adele.account, "Notes.txt", content=b"n")
    slack.add_channel("C0OUTSIDE2", "outside2", bot_member=False)
    adele.connect()
    _, response_url = adele.command("fetch Notes.txt", channel="C0OUTSIDE2")
    reply = adele.reply(response_url, lambda m: "/invite" in (m.text or ""))
    assert reply.response_type == "ephemeral"


def test_throttled_search_is_retried(people: People, graph: FakeGraph) -> None:
    adele = people.new()
    graph.add_item(adele.account, "Patience.txt", content=b"p")
    adele.connect()
    graph.fail_next(2, 429, path_pattern=r"/search\(")
    reply = adele.ask("search Patience")
    assert "Patience.txt" in all_text(reply)


def test_throttled_past_budget_says_when(people: People, graph: FakeGraph) -> None:
    adele = people.new()
    adele.connect()
    graph.fail_next(1, 429, headers={"Retry-After": "120"}, path_pattern=r"/search\(")
    reply = adele.ask("search anything")
    assert "Try again in 120 s" in all_text(reply)


def test_deleted_item_button_says_not_found(people: People, graph: FakeGraph) -> None:
    adele = people.new()
    item = graph.add_item(adele.account, "Gone soon.txt", content=b"g")
    adele.connect()
    value = button_values(adele.ask("search Gone soon"), "share_item")[0]
    drive = graph.drive_for(adele.account)
    with graph.lock:
        del drive.items[item.id]
    reply = adele.reply(adele.click("share_item", value))
    assert "not found" in all_text(reply)


def test_personal_account_gets_anyone_link(
    people: People, graph: FakeGraph, slack: FakeSlack
) -> None:
    megan = people.new(personal=True)
    item = graph.add_item(megan.account, "Trip.jpg", content=b"jpg")
    megan.connect()
    megan.command("share Trip.jpg")
    slack.wait_for_sync(
        lambda m: (
            m.kind == "message" and m.channel == CHANNEL and f"<@{megan.user_id}>" in (m.text or "")
        )
    )
    links = [link for link in graph.links() if link.item.id == item.id]
    assert [(link.link_type, link.scope) for link in links] == [("view", "anonymous")]


def test_no_secret_in_logs(
    people: People, app: App, graph: FakeGraph, identity: FakeIdentityPlatform
) -> None:
    adele = people.new()
    graph.add_item(adele.account, "Logged.txt", content=b"l" * 100)
    adele.connect()
    adele.ask("search Logged")
    adele.command("fetch Logged.txt")
    people.slack.wait_for_sync(lambda u: u.filename == "Logged.txt", kind="uploads")
    log = app.process.log()
    assert "graph GET search" in log  # the app really logged at DEBUG and INFO
    shown = "\n".join(repr(m) for m in people.slack.messages.snapshot())
    for secret in identity.issued_secrets() + app.secrets:
        assert secret not in log
        assert secret not in shown


def test_unexpected_error_has_error_id(people: People, app: App, graph: FakeGraph) -> None:
    adele = people.new()
    adele.connect()
    graph.fail_next(1, 200, body={"value": 5}, path_pattern=r"/search\(")
    reply = adele.ask("search anything")
    text = all_text(reply)
    assert "Error id:" in text
    error_id = text.split("Error id: `")[1].split("`")[0]
    log = app.process.log()
    assert f"unexpected error (error id {error_id})" in log
    assert f"user={adele.user_id}" in log.split(f"error id {error_id}")[1].splitlines()[0]


@pytest.mark.parametrize(
    "payload",
    [
        "entra/token_error_invalid_grant_AADSTS50173.json",
        "entra/token_error_invalid_grant_AADSTS700082.json",
        "entra/token_error_invalid_grant_AADSTS65001.json",
        "entra/token_error_interaction_required_AADSTS50076.json",
    ],
    ids=["revoked", "expired", "consent", "mfa"],
)
def test_dead_sign_in_is_removed(
    people: People, app: App, identity: FakeIdentityPlatform, short_tokens: object, payload: str
) -> None:
    adele = people.new()
    adele.connect()
    canned = load_payload(payload)
    identity.fail_next_token(canned["status"], canned["body"], grant_type="refresh_token")
    reply = adele.ask("search anything")
    assert "Connect again" in all_text(reply)
    assert app.connection_count(adele.user_id) == 0


@pytest.mark.parametrize(
    ("status", "body", "headers", "delay"),
    [
        (429, {"error": "temporarily_unavailable"}, {"Retry-After": "1"}, 0.0),
        (500, {"error": "server_error"}, {}, 0.0),
        (200, "<html>gateway</html>", {"Content-Type": "text/html"}, 0.0),
        (503, {}, {}, 5.0),
        (429, {}, {}, 0.0),
        (200, {}, {}, 0.0),
        (200, [], {}, 0.0),
        (RESET, "", {}, 0.0),
    ],
    ids=["429", "500", "not-json", "timeout", "429-empty", "200-empty", "200-list", "reset"],
)
def test_passing_token_fault_keeps_connection(
    people: People,
    app: App,
    identity: FakeIdentityPlatform,
    short_tokens: object,
    status: int,
    body: object,
    headers: dict[str, str],
    delay: float,
) -> None:
    adele = people.new()
    adele.connect()
    identity.fail_next_token(status, body, headers, grant_type="refresh_token", delay_seconds=delay)
    reply = adele.reply(adele.command("search anything")[1], timeout=40)
    assert "not answering" in all_text(reply)
    assert app.connection_count(adele.user_id) == 1
