"""Slash commands and buttons as people use them, including hostile input."""

from __future__ import annotations

import time

import pytest

from tests.e2e.people import CHANNEL, App, People, all_text, button_values
from tests.e2e.slack_requests import signature_headers
from tests.fakes import FakeGraph, FakeSlack

TRICKY_NAMES = [
    "it's mine.txt",
    "#1 plan.docx",
    "100% done.xlsx",
    "Q&A notes.md",
    "<!channel> a <@U123> b.txt",
    "Résumé 日本語.pdf",
]


def test_help_and_unknown_subcommand(people: People) -> None:
    adele = people.new()
    ack, _ = adele.command("")
    assert "/onedrive search" in ack.json()["text"]
    ack, _ = adele.command("frobnicate now")
    body = ack.json()
    assert "frobnicate" in body["text"]
    assert "/onedrive search" in body["text"]
    assert body["response_type"] == "ephemeral"


def test_not_connected_gets_link(people: People, app: App) -> None:
    adele = people.new()
    reply = adele.ask("search anything")
    assert "not connected" in all_text(reply)
    assert reply.response_type == "ephemeral"
    urls = [
        element["url"]
        for block in reply.blocks or []
        for element in block.get("elements", [])
        if "url" in element
    ]
    assert urls and urls[0].startswith(f"{app.url}/auth/connect/")


def test_search_without_results(people: People) -> None:
    adele = people.new()
    adele.connect()
    reply = adele.ask("search nothing-matches-this")
    assert "No files" in all_text(reply)
    assert "nothing-matches-this" in all_text(reply)


@pytest.mark.parametrize("name", TRICKY_NAMES)
def test_tricky_names_found_and_escaped(people: People, graph: FakeGraph, name: str) -> None:
    adele = people.new()
    graph.add_item(adele.account, name, "/Documents/<b>&co", content=b"x")
    adele.connect()
    reply = adele.ask(f"search {name}")
    text = all_text(reply)
    escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert escaped in text
    assert "<!channel>" not in text
    assert "<@U123>" not in text
    assert "/Documents/&lt;b&gt;&amp;co" in text
    assert graph.searches.snapshot()[-1] == name


def test_several_matches_give_picker(people: People, graph: FakeGraph, slack: FakeSlack) -> None:
    adele = people.new()
    graph.add_item(adele.account, "Budget 2025.xlsx", content=b"a")
    graph.add_item(adele.account, "Budget 2026.xlsx", content=b"b")
    adele.connect()
    reply = adele.ask("share --edit budget")
    assert "Several files" in all_text(reply)
    values = button_values(reply, "share_item")
    assert len(values) == 2
    assert all(value.startswith("edit:") for value in values)

    adele.click("share_item", values[1])
    posted = slack.wait_for_sync(
        lambda m: m.kind == "message" and f"<@{adele.user_id}>" in (m.text or "")
    )
    assert "edit link" in (posted.text or "")


def test_button_acts_as_clicker(people: People, graph: FakeGraph, slack: FakeSlack) -> None:
    adele = people.new()
    bob = people.new()
    graph.add_item(adele.account, "Private plan.docx", content=b"secret plan")
    adele.connect()
    bob.connect()
    results = adele.ask("search Private plan")
    value = button_values(results, "share_item")[0]
    requests_before = len(graph.requests.snapshot())

    # Bob clicks Adele's button: Graph sees Bob's token, which cannot reach Adele's file
    response_url = bob.click("share_item", value)
    reply = bob.reply(response_url)
    assert "not allowed" in all_text(reply) or "not found" in all_text(reply)
    assert not [link for link in graph.links() if link.item.name == "Private plan.docx"]
    new_requests = graph.requests.snapshot()[requests_before:]
    assert new_requests
    assert all("Bearer" in r.headers.get("authorization", "") for r in new_requests)


def test_button_from_unconnected_clicker(people: People, graph: FakeGraph) -> None:
    adele = people.new()
    carol = people.new()
    graph.add_item(adele.account, "Roadmap.pptx", content=b"r")
    adele.connect()
    value = button_values(adele.ask("search Roadmap"), "fetch_item")[0]
    reply = carol.reply(carol.click("fetch_item", value))
    assert "not connected" in all_text(reply)


def test_forged_signature_rejected(people: People, graph: FakeGraph, slack: FakeSlack) -> None:
    adele = people.new()
    response_url = slack.new_response_url()
    body = adele.agent.command_body("connect", CHANNEL, response_url)
    headers = signature_headers("not-the-signing-secret", body)
    response = adele.agent.post(body, headers)
    assert response.status_code == 401
    time.sleep(0.5)
    assert adele.replies(response_url) == []


def test_stale_timestamp_rejected(people: People, slack: FakeSlack) -> None:
    adele = people.new()
    response_url = slack.new_response_url()
    body = adele.agent.command_body("connect", CHANNEL, response_url)
    headers = signature_headers(people.app.signing_secret, body, int(time.time()) - 6 * 60)
    response = adele.agent.post(body, headers)
    assert response.status_code == 401
    time.sleep(0.5)
    assert adele.replies(response_url) == []


def test_slack_retry_is_not_redone(people: People, graph: FakeGraph, slack: FakeSlack) -> None:
    adele = people.new()
    graph.add_item(adele.account, "Once.txt", content=b"1")
    adele.connect()
    response_url = slack.new_response_url()
    body = adele.agent.command_body("share Once.txt", CHANNEL, response_url)
    headers = signature_headers(people.app.signing_secret, body)
    headers["X-Slack-Retry-Num"] = "1"
    headers["X-Slack-Retry-Reason"] = "http_timeout"
    assert adele.agent.post(body, headers).status_code == 200
    time.sleep(0.5)
    assert adele.replies(response_url) == []
    assert not [link for link in graph.links() if link.item.name == "Once.txt"]
