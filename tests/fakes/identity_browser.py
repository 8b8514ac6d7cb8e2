"""Play the browser's part of a sign-in: follow an auth_uri and read the reply to the app."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx


@dataclass
class AuthorizeReply:
    """What the identity platform sends back to the app's redirect URI.

    ``redirect_uri`` has no query or fragment. ``params`` contains code, state,
    session_state and client_info, or error and error_description. ``method`` is GET for
    the query and fragment response modes and POST for form_post. ``status`` is the
    HTTP status of the authorize response: 302 for a redirect, 200 for form_post or
    for the sign-in page (then ``params`` is empty), 400 for an error page.
    """

    status: int
    redirect_uri: str
    params: dict[str, str]
    method: str
    page: str


class _FormPostParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.action = attributes.get("action") or ""
        elif tag == "input" and attributes.get("name"):
            self.fields[attributes["name"] or ""] = attributes.get("value") or ""


def follow_auth_uri(auth_uri: str, verify: ssl.SSLContext) -> AuthorizeReply:
    """Send the browser's GET to ``auth_uri`` and return what would reach the app.

    Does not contact the redirect URI itself, so the app need not be running.
    """
    response = httpx.get(auth_uri, verify=verify, follow_redirects=False)
    if response.status_code in (301, 302, 303, 307, 308):
        parts = urlsplit(response.headers["location"])
        encoded = parts.fragment or parts.query
        bare = urlunsplit(parts._replace(query="", fragment=""))
        return AuthorizeReply(
            response.status_code, bare, dict(parse_qsl(encoded)), "GET", response.text
        )
    parser = _FormPostParser()
    parser.feed(response.text)
    method = "POST" if parser.action else "GET"
    return AuthorizeReply(response.status_code, parser.action, parser.fields, method, response.text)
