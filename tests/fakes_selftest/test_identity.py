"""The fake identity platform, driven by the real msal ConfidentialClientApplication."""

from __future__ import annotations

import base64
import json
import ssl
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import msal
import pytest

from tests.fakes import (
    PERSONAL_TENANT_ID,
    Account,
    FakeIdentityPlatform,
    follow_auth_uri,
    personal_account,
    work_account,
)
from tests.fakes.identity_tokens import decode_jwt_claims
from tests.fakes_selftest.conftest import REDIRECT_URI

SCOPES = ["Files.ReadWrite.All", "User.Read"]


def make_app(
    identity: FakeIdentityPlatform, tenant: str = "common", secret: str | None = None
) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        identity.client_id,
        client_credential=secret or identity.client_secret,
        authority=identity.authority(tenant),
        instance_discovery=False,
    )


def sign_in(
    app: msal.ConfidentialClientApplication, ssl_context: ssl.SSLContext
) -> tuple[dict[str, Any], dict[str, str]]:
    """Run the browser part of the auth code flow and return the flow and the reply."""
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT_URI, response_mode="form_post")
    reply = follow_auth_uri(flow["auth_uri"], ssl_context)
    assert reply.method == "POST"
    assert reply.redirect_uri == REDIRECT_URI
    return flow, reply.params


def signed_in_app(
    identity: FakeIdentityPlatform, ssl_context: ssl.SSLContext, account: Account
) -> msal.ConfidentialClientApplication:
    identity.sign_in_as = account
    app = make_app(identity)
    flow, params = sign_in(app, ssl_context)
    result = app.acquire_token_by_auth_code_flow(flow, params)
    assert "access_token" in result, result
    return app


def post_token(
    identity: FakeIdentityPlatform, data: dict[str, str], **kwargs: Any
) -> httpx.Response:
    return httpx.post(
        f"{identity.url}/common/oauth2/v2.0/token",
        data=data,
        verify=identity.ca.client_ssl_context() if identity.ca else True,
        **kwargs,
    )


def test_openid_configuration_uses_fake_host(
    identity: FakeIdentityPlatform, http: httpx.Client
) -> None:
    common = http.get(f"{identity.url}/common/v2.0/.well-known/openid-configuration").json()
    assert common["token_endpoint"] == f"{identity.url}/common/oauth2/v2.0/token"
    assert common["authorization_endpoint"] == f"{identity.url}/common/oauth2/v2.0/authorize"
    assert common["issuer"] == f"{identity.url}/{{tenantid}}/v2.0"
    assert "userinfo_endpoint" not in common

    tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    single = http.get(f"{identity.url}/{tenant}/v2.0/.well-known/openid-configuration").json()
    assert single["issuer"] == f"{identity.url}/{tenant}/v2.0"

    unknown = http.get(f"{identity.url}/no-such-tenant/v2.0/.well-known/openid-configuration")
    assert unknown.status_code == 400
    assert unknown.json()["error_codes"] == [90002]


def test_msal_flow_work_account(
    identity: FakeIdentityPlatform, ssl_context: ssl.SSLContext
) -> None:
    account = work_account()
    identity.sign_in_as = account
    app = make_app(identity)
    flow, params = sign_in(app, ssl_context)
    assert params["state"] == flow["state"]
    assert set(params) == {"code", "state", "session_state", "client_info"}

    # msal raises RuntimeError itself when the ID token's nonce is not the flow's.
    result = app.acquire_token_by_auth_code_flow(flow, params)

    assert result["access_token"].startswith("fake-at-")
    assert result["token_type"] == "Bearer"
    assert result["expires_in"] == 3599
    claims = result["id_token_claims"]
    assert claims["oid"] == account.oid
    assert claims["tid"] == account.tid
    assert claims["aud"] == identity.client_id
    assert claims["iss"] == f"{identity.url}/{account.tid}/v2.0"
    [cached] = app.get_accounts()
    assert cached["home_account_id"] == f"{account.oid}.{account.tid}"
    assert cached["username"] == account.preferred_username
    assert identity.account_for_access_token(result["access_token"]) == account
    request = identity.authorize_requests[-1]
    assert request["code_challenge_method"] == "S256"
    assert request["response_mode"] == "form_post"
    assert identity.token_requests["authorization_code"] == 1


def test_msal_flow_personal_account(
    identity: FakeIdentityPlatform, ssl_context: ssl.SSLContext
) -> None:
    account = personal_account()
    identity.sign_in_as = account
    app = make_app(identity, tenant="consumers")
    flow, params = sign_in(app, ssl_context)
    result = app.acquire_token_by_auth_code_flow(flow, params)

    assert "access_token" in result, result
    [cached] = app.get_accounts()
    assert cached["home_account_id"] == f"{account.oid}.{PERSONAL_TENANT_ID}"
    assert cached["username"] == account.preferred_username


def test_work_account_rejected_by_consumers(
    identity: FakeIdentityPlatform, ssl_context: ssl.SSLContext
) -> None:
    identity.sign_in_as = work_account()
    flow = make_app(identity, tenant="consumers").initiate_auth_code_flow(
        SCOPES, redirect_uri=REDIRECT_URI, response_mode="form_post"
    )
    reply = follow_auth_uri(flow["auth_uri"], ssl_context)
    assert reply.status == 400
    assert "AADSTS50020" in reply.page
    assert reply.params == {}


def test_query_mode_redirect_carries_client_info(
    identity: FakeIdentityPlatform, ssl_context: ssl.SSLContext
) -> None:
    account = work_account()
    identity.sign_in_as = account
    app = make_app(identity)
    with pytest.warns(UserWarning, match="form_post"):
        flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT_URI)
    response = httpx.get(flow["auth_uri"], verify=ssl_context)

    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = {name: values[0] for name, values in parse_qs(location.query).items()}
    assert query["state"] == flow["state"]
    info = json.loads(base64.urlsafe_b64decode(query["client_info"] + "=="))
    assert info == {"uid": account.oid, "utid": account.tid}
    assert "access_token" in app.acquire_token_by_auth_code_flow(flow, query)


def test_reused_code_rejected(identity: FakeIdentityPlatform, ssl_context: ssl.SSLContext) -> None:
    identity.sign_in_as = work_account()
    app = make_app(identity)
    flow, params = sign_in(app, ssl_context)
    assert "access_token" in app.acquire_token_by_auth_code_flow(flow, params)

    again = app.acquire_token_by_auth_code_flow(flow, params)

    assert again["error"] == "invalid_grant"
    assert again["error_codes"] == [54005]


def test_unknown_code_rejected(identity: FakeIdentityPlatform) -> None:
    response = post_token(
        identity,
        {
            "grant_type": "authorization_code",
            "code": "fake-code-never-issued",
            "redirect_uri": REDIRECT_URI,
            "client_id": identity.client_id,
            "client_secret": identity.client_secret,
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert response.json()["error_codes"] == [70000]


def test_pkce_mismatch_rejected(
    identity: FakeIdentityPlatform, ssl_context: ssl.SSLContext
) -> None:
    identity.sign_in_as = work_account()
    app = make_app(identity)
    flow, params = sign_in(app, ssl_context)
    flow["code_verifier"] = "x" * 43  # well-formed, but not the verifier of the challenge

    result = app.acquire_token_by_auth_code_flow(flow, params)

    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [50148]
    assert identity.access_tokens == {}


def test_redirect_uri_mismatch_on_redeem(
    identity: FakeIdentityPlatform, ssl_context: ssl.SSLContext
) -> None:
    identity.sign_in_as = work_account()
    other_uri = "https://127.0.0.1/other"
    identity.redirect_uris.append(other_uri)
    app = make_app(identity)
    flow, params = sign_in(app, ssl_context)
    flow["redirect_uri"] = other_uri

    result = app.acquire_token_by_auth_code_flow(flow, params)

    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [500112]


def test_unregistered_redirect_gets_error_page(
    identity: FakeIdentityPlatform, ssl_context: ssl.SSLContext
) -> None:
    identity.sign_in_as = work_account()
    app = make_app(identity)
    flow = app.initiate_auth_code_flow(
        SCOPES, redirect_uri="https://127.0.0.1/evil", response_mode="form_post"
    )
    reply = follow_auth_uri(flow["auth_uri"], ssl_context)

    assert reply.status == 400
    assert "AADSTS50011" in reply.page
    assert reply.params == {}
    assert identity.codes == {}


def test_missing_pkce_redirects_error(identity: FakeIdentityPlatform, http: httpx.Client) -> None:
    identity.sign_in_as = work_account()
    params = {
        "client_id": identity.client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": "openid offline_access Files.Read",
        "state": "abc",
        "nonce": "n-1",
    }
    response = http.get(f"{identity.url}/common/oauth2/v2.0/authorize", params=params)

    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["error"] == ["invalid_request"]
    assert query["state"] == ["abc"]
    assert "code" not in query


def test_declined_sign_in_returns_access_denied(
    identity: FakeIdentityPlatform, ssl_context: ssl.SSLContext
) -> None:
    identity.sign_in_as = work_account()
    identity.decline_next = True
    app = make_app(identity)
    flow, params = sign_in(app, ssl_context)

    assert params["error"] == "access_denied"
    assert params["state"] == flow["state"]
    assert app.acquire_token_by_auth_code_flow(flow, params)["error"] == "access_denied"
    assert identity.decline_next is False


def test_silent_refresh_rotates_refresh_token(
    identity: FakeIdentityPlatform, ssl_context: ssl.SSLContext
) -> None:
    identity.access_token_lifetime = 1
    account = work_account()
    app = signed_in_app(identity, ssl_context, account)
    [first_at] = app.token_cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)
    [first_rt] = app.token_cache.search(msal.TokenCache.CredentialType.REFRESH_TOKEN)
    time.sleep(1.1)
    assert identity.account_for_access_token(first_at["secret"]) is None

    # msal refreshes any token that expires within 5 minutes.
    refreshed = app.acquire_token_silent_with_error(SCOPES, app.get_accounts()[0])

    assert refreshed is not None
    assert refreshed["token_source"] == "identity_provider"
    assert refreshed["access_token"] != first_at["secret"]
    assert identity.account_for_access_token(refreshed["access_token"]) == account
    assert identity.token_requests["refresh_token"] == 1
    [second_rt] = app.token_cache.search(msal.TokenCache.CredentialType.REFRESH_TOKEN)
    assert second_rt["secret"] != first_rt["secret"]

    reused = post_token(
        identity,
        {
            "grant_type": "refresh_token",
            "refresh_token": first_rt["secret"],
            "client_id": identity.client_id,
            "client_secret": identity.client_secret,
        },
    )
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"

    again = app.acquire_token_silent_with_error(SCOPES, app.get_accounts()[0])
    assert again is not None
    assert "access_token" in again, again


def test_rotation_grace_allows_old_token(identity: FakeIdentityPlatform) -> None:
    identity.rotation_grace = 60
    tokens = identity.issue_tokens(work_account())
    form = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": identity.client_id,
        "client_secret": identity.client_secret,
    }
    assert post_token(identity, form).status_code == 200
    assert post_token(identity, form).status_code == 200


def test_revoked_account_gets_invalid_grant(
    identity: FakeIdentityPlatform, ssl_context: ssl.SSLContext
) -> None:
    identity.access_token_lifetime = 1
    account = work_account()
    app = signed_in_app(identity, ssl_context, account)
    identity.revoke(account)

    result = app.acquire_token_silent_with_error(SCOPES, app.get_accounts()[0])

    assert result is not None
    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [50173]


def test_wrong_client_secret_is_invalid_client(
    identity: FakeIdentityPlatform, ssl_context: ssl.SSLContext
) -> None:
    identity.sign_in_as = work_account()
    app = make_app(identity, secret="fake-secret~wrong")
    flow, params = sign_in(app, ssl_context)

    result = app.acquire_token_by_auth_code_flow(flow, params)

    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000215]


def test_basic_client_authentication(identity: FakeIdentityPlatform) -> None:
    tokens = identity.issue_tokens(work_account())
    response = post_token(
        identity,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(identity.client_id, identity.client_secret),
    )
    assert response.status_code == 200
    assert response.json()["refresh_token"].startswith("fake-rt-")

    bad = post_token(
        identity,
        {"grant_type": "refresh_token", "refresh_token": response.json()["refresh_token"]},
        auth=(identity.client_id, "fake-secret~wrong"),
    )
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_client"


def test_fail_next_token_reaches_msal(
    identity: FakeIdentityPlatform, ssl_context: ssl.SSLContext
) -> None:
    identity.access_token_lifetime = 1
    app = signed_in_app(identity, ssl_context, work_account())
    identity.fail_next_token(400, grant_type="refresh_token")

    result = app.acquire_token_silent_with_error(SCOPES, app.get_accounts()[0])

    assert result is not None
    assert result["error"] == "interaction_required"
    assert result["error_codes"] == [50076]
    assert len(identity.token_faults) == 0


def test_issued_secrets_lists_every_token(identity: FakeIdentityPlatform) -> None:
    tokens = identity.issue_tokens(work_account())
    secrets = identity.issued_secrets()

    assert tokens["access_token"] in secrets
    assert tokens["refresh_token"] in secrets
    assert tokens["id_token"] in secrets
    assert identity.client_secret in secrets
    claims = decode_jwt_claims(tokens["id_token"])
    assert "nonce" not in claims


def test_refresh_token_needs_offline_access(
    identity: FakeIdentityPlatform,
) -> None:
    tokens = identity.issue_tokens(work_account(), ("Files.Read",))
    assert "refresh_token" not in tokens
    assert "id_token" not in tokens
    assert tokens["scope"] == "Files.Read"
