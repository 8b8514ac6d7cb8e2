"""The fake Microsoft Graph, driven over HTTPS with httpx."""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import httpx
import pytest

from tests.fakes import Account, FakeGraph, FakeIdentityPlatform, personal_account, work_account
from tests.fakes.payloads import payload_body

SPECIAL_NAME = "O'Brien #1 100% & <draft> café 日本.docx"


def odata_search_url(graph: FakeGraph, query: str) -> str:
    """Build the search URL the way a correct client must: '' inside, then percent-encode."""
    literal = quote(query.replace("'", "''"), safe="")
    return f"{graph.url}/v1.0/me/drive/root/search(q='{literal}')"


@pytest.fixture
def adele() -> Account:
    return work_account("adele.vance@contoso.example", "Adele Vance")


@pytest.fixture
def client(
    graph: FakeGraph, identity: FakeIdentityPlatform, adele: Account, ssl_context: ssl.SSLContext
) -> Iterator[httpx.Client]:
    token = identity.issue_tokens(adele)["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(verify=ssl_context, headers=headers) as http_client:
        yield http_client


def test_search_finds_special_characters(
    graph: FakeGraph, client: httpx.Client, adele: Account
) -> None:
    item = graph.add_item(adele, SPECIAL_NAME, content=b"draft")
    graph.add_item(adele, "O'Brien notes.txt", content=b"other")

    for query in ("O'Brien #1 100% & <draft> café 日本", "o'brien 日本 CAFÉ", "#1 &"):
        response = client.get(odata_search_url(graph, query))
        assert response.status_code == 200, response.text
        assert [hit["id"] for hit in response.json()["value"]] == [item.id], query
        assert graph.searches[-1] == query

    hit = response.json()["value"][0]
    assert hit["name"] == SPECIAL_NAME
    assert hit["file"]["mimeType"].startswith("application/vnd.openxmlformats")
    assert hit["parentReference"]["driveType"] == "business"
    assert "path" not in hit["parentReference"]  # work drives omit it in search results
    assert response.headers["request-id"]
    assert response.headers["client-request-id"]


def test_search_rejects_broken_quoting(graph: FakeGraph, client: httpx.Client) -> None:
    unescaped = f"{graph.url}/v1.0/me/drive/root/search(q='{quote(chr(39).join(['O', 'Brien']))}')"
    unquoted = f"{graph.url}/v1.0/me/drive/root/search(q=report)"

    for url in (unescaped, unquoted):
        response = client.get(url)
        assert response.status_code == 400, url
        assert response.json()["error"]["code"] == "invalidRequest"
        assert (
            response.json()["error"]["innerError"]["request-id"] == response.headers["request-id"]
        )


def test_search_pages_with_next_link(
    graph: FakeGraph, client: httpx.Client, adele: Account
) -> None:
    ids = {graph.add_item(adele, f"Budget {number}.xlsx", content=b"x").id for number in range(5)}
    graph.add_item(adele, "Unrelated.txt", content=b"x")

    seen: list[str] = []
    url: str | None = odata_search_url(graph, "budget") + "?$top=2&$select=name"
    pages = 0
    while url is not None:
        assert url.startswith(graph.url)
        page = client.get(url).json()
        pages += 1
        for hit in page["value"]:
            assert set(hit) <= {"id", "name", "@odata.type"}
            seen.append(hit["id"])
        url = page.get("@odata.nextLink")

    assert pages == 3
    assert sorted(seen) == sorted(ids)
    assert graph.searches.snapshot() == ["budget"] * 3


def test_search_defaults_and_bad_options(
    graph: FakeGraph, client: httpx.Client, adele: Account
) -> None:
    for number in range(3):
        graph.add_item(adele, f"Plan {number}.pdf", content=b"x")
    page = client.get(odata_search_url(graph, "plan")).json()
    assert len(page["value"]) == 3
    assert "@odata.nextLink" not in page

    bad_select = client.get(odata_search_url(graph, "plan") + "?$select=nosuchproperty")
    assert bad_select.status_code == 400
    bad_top = client.get(odata_search_url(graph, "plan") + "?$top=0")
    assert bad_top.status_code == 400


def test_missing_and_expired_tokens_get_401(
    graph: FakeGraph, identity: FakeIdentityPlatform, adele: Account, http: httpx.Client
) -> None:
    missing = http.get(f"{graph.url}/v1.0/me")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert missing.headers["www-authenticate"].startswith("Bearer ")
    assert identity.url in missing.headers["www-authenticate"]

    token = identity.issue_tokens(adele)["access_token"]
    identity.expire_access_tokens(adele)
    expired = http.get(f"{graph.url}/v1.0/me", headers={"Authorization": f"Bearer {token}"})
    assert expired.status_code == 401
    assert "expired" in expired.json()["error"]["message"]

    unknown = http.get(f"{graph.url}/v1.0/me", headers={"Authorization": "Bearer fake-at-nope"})
    assert unknown.status_code == 401


def test_me_for_work_and_personal_accounts(
    graph: FakeGraph, identity: FakeIdentityPlatform, http: httpx.Client, adele: Account
) -> None:
    megan = personal_account()
    for account, expected_id in ((adele, adele.oid), (megan, megan.personal_cid)):
        token = identity.issue_tokens(account)["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        me = http.get(f"{graph.url}/v1.0/me", headers=headers).json()
        assert me["id"] == expected_id
        assert me["userPrincipalName"] == account.preferred_username
        drive = http.get(f"{graph.url}/v1.0/me/drive", headers=headers).json()
        assert drive["driveType"] == ("personal" if account.is_personal else "business")


def test_missing_scope_is_forbidden(
    graph: FakeGraph, identity: FakeIdentityPlatform, http: httpx.Client, adele: Account
) -> None:
    token = identity.issue_tokens(adele, ("Files.Read",))["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    item = graph.add_item(adele, "a.txt", content=b"a")

    assert (
        http.get(f"{graph.url}/v1.0/me/drive/items/{item.id}", headers=headers).status_code == 200
    )
    assert http.get(f"{graph.url}/v1.0/me", headers=headers).status_code == 403
    link = http.post(
        f"{graph.url}/v1.0/me/drive/items/{item.id}/createLink",
        headers=headers,
        json={"type": "view", "scope": "organization"},
    )
    assert link.status_code == 403


def test_get_item_by_both_paths(graph: FakeGraph, client: httpx.Client, adele: Account) -> None:
    item = graph.add_item(adele, "q1.pdf", folder="/Documents/Reports", content=b"%PDF")
    drive_id = item.drive.id

    mine = client.get(f"{graph.url}/v1.0/me/drive/items/{item.id}").json()
    by_drive = client.get(f"{graph.url}/v1.0/drives/{drive_id}/items/{item.id}").json()

    for body in (mine, by_drive):
        assert body["id"] == item.id
        assert body["size"] == 4
        assert body["parentReference"]["path"] == "/drive/root:/Documents/Reports"
        assert body["parentReference"]["driveId"] == drive_id
        assert body["@microsoft.graph.downloadUrl"].startswith(graph.download_host.url)
    missing = client.get(f"{graph.url}/v1.0/me/drive/items/01NOSUCHITEM")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "itemNotFound"


def test_other_users_item_needs_a_grant(
    graph: FakeGraph, client: httpx.Client, adele: Account
) -> None:
    other = work_account("alex.wilber@contoso.example", "Alex Wilber", tenant_id=adele.tid)
    item = graph.add_item(other, "secret.xlsx", content=b"x")
    url = f"{graph.url}/v1.0/drives/{item.drive.id}/items/{item.id}"

    assert client.get(url).status_code == 403
    assert client.get(f"{graph.url}/v1.0/me/drive/items/{item.id}").status_code == 404
    graph.grant(item, adele)
    shared = client.get(url)
    assert shared.status_code == 200
    assert shared.json()["parentReference"]["path"].startswith(f"/drives/{item.drive.id}/root:")


def test_download_redirects_to_separate_host(
    graph: FakeGraph, client: httpx.Client, adele: Account, ssl_context: ssl.SSLContext
) -> None:
    item = graph.add_item(adele, "big.bin", size=3 * 1024 * 1024 + 17)

    redirect = client.get(f"{graph.url}/v1.0/me/drive/items/{item.id}/content")
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert urlsplit(location).port == graph.download_host.port
    assert urlsplit(location).port != graph.port

    # httpx drops Authorization when a redirect leaves the origin.
    followed = client.get(
        f"{graph.url}/v1.0/drives/{item.drive.id}/items/{item.id}/content", follow_redirects=True
    )
    assert followed.status_code == 200
    assert int(followed.headers["content-length"]) == item.size
    assert hashlib.sha256(followed.content).hexdigest() == item.sha256()
    assert graph.download_host.authorization_headers_seen == []

    # A client that forwards the bearer token is caught.
    client.get(location)
    assert len(graph.download_host.authorization_headers_seen) == 1


def test_download_range_and_expiry(
    graph: FakeGraph, client: httpx.Client, adele: Account, ssl_context: ssl.SSLContext
) -> None:
    item = graph.add_item(adele, "notes.txt", content=b"0123456789")
    location = client.get(f"{graph.url}/v1.0/me/drive/items/{item.id}/content").headers["location"]

    partial = httpx.get(location, headers={"Range": "bytes=2-5"}, verify=ssl_context)
    assert partial.status_code == 206
    assert partial.content == b"2345"
    assert partial.headers["content-range"] == "bytes 2-5/10"

    graph.download_host.expire_urls()
    assert httpx.get(location, verify=ssl_context).status_code == 401


def test_create_link_on_work_drive(graph: FakeGraph, client: httpx.Client, adele: Account) -> None:
    item = graph.add_item(adele, "deck.pptx", content=b"x")
    url = f"{graph.url}/v1.0/drives/{item.drive.id}/items/{item.id}/createLink"

    first = client.post(url, json={"type": "view", "scope": "organization"})
    again = client.post(url, json={"type": "view", "scope": "organization"})
    edit = client.post(url, json={"type": "edit", "scope": "organization"})
    anonymous = client.post(url, json={"type": "view", "scope": "anonymous"})
    embed = client.post(url, json={"type": "embed"})

    assert first.status_code == 201
    assert first.json()["roles"] == ["read"]
    assert first.json()["link"]["scope"] == "organization"
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["link"]["webUrl"] == first.json()["link"]["webUrl"]
    assert edit.status_code == 201
    assert edit.json()["roles"] == ["write"]
    assert edit.json()["link"]["webUrl"] != first.json()["link"]["webUrl"]
    assert anonymous.status_code == 201
    assert embed.status_code == 400

    graph.block_anonymous_links = True
    other = graph.add_item(adele, "other.pptx", content=b"x")
    blocked = client.post(
        f"{graph.url}/v1.0/me/drive/items/{other.id}/createLink",
        json={"type": "view", "scope": "anonymous"},
    )
    assert blocked.status_code == 403
    assert blocked.json()["error"]["code"] == "accessDenied"
    assert "policy" in blocked.json()["error"]["message"]


def test_create_link_on_personal_drive(
    graph: FakeGraph, identity: FakeIdentityPlatform, http: httpx.Client
) -> None:
    megan = personal_account()
    headers = {"Authorization": f"Bearer {identity.issue_tokens(megan)['access_token']}"}
    item = graph.add_item(megan, "photo.jpg", content=b"x")
    url = f"{graph.url}/v1.0/me/drive/items/{item.id}/createLink"

    organization = http.post(url, headers=headers, json={"type": "view", "scope": "organization"})
    anonymous = http.post(url, headers=headers, json={"type": "view", "scope": "anonymous"})
    embed = http.post(url, headers=headers, json={"type": "embed"})

    assert organization.status_code == 400
    assert organization.json()["error"]["code"] == "invalidRequest"
    assert anonymous.status_code == 201
    assert embed.status_code == 201
    assert "iframe" in embed.json()["link"]["webHtml"]
    assert item.id.startswith(f"{megan.personal_cid.upper()}!")  # type: ignore[union-attr]


def test_shares_resolves_links_and_web_urls(
    graph: FakeGraph, identity: FakeIdentityPlatform, client: httpx.Client, adele: Account
) -> None:
    item = graph.add_item(adele, "plan.docx", content=b"x")
    link = client.post(
        f"{graph.url}/v1.0/me/drive/items/{item.id}/createLink",
        json={"type": "view", "scope": "organization"},
    ).json()["link"]["webUrl"]

    for url in (link, item.web_url):
        resolved = client.get(f"{graph.url}/v1.0/shares/{graph.share_id(url)}/driveItem")
        assert resolved.status_code == 200
        assert resolved.json()["id"] == item.id
    assert graph.share_id("https://a/b").startswith("u!")
    assert "=" not in graph.share_id("https://a/bc")

    stranger = work_account("eve@fabrikam.example", "Eve")
    headers = {"Authorization": f"Bearer {identity.issue_tokens(stranger)['access_token']}"}
    denied = client.get(
        f"{graph.url}/v1.0/shares/{graph.share_id(link)}/driveItem", headers=headers
    )
    assert denied.status_code == 403


def test_fail_next_queues_faults(graph: FakeGraph, client: httpx.Client, adele: Account) -> None:
    graph.fail_next(2, 429)
    graph.fail_next(1, 502, body="<html>Bad gateway</html>", headers={"Content-Type": "text/html"})
    graph.fail_next(1, 503, path_pattern=r"/search\(", method="GET")

    first = client.get(f"{graph.url}/v1.0/me")
    assert first.status_code == 429
    assert first.headers["retry-after"] == "1"
    assert first.json()["error"]["code"] == "activityLimitReached"
    assert first.json()["error"]["innerError"]["request-id"] == first.headers["request-id"]
    assert client.get(f"{graph.url}/v1.0/me").status_code == 429
    gateway = client.get(f"{graph.url}/v1.0/me")
    assert gateway.status_code == 502
    assert gateway.text == "<html>Bad gateway</html>"
    assert client.get(f"{graph.url}/v1.0/me").status_code == 200
    assert client.get(odata_search_url(graph, "x")).status_code == 503
    assert client.get(odata_search_url(graph, "x")).status_code == 200

    throttled = payload_body("msgraph/error_throttled_429_TooManyRequests.json")
    graph.fail_next(1, 429, body=throttled, headers={"Retry-After": "2.128"})
    other_shape = client.get(f"{graph.url}/v1.0/me")
    assert other_shape.headers["retry-after"] == "2.128"
    assert other_shape.json()["error"]["code"] == "TooManyRequests"


def test_requests_recorded_with_masked_token(graph: FakeGraph, client: httpx.Client) -> None:
    client.get(f"{graph.url}/v1.0/me", headers={"client-request-id": "abc-123"})

    [recorded] = graph.requests.snapshot()
    assert recorded.method == "GET"
    assert recorded.path == "/v1.0/me"
    assert recorded.headers["authorization"] == "Bearer <masked>"
    assert recorded.headers["client-request-id"] == "abc-123"
