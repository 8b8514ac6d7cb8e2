"""The queries the app makes, each run in a worker thread off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import Engine, delete, update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.store.models import Connection, ConsentRequest, utcnow

T = TypeVar("T")


@dataclass
class ConnectionUpdate(Generic[T]):
    """The decision of a locked unit of work: its result, and a new cache or a deletion."""

    value: T
    token_cache: str | None = None
    delete: bool = False


@dataclass(frozen=True)
class SlackUser:
    """The Slack identity that owns a connection or a consent request.

    `user_name` is for display only and takes no part in comparisons.
    """

    team_id: str
    user_id: str
    enterprise_id: str = ""
    user_name: str = field(default="", compare=False)


class Store:
    """Reads and writes connections and consent requests.

    Every public method is a coroutine that runs one short transaction in a worker thread.
    Returned rows are detached copies.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Single reads need no transaction: autocommit saves the BEGIN and COMMIT round trips.
        self._read_engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def _read(self, work: Callable[[Session], T]) -> T:
        def in_thread() -> T:
            with Session(self._read_engine, expire_on_commit=False) as session:
                return work(session)

        return await asyncio.to_thread(in_thread)

    async def _run(self, work: Callable[[Session], T]) -> T:
        def in_thread() -> T:
            with Session(self.engine, expire_on_commit=False) as session:
                result = work(session)
                session.commit()
                return result

        return await asyncio.to_thread(in_thread)

    # connections

    async def get_connection(self, owner: SlackUser) -> Connection | None:
        return await self._read(lambda session: _find_connection(session, owner))

    async def save_connection(
        self,
        owner: SlackUser,
        *,
        home_account_id: str,
        username: str,
        tenant_id: str,
        token_cache: str,
    ) -> Connection:
        """Create or replace the owner's connection with a freshly signed-in account."""

        def work(session: Session) -> Connection:
            connection = _find_connection(session, owner)
            now = utcnow()
            if connection is None:
                connection = Connection(
                    enterprise_id=owner.enterprise_id,
                    team_id=owner.team_id,
                    user_id=owner.user_id,
                    home_account_id=home_account_id,
                    username=username,
                    tenant_id=tenant_id,
                    token_cache=token_cache,
                    created_at=now,
                    updated_at=now,
                )
            else:
                connection.home_account_id = home_account_id
                connection.username = username
                connection.tenant_id = tenant_id
                connection.token_cache = token_cache
                connection.cache_version += 1
                connection.updated_at = now
            session.add(connection)
            session.flush()
            return connection

        return await self._run(work)

    async def update_connection_locked(
        self, owner: SlackUser, work: Callable[[Connection], ConnectionUpdate[T]]
    ) -> ConnectionUpdate[T] | None:
        """Run blocking `work` on the owner's connection while holding its row lock.

        On PostgreSQL the row stays locked (SELECT ... FOR UPDATE) until the update commits,
        so a refresh in another process waits and then sees the rotated refresh token.
        SQLite serves one process, where the token provider's own lock does the same.
        Returns None when the owner has no connection.
        """

        def in_session(session: Session) -> ConnectionUpdate[T] | None:
            connection = session.exec(_connection_query(owner).with_for_update()).first()
            if connection is None:
                return None
            update = work(connection)
            if update.delete:
                session.delete(connection)
            elif update.token_cache is not None:
                connection.token_cache = update.token_cache
                connection.cache_version += 1
                connection.updated_at = utcnow()
                session.add(connection)
            return update

        return await self._run(in_session)

    async def delete_connection(self, owner: SlackUser) -> bool:
        """Delete the owner's connection and pending consent requests; True if one existed."""

        def work(session: Session) -> bool:
            session.exec(
                delete(ConsentRequest)
                .where(col(ConsentRequest.enterprise_id) == owner.enterprise_id)
                .where(col(ConsentRequest.team_id) == owner.team_id)
                .where(col(ConsentRequest.user_id) == owner.user_id)
            )
            result = session.exec(
                delete(Connection)
                .where(col(Connection.enterprise_id) == owner.enterprise_id)
                .where(col(Connection.team_id) == owner.team_id)
                .where(col(Connection.user_id) == owner.user_id)
            )
            return bool(result.rowcount)

        return await self._run(work)

    async def delete_team(self, team_id: str, enterprise_id: str = "") -> int:
        """Delete every connection and consent request of a workspace; return the count."""

        def work(session: Session) -> int:
            removed = 0
            for table in (Connection, ConsentRequest):
                query = delete(table).where(col(table.team_id) == team_id)
                if enterprise_id:
                    query = query.where(col(table.enterprise_id) == enterprise_id)
                removed += int(session.exec(query).rowcount)
            return removed

        return await self._run(work)

    # consent requests

    async def create_consent_request(
        self, owner: SlackUser, request_digest: str, expires_at: datetime
    ) -> ConsentRequest:
        def work(session: Session) -> ConsentRequest:
            request = ConsentRequest(
                id=request_digest,
                enterprise_id=owner.enterprise_id,
                team_id=owner.team_id,
                user_id=owner.user_id,
                user_name=owner.user_name[:80],
                expires_at=expires_at,
            )
            session.add(request)
            session.flush()
            return request

        return await self._run(work)

    async def get_consent_request(self, request_digest: str) -> ConsentRequest | None:
        return await self._read(lambda session: session.get(ConsentRequest, request_digest))

    async def get_consent_request_by_state(self, state_digest: str) -> ConsentRequest | None:
        def work(session: Session) -> ConsentRequest | None:
            query = select(ConsentRequest).where(ConsentRequest.state_digest == state_digest)
            return session.exec(query).first()

        return await self._read(work)

    async def open_consent_request(
        self,
        request_digest: str,
        *,
        state_digest: str,
        browser_digest: str,
        flow: str,
        now: datetime,
    ) -> bool:
        """Attach a new auth code flow to a live, unused request; False if it is not."""

        def work(session: Session) -> bool:
            result = session.exec(
                update(ConsentRequest)
                .where(col(ConsentRequest.id) == request_digest)
                .where(col(ConsentRequest.used_at).is_(None))
                .where(col(ConsentRequest.expires_at) > now)
                .where(
                    (col(ConsentRequest.browser_digest).is_(None))
                    | (col(ConsentRequest.browser_digest) == browser_digest)
                )
                .values(
                    opened_at=now,
                    state_digest=state_digest,
                    browser_digest=browser_digest,
                    flow=flow,
                )
            )
            return bool(result.rowcount == 1)

        return await self._run(work)

    async def claim_consent_request(self, request_digest: str, now: datetime) -> bool:
        """Mark a live request used; exactly one of several concurrent callers gets True."""

        def work(session: Session) -> bool:
            result = session.exec(
                update(ConsentRequest)
                .where(col(ConsentRequest.id) == request_digest)
                .where(col(ConsentRequest.used_at).is_(None))
                .where(col(ConsentRequest.expires_at) > now)
                .values(used_at=now, flow=None)
            )
            return bool(result.rowcount == 1)

        return await self._run(work)

    async def purge_consent_requests(self, before: datetime) -> int:
        """Delete consent requests that expired before the given time."""

        def work(session: Session) -> int:
            result = session.exec(
                delete(ConsentRequest).where(col(ConsentRequest.expires_at) < before)
            )
            return int(result.rowcount)

        return await self._run(work)


def _connection_query(owner: SlackUser) -> SelectOfScalar[Connection]:
    return (
        select(Connection)
        .where(Connection.enterprise_id == owner.enterprise_id)
        .where(Connection.team_id == owner.team_id)
        .where(Connection.user_id == owner.user_id)
    )


def _find_connection(session: Session, owner: SlackUser) -> Connection | None:
    return session.exec(_connection_query(owner)).first()
