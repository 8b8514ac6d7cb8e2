"""Test people: a Slack user, a Microsoft account and a browser, acting against the app."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import httpx
from sqlalchemy import Engine, text

from tests.e2e.app_process import AppProcess
from tests.e2e.slack_requests import SlackUserAgent
from tests.fakes import FakeGraph, FakeIdentityPlatform, FakeSlack, TestCA
from tests.fakes.accounts import Account, personal_account, work_account
from tests.fakes.slack_records import SlackMessage

CHANNEL = "C2147483705"  # the fake Slack's channel with the bot as a member


@dataclass
class App:
    process: AppProcess
    signing_secret: str
    engine: Engine
    secrets: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.process.url

    def connection_count(self, user_id: str) -> int:
        """Count the stored connections of one Slack user."""
        with self.engine.connect() as connection:
            query = text("SELECT count(*) FROM connection WHERE user_id = :user")
            return int(connection.execute(query, {"user": user_id}).scalar_one())


class Person:
    """One Slack user with their own Microsoft account and browser."""

    def __init__(self, crowd: People, account: Account, team_id: str) -> None:
        self._crowd = crowd
        self.account = account
        self.user_id = "U" + secrets.token_hex(5).upper()
        self.agent = SlackUserAgent(
            crowd.app.url, crowd.app.signing_secret, team_id=team_id, user_id=self.user_id
        )
        self.browser = httpx.Client(
            verify=crowd.ca.client_ssl_context(), follow_redirects=True, timeout=20
        )

    @property
    def slack(self) -> FakeSlack:
        return self._crowd.slack

    def command(self, text: str, channel: str = CHANNEL) -> tuple[httpx.Response, str]:
        """Send `/onedrive text`; return the ack and the command's response_url."""
        response_url = self.slack.new_response_url()
        ack = self.agent.command(text, channel, response_url)
        assert ack.status_code == 200, ack.text
        return ack, response_url

    def ask(self, text: str, channel: str = CHANNEL) -> SlackMessage:
        """Send a command and wait for its first answer through response_url."""
        _, response_url = self.command(text, channel)
        return self.reply(response_url)

    def click(self, action_id: str, value: str, channel: str = CHANNEL) -> str:
        """Click a button; return the interaction's response_url."""
        response_url = self.slack.new_response_url()
        ack = self.agent.click(action_id, value, channel, response_url)
        assert ack.status_code == 200, ack.text
        return response_url

    def reply(
        self,
        response_url: str,
        predicate: Callable[[SlackMessage], bool] = lambda message: True,
        timeout: float = 15.0,
    ) -> SlackMessage:
        """Wait for a message posted to `response_url` that satisfies `predicate`."""
        return self.slack.wait_for_sync(
            lambda m: m.kind == "response_url" and m.response_url == response_url and predicate(m),
            timeout=timeout,
        )

    def replies(self, response_url: str) -> list[SlackMessage]:
        return [
            m
            for m in self.slack.messages.snapshot()
            if m.kind == "response_url" and m.response_url == response_url
        ]

    def connect_link(self) -> str:
        message = self.ask("connect")
        return button_url(message, "connect_link")

    def open_link(self, link: str, browser: httpx.Client | None = None) -> httpx.Response:
        """Open a consent link, continue on its page and sign in at the fake as this person."""
        self._crowd.identity.sign_in_as = self.account
        browser = browser or self.browser
        page = browser.get(link)
        if page.status_code != 200 or "<form" not in page.text:
            return page
        return browser.post(link)

    def connect(self) -> httpx.Response:
        page = self.open_link(self.connect_link())
        assert page.status_code == 200, page.text
        return page

    def close(self) -> None:
        self.browser.close()


class People:
    """Makes people for one test and closes their browsers afterwards."""

    def __init__(
        self,
        app: App,
        ca: TestCA,
        identity: FakeIdentityPlatform,
        graph: FakeGraph,
        slack: FakeSlack,
    ) -> None:
        self.app = app
        self.ca = ca
        self.identity = identity
        self.graph = graph
        self.slack = slack
        self._people: list[Person] = []

    def new(self, *, personal: bool = False, name: str = "Adele Vance") -> Person:
        suffix = secrets.token_hex(3)
        if personal:
            account = personal_account(preferred_username=f"megan.{suffix}@outlook.example")
        else:
            account = work_account(preferred_username=f"adele.{suffix}@contoso.example", name=name)
        person = Person(self, account, self.slack.team_id)
        self._people.append(person)
        return person

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for person in self._people:
            person.close()


def button_url(message: SlackMessage, action_id: str) -> str:
    for element in _elements(message):
        if element.get("action_id") == action_id and "url" in element:
            return str(element["url"])
    raise AssertionError(f"no {action_id} URL button in {message.blocks}")


def button_values(message: SlackMessage, action_id: str) -> list[str]:
    return [
        str(element["value"])
        for element in _elements(message)
        if element.get("action_id") == action_id and "value" in element
    ]


def _elements(message: SlackMessage) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for block in message.blocks or []:
        found.extend(block.get("elements", []))
        if "accessory" in block:
            found.append(block["accessory"])
    return found


def all_text(message: SlackMessage) -> str:
    """The message text and the text of every block, for assertions."""
    parts = [message.text or ""]
    for block in message.blocks or []:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(str(text.get("text", "")))
    return "\n".join(parts)


def begin_sign_in(browser: httpx.Client, link: str) -> httpx.Response:
    """Open a consent link and press Continue; return the redirect to Microsoft unfollowed."""
    page = browser.get(link)
    assert page.status_code == 200, page.text
    redirect = browser.post(link, follow_redirects=False)
    assert redirect.status_code == 303, redirect.text
    return redirect
