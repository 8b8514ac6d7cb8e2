"""Fixtures that start the fakes for their self-tests."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest

from tests.fakes import FakeGraph, FakeIdentityPlatform, FakeSlack, TestCA

REDIRECT_URI = "https://127.0.0.1/auth/callback"


@pytest.fixture(scope="session")
def ca() -> Iterator[TestCA]:
    with TestCA() as test_ca:
        yield test_ca


@pytest.fixture
def trust_test_ca(ca: TestCA, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make requests (and so msal) trust only the test CA.

    requests prefers REQUESTS_CA_BUNDLE over a session's ``verify``, and this machine
    sets it globally, so msal's ``verify=`` argument alone is not enough.
    """
    for name, value in ca.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


@pytest.fixture
def ssl_context(ca: TestCA) -> ssl.SSLContext:
    return ca.client_ssl_context()


@pytest.fixture
def identity(ca: TestCA, trust_test_ca: None) -> Iterator[FakeIdentityPlatform]:
    with FakeIdentityPlatform(ca, redirect_uris=[REDIRECT_URI]) as fake:
        yield fake


@pytest.fixture
def graph(identity: FakeIdentityPlatform, ca: TestCA) -> Iterator[FakeGraph]:
    with FakeGraph(identity, ca) as fake:
        yield fake


@pytest.fixture
def slack(ca: TestCA) -> Iterator[FakeSlack]:
    with FakeSlack(ca) as fake:
        yield fake


@pytest.fixture
def http(ssl_context: ssl.SSLContext) -> Iterator[httpx.Client]:
    with httpx.Client(verify=ssl_context) as client:
        yield client
