"""The whole journey through the running app: connect, search, share, fetch, disconnect."""

from __future__ import annotations

import hashlib

from tests.e2e.people import CHANNEL, People, all_text, button_values
from tests.fakes import FakeGraph, FakeSlack
from tests.fakes.accounts import work_account
from tests.fakes.slack_records import SlackMessage


def test_connect_search_share_fetch_disconnect(
    people: People, graph: FakeGraph, slack: FakeSlack
) -> None:
    adele = people.new(name="Adele Vance")
    content = b"quarterly numbers\n" * 1000
    report = graph.add_item(adele.account, "Q3 Report.xlsx", "/Documents/Finance", content=content)
    graph.add_item(adele.account, "Holiday photo.jpg", "/Pictures", content=b"jpeg")

    # connect: the link goes through Microsoft and back, and Slack hears about it
    page = adele.connect()
    assert adele.account.preferred_username in page.text
    dm = slack.wait_for_sync(
        lambda m: m.kind == "message" and adele.account.preferred_username in (m.text or "")
    )
    assert dm.channel is not None
    assert dm.channel.startswith("D")

    # status names the account
    status = adele.ask("status")
    assert adele.account.preferred_username in all_text(status)

    # search lists the file with its folder and buttons
    results = adele.ask("search Q3 report")
    text = all_text(results)
    assert "Q3 Report.xlsx" in text
    assert "/Documents/Finance" in text
    assert "Holiday photo.jpg" not in text
    share_values = button_values(results, "share_item")
    assert len(share_values) == 1
    assert report.id in share_values[0]
    assert len(button_values(results, "fetch_item")) == 1

    def mine(message: SlackMessage, phrase: str) -> bool:
        return f"<@{adele.user_id}>" in (message.text or "") and phrase in (message.text or "")

    # Share here: a view link posted into the channel, naming who shared it
    adele.click("share_item", share_values[0])
    shared = slack.wait_for_sync(
        lambda m: m.kind == "message" and m.channel == CHANNEL and mine(m, "view link")
    )
    assert "Q3 Report.xlsx" in (shared.text or "")
    view_links = [link for link in graph.links() if link.item.id == report.id]
    assert [(link.link_type, link.scope) for link in view_links] == [("view", "organization")]
    assert view_links[0].web_url in (shared.text or "")

    # share --edit by name
    adele.command("share --edit Q3 Report.xlsx")
    edited = slack.wait_for_sync(
        lambda m: m.kind == "message" and m.channel == CHANNEL and mine(m, "edit link")
    )
    edit_links = [link for link in graph.links() if link.link_type == "edit"]
    assert any(link.web_url in (edited.text or "") for link in edit_links)

    # fetch uploads the very bytes into the channel
    adele.command("fetch Q3 Report.xlsx")
    upload = slack.wait_for_sync(
        lambda u: adele.user_id in (u.initial_comment or "") and u.channel == CHANNEL,
        kind="uploads",
    )
    assert upload.size == len(content)
    assert upload.sha256 == hashlib.sha256(content).hexdigest()
    assert upload.filename == "Q3 Report.xlsx"
    assert graph.download_host.authorization_headers_seen == []

    # disconnect, then status offers the link again
    assert "Disconnected" in all_text(adele.ask("disconnect"))
    after = adele.ask("status")
    assert "not connected" in all_text(after)
    assert button_values(after, "connect_link") == []  # a URL button, no value
    assert any(
        element.get("url", "").startswith(people.app.url)
        for block in after.blocks or []
        for element in block.get("elements", [])
    )


def test_reconnect_switches_account(people: People, graph: FakeGraph) -> None:
    adele = people.new()
    first = adele.account
    graph.add_item(first, "First account.txt", content=b"1")
    adele.connect()
    assert "First account.txt" in all_text(adele.ask("search account"))

    adele.ask("disconnect")
    second = work_account(preferred_username=f"second.{adele.user_id}@contoso.example")
    graph.add_item(second, "Second account.txt", content=b"2")
    adele.account = second
    adele.connect()
    text = all_text(adele.ask("search account"))
    assert "Second account.txt" in text
    assert "First account.txt" not in text


def test_search_batches_folder_lookups(people: People, graph: FakeGraph) -> None:
    adele = people.new()
    for index in range(25):
        graph.add_item(adele.account, f"Batch report {index}.txt", f"/Documents/Area {index}")
    adele.connect()
    before = len(graph.requests.snapshot())
    first = all_text(adele.ask("search Batch report"))
    after_first = len(graph.requests.snapshot())
    second = all_text(adele.ask("search Batch report"))
    after_second = len(graph.requests.snapshot())

    assert "/Documents/Area 3" in first
    assert after_first - before == 2  # the search and one batch of folder lookups
    assert after_second - after_first == 1  # folders come from this person's recent lookups
    assert first == second
