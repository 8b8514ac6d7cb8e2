"""The consent link and callback: single use, short-lived, bound to one person and browser."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import text

from bot.store.models import utcnow
from tests.e2e.people import App, People, all_text, begin_sign_in
from tests.fakes import FakeIdentityPlatform, FakeSlack, TestCA


def _authorize_redirect(person_browser: httpx.Client, link: str) -> httpx.Response:
    """Open the link without following Microsoft's redirect back to the app."""
    first = begin_sign_in(person_browser, link)
    return person_browser.get(first.headers["Location"], follow_redirects=False)


def test_link_works_once(people: People, app: App) -> None:
    adele = people.new()
    link = adele.connect_link()
    assert adele.open_link(link).status_code == 200
    again = adele.open_link(link)
    assert again.status_code == 410
    assert "already been used" in again.text
    assert app.connection_count(adele.user_id) == 1


def test_expired_link_changes_nothing(people: People, app: App) -> None:
    adele = people.new()
    link = adele.connect_link()
    with app.engine.begin() as connection:
        connection.execute(
            text("UPDATE consent_request SET expires_at = :past WHERE user_id = :user"),
            {"past": utcnow() - timedelta(seconds=1), "user": adele.user_id},
        )
    page = adele.open_link(link)
    assert page.status_code == 410
    assert "expired" in page.text
    assert app.connection_count(adele.user_id) == 0


def test_unknown_link_page(people: People, app: App) -> None:
    adele = people.new()
    link = adele.connect_link()
    page = adele.open_link(link[:-4] + "AAAA")
    assert page.status_code == 404
    assert "not valid" in page.text


def test_link_in_another_browser_connects_nobody(
    people: People, app: App, ca: TestCA, identity: FakeIdentityPlatform
) -> None:
    adele = people.new()
    mallory = people.new()
    link = adele.connect_link()

    # Adele opens her link, so it is bound to her browser
    redirect = _authorize_redirect(adele.browser, link)
    callback_url = redirect.headers["Location"]

    # Mallory's browser can neither reopen the link nor finish Adele's sign-in
    with httpx.Client(verify=ca.client_ssl_context(), follow_redirects=True) as other:
        reopened = other.get(link)
        assert reopened.status_code == 403
        finished = other.get(callback_url)
        assert finished.status_code == 403
    assert app.connection_count(adele.user_id) == 0
    assert app.connection_count(mallory.user_id) == 0

    # Adele's own browser still finishes, and the connection is hers alone
    page = adele.browser.get(callback_url)
    assert page.status_code == 200
    assert app.connection_count(adele.user_id) == 1
    assert "not connected" in all_text(mallory.ask("status"))


def test_tampered_state_changes_nothing(people: People, app: App) -> None:
    adele = people.new()
    link = adele.connect_link()
    redirect = _authorize_redirect(adele.browser, link)
    parts = urlsplit(redirect.headers["Location"])
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query["state"] = query["state"][:-2] + ("xy" if not query["state"].endswith("xy") else "zz")
    page = adele.browser.get(f"{app.url}/auth/callback", params=query)
    assert page.status_code == 404
    assert app.connection_count(adele.user_id) == 0


def test_tampered_code_fails_cleanly(people: People, app: App) -> None:
    adele = people.new()
    link = adele.connect_link()
    redirect = _authorize_redirect(adele.browser, link)
    parts = urlsplit(redirect.headers["Location"])
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query["code"] = "forged-" + query["code"][7:]
    page = adele.browser.get(f"{app.url}/auth/callback", params=query)
    assert page.status_code == 400
    assert "Error id: E" in page.text
    assert app.connection_count(adele.user_id) == 0


def test_declined_consent(people: People, app: App, identity: FakeIdentityPlatform) -> None:
    adele = people.new()
    link = adele.connect_link()
    identity.decline_next = True
    page = adele.open_link(link)
    assert page.status_code == 200
    assert "cancelled" in page.text
    assert app.connection_count(adele.user_id) == 0


def test_concurrent_callbacks_one_wins(people: People, app: App) -> None:
    adele = people.new()
    link = adele.connect_link()
    redirect = _authorize_redirect(adele.browser, link)
    callback_url = redirect.headers["Location"]
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        pages = list(pool.map(lambda _: adele.browser.get(callback_url), range(4)))
    assert sorted(page.status_code for page in pages) == [200, 410, 410, 410]
    assert app.connection_count(adele.user_id) == 1


def test_connect_message_names_account(people: People, slack: FakeSlack) -> None:
    adele = people.new()
    adele.connect()
    told = slack.wait_for_sync(
        lambda m: m.kind == "message" and adele.account.preferred_username in (m.text or "")
    )
    assert "disconnect" in (told.text or "")


def test_database_holds_no_plaintext_secret(
    people: People, app: App, identity: FakeIdentityPlatform
) -> None:
    adele = people.new()
    adele.connect()
    adele.ask("status")
    with app.engine.connect() as connection:
        rows = [
            repr(tuple(row))
            for table in ("connection", "consent_request")
            for row in connection.execute(text(f"SELECT * FROM {table}"))  # noqa: S608
        ]
    dump = "\n".join(rows)
    assert adele.account.home_account_id in dump  # the rows are really there
    secrets = identity.issued_secrets() + app.secrets
    assert secrets
    for secret in secrets:
        assert secret not in dump


def test_code_for_another_client_rejected(
    people: People, app: App, identity: FakeIdentityPlatform
) -> None:
    adele = people.new()
    link = adele.connect_link()
    first = begin_sign_in(adele.browser, link)
    authorize_url = first.headers["Location"]
    ours = {key: values[0] for key, values in parse_qs(urlsplit(authorize_url).query).items()}

    # an attacker's own app registration, with the same redirect URI, obtains a code
    other = identity.register_client(redirect_uris=[f"{app.url}/auth/callback"])
    identity.sign_in_as = adele.account
    stolen = adele.browser.get(
        authorize_url.split("?")[0],
        params={**ours, "client_id": other.client_id},
        follow_redirects=False,
    )
    code = parse_qs(urlsplit(stolen.headers["Location"]).query)["code"][0]

    page = adele.browser.get(
        f"{app.url}/auth/callback", params={"code": code, "state": ours["state"]}
    )
    assert page.status_code == 400
    assert app.connection_count(adele.user_id) == 0


def test_link_page_names_slack_account(people: People, app: App) -> None:
    adele = people.new()
    link = adele.connect_link()
    page = adele.browser.get(link)
    assert page.status_code == 200
    assert f"@{adele.agent.user_name} ({adele.user_id})" in page.text
    assert "If someone sent you this link" in page.text
    assert app.connection_count(adele.user_id) == 0


def test_link_preview_does_not_use_link(people: People, app: App, ca: TestCA) -> None:
    adele = people.new()
    link = adele.connect_link()
    with httpx.Client(verify=ca.client_ssl_context()) as scanner:
        assert scanner.get(link).status_code == 200
        assert scanner.head(link).status_code in (200, 405)
    assert adele.open_link(link).status_code == 200
    assert app.connection_count(adele.user_id) == 1


def test_cross_site_post_cannot_start(people: People, app: App, ca: TestCA) -> None:
    adele = people.new()
    link = adele.connect_link()
    with httpx.Client(verify=ca.client_ssl_context()) as other_site:
        response = other_site.post(link, follow_redirects=False)
    assert response.status_code == 400
    assert adele.open_link(link).status_code == 200


def test_connected_page_names_both_accounts(people: People) -> None:
    adele = people.new()
    page = adele.connect()
    assert adele.account.preferred_username in page.text
    assert adele.user_id in page.text
