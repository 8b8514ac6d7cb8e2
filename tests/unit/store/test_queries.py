from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import Engine

from bot.store import db
from bot.store.models import utcnow
from bot.store.queries import ConnectionUpdate, SlackUser, Store

ALICE = SlackUser(team_id="T1", user_id="U1")
BOB = SlackUser(team_id="T1", user_id="U2")


async def _connect(store: Store, owner: SlackUser, cache: str = "enc-cache") -> int:
    connection = await store.save_connection(
        owner,
        home_account_id="oid.tid",
        username="a@contoso.com",
        tenant_id="tid",
        token_cache=cache,
    )
    assert connection.id is not None
    return connection.id


async def test_connection_per_slack_user(engine: Engine) -> None:
    store = Store(engine)
    await _connect(store, ALICE)
    assert await store.get_connection(BOB) is None
    found = await store.get_connection(ALICE)
    assert found is not None
    assert found.username == "a@contoso.com"


async def test_save_connection_replaces_account(engine: Engine) -> None:
    store = Store(engine)
    first = await _connect(store, ALICE)
    second = await _connect(store, ALICE, cache="other")
    assert first == second
    found = await store.get_connection(ALICE)
    assert found is not None
    assert found.token_cache == "other"
    assert found.cache_version == 2


async def test_locked_update_saves_cache(engine: Engine) -> None:
    store = Store(engine)
    await _connect(store, ALICE)
    update = await store.update_connection_locked(
        ALICE, lambda connection: ConnectionUpdate(connection.cache_version, token_cache="new")
    )
    assert update is not None
    assert update.value == 1
    found = await store.get_connection(ALICE)
    assert found is not None
    assert found.token_cache == "new"
    assert found.cache_version == 2


async def test_locked_update_can_delete(engine: Engine) -> None:
    store = Store(engine)
    await _connect(store, ALICE)
    await store.update_connection_locked(ALICE, lambda c: ConnectionUpdate(None, delete=True))
    assert await store.get_connection(ALICE) is None
    assert await store.update_connection_locked(ALICE, lambda c: ConnectionUpdate(None)) is None


async def test_delete_team_keeps_other_teams(engine: Engine) -> None:
    store = Store(engine)
    other = SlackUser(team_id="T2", user_id="U1")
    await _connect(store, ALICE)
    await _connect(store, other)
    await store.create_consent_request(ALICE, "digest-t", utcnow() + timedelta(minutes=10))
    assert await store.delete_team("T1") == 2
    assert await store.get_connection(ALICE) is None
    assert await store.get_connection(other) is not None


async def test_delete_connection_only_owner(engine: Engine) -> None:
    store = Store(engine)
    await _connect(store, ALICE)
    await _connect(store, BOB)
    await store.create_consent_request(ALICE, "digest-d", utcnow() + timedelta(minutes=10))
    assert await store.delete_connection(ALICE)
    assert not await store.delete_connection(ALICE)
    assert await store.get_consent_request("digest-d") is None
    assert await store.get_connection(BOB) is not None


async def test_claim_consent_once_under_race(engine: Engine) -> None:
    store = Store(engine)
    await store.create_consent_request(ALICE, "digest-1", utcnow() + timedelta(minutes=10))
    results = await asyncio.gather(
        *(store.claim_consent_request("digest-1", utcnow()) for _ in range(8))
    )
    assert results.count(True) == 1


async def test_claim_expired_consent_fails(engine: Engine) -> None:
    store = Store(engine)
    await store.create_consent_request(ALICE, "digest-2", utcnow() - timedelta(seconds=1))
    assert not await store.claim_consent_request("digest-2", utcnow())


async def test_open_consent_bound_to_browser(engine: Engine) -> None:
    store = Store(engine)
    await store.create_consent_request(ALICE, "digest-3", utcnow() + timedelta(minutes=10))
    kwargs = {"state_digest": "s1", "flow": "enc", "now": utcnow()}
    assert await store.open_consent_request("digest-3", browser_digest="b1", **kwargs)
    kwargs["state_digest"] = "s2"
    assert not await store.open_consent_request("digest-3", browser_digest="b2", **kwargs)
    assert await store.open_consent_request("digest-3", browser_digest="b1", **kwargs)
    request = await store.get_consent_request_by_state("s2")
    assert request is not None
    assert await store.get_consent_request_by_state("s1") is None


async def test_purge_removes_only_expired(engine: Engine) -> None:
    store = Store(engine)
    await store.create_consent_request(ALICE, "old", utcnow() - timedelta(days=2))
    await store.create_consent_request(ALICE, "new", utcnow() + timedelta(minutes=10))
    assert await store.purge_consent_requests(utcnow() - timedelta(days=1)) == 1
    assert await store.get_consent_request("old") is None
    assert await store.get_consent_request("new") is not None


def test_schema_current_after_migrate(engine: Engine) -> None:
    assert db.schema_is_current(engine)
