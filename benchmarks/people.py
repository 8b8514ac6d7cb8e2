"""Slack users with Microsoft accounts: their drives, their commands and their sign-in."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from benchmarks.loadgen import Request
from benchmarks.services import Services
from tests.e2e.slack_requests import SlackUserAgent, signature_headers
from tests.fakes import Account, SlackMessage, work_account

CHANNEL = "C2147483705"  # the fake Slack's channel that has the bot as a member
ANSWER_TIMEOUT = 30.0

# (folder, name): six files match `search report`, in four folders.
STOCK_FILES = (
    ("/Documents/Finance", "Q3 Report.xlsx"),
    ("/Documents/Finance", "Q2 report.xlsx"),
    ("/Documents/Sales", "Sales report.pptx"),
    ("/Documents/Sales", "Pipeline.xlsx"),
    ("/Projects/Alpha", "Alpha report draft.docx"),
    ("/Projects/Alpha", "Alpha report final.docx"),
    ("/Projects/Beta", "Beta report.docx"),
    ("/Pictures", "Holiday photo.jpg"),
)
SEARCH_TEXT = "search report"
SHARE_TEXT = "share Q3 Report.xlsx"


@dataclass
class Person:
    account: Account
    agent: SlackUserAgent

    @property
    def user_id(self) -> str:
        return self.agent.user_id


def new_people(services: Services, count: int) -> list[Person]:
    """Make people with a work account each and the stock files in their drives."""
    people = []
    for _ in range(count):
        suffix = secrets.token_hex(3)
        account = work_account(preferred_username=f"adele.{suffix}@contoso.example")
        agent = SlackUserAgent(
            "", "", team_id=services.slack.team_id, user_id="U" + secrets.token_hex(5).upper()
        )
        for folder, name in STOCK_FILES:
            services.graph.add_item(account, name, folder, content=b"x" * 2048)
        people.append(Person(account, agent))
    return people


def command_request(
    person: Person, app_url: str, signing_secret: str, text: str, response_url: str, at: float = 0
) -> Request:
    """Return `/onedrive text` as Slack would send it, signed, for the load generator."""
    body = person.agent.command_body(text, CHANNEL, response_url)
    headers = signature_headers(signing_secret, body)
    return Request(f"{app_url}/slack/events", body.decode(), headers, at)


def send_command(
    client: httpx.Client,
    services: Services,
    person: Person,
    app_url: str,
    signing_secret: str,
    text: str,
) -> tuple[str, float]:
    """Send one command; return its response_url and the monotonic time it was sent.

    Raises RuntimeError when the app does not acknowledge with HTTP 200.
    """
    response_url = services.slack.new_response_url()
    body = person.agent.command_body(text, CHANNEL, response_url)
    headers = signature_headers(signing_secret, body)
    sent = time.monotonic()
    response = client.post(f"{app_url}/slack/events", content=body, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"command {text!r} was acknowledged with {response.status_code}")
    return response_url, sent


def answer_to(
    services: Services, response_url: str, timeout: float = ANSWER_TIMEOUT
) -> tuple[SlackMessage, float]:
    """Wait for the first message posted to `response_url`; return it with its arrival time."""
    return services.slack.wait_message(
        lambda m: m.kind == "response_url" and m.response_url == response_url, timeout
    )


def is_search_result(message: SlackMessage) -> bool:
    """Tell whether a message is a list of search results with share buttons."""
    return any(
        element.get("action_id") == "share_item"
        for block in message.blocks or []
        for element in block.get("elements", [])
    )


def connect_button_url(message: SlackMessage) -> str:
    for block in message.blocks or []:
        for element in block.get("elements", []):
            if element.get("action_id") == "connect_link" and "url" in element:
                return str(element["url"])
    raise RuntimeError(f"no connect link in the reply: {message.text!r}")


def connect(
    services: Services,
    person: Person,
    link_app_url: str,
    signing_secret: str,
    callback_app_url: str | None = None,
) -> None:
    """Connect a person's Microsoft account through the app's consent link.

    The `connect` command goes to `link_app_url`, and the link's confirmation page, when
    there is one, is confirmed. With `callback_app_url`, Microsoft's redirect to the
    callback is delivered to that app instead, with the same path, query and cookie, as a
    load balancer in front of both apps would do. Raises RuntimeError when a step fails.
    """
    with httpx.Client(timeout=20) as client:
        response_url, _ = send_command(
            client, services, person, link_app_url, signing_secret, "connect"
        )
    link = connect_button_url(answer_to(services, response_url)[0])
    services.identity.sign_in_as = person.account
    verify = services.ca.client_ssl_context()
    with httpx.Client(verify=verify, timeout=20, follow_redirects=False) as browser:
        to_microsoft = browser.get(link)
        if to_microsoft.status_code == 200 and "<form" in to_microsoft.text:
            # The link shows a confirmation page whose form posts back to the link.
            to_microsoft = browser.post(link)
        to_app = browser.get(_location(to_microsoft))
        callback = _location(to_app)
        if callback_app_url is not None:
            callback = _rebase(callback, callback_app_url)
        page = browser.get(callback)
    if page.status_code != 200 or person.account.preferred_username not in page.text:
        raise RuntimeError(f"sign-in did not finish: HTTP {page.status_code}")


def _location(response: httpx.Response) -> str:
    if response.status_code not in (302, 303, 307):
        raise RuntimeError(f"expected a redirect from {response.url}, got {response.status_code}")
    return response.headers["location"]


def _rebase(url: str, base_url: str) -> str:
    parts = urlsplit(url)
    base = urlsplit(base_url)
    return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, parts.fragment))


def wait_answers(
    services: Services, response_urls: list[str], timeout: float = ANSWER_TIMEOUT
) -> dict[str, tuple[SlackMessage, float]]:
    """Wait until every response_url has received a message or `timeout` passes.

    Returns the first message to each response_url that received one, with its arrival time.
    """
    wanted = set(response_urls)
    deadline = time.monotonic() + timeout
    found: dict[str, tuple[SlackMessage, float]] = {}
    while True:
        for message, arrived in services.slack.messages.timed():
            url = message.response_url
            if message.kind == "response_url" and url in wanted and url not in found:
                found[url] = (message, arrived)
        if len(found) == len(wanted) or time.monotonic() > deadline:
            return found
        time.sleep(0.05)
