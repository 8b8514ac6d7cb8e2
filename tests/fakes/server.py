"""Run an ASGI app with uvicorn on 127.0.0.1 in a background thread."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from types import TracebackType
from typing import Self

import uvicorn
from starlette.types import ASGIApp

from tests.fakes.tls import TestCA

logger = logging.getLogger(__name__)

LOOPBACK_HOST = "127.0.0.1"


class _TestServer(uvicorn.Server):
    """A uvicorn server that reacts to ``should_exit`` within 10 ms and stops at once.

    Stock uvicorn polls ``should_exit`` every 100 ms and then waits for open
    connections, so a client holding an idle TLS connection would delay every stop()
    by the whole graceful shutdown timeout. This server drops open connections and
    cancels running requests instead.
    """

    async def main_loop(self) -> None:
        polls = 0
        should_exit = await self.on_tick(0)
        while not should_exit and not self.should_exit:
            await asyncio.sleep(0.01)
            polls += 1
            if polls % 10 == 0:
                # on_tick counts in steps of 100 ms and refreshes the Date header.
                should_exit = await self.on_tick(polls // 10 % 864000)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        for task in list(self.server_state.tasks):
            task.cancel()
        for server in self.servers:
            await server.wait_closed()


class ServerThread:
    """One uvicorn server on 127.0.0.1 with an ephemeral port, served from a daemon thread.

    The socket is bound in the constructor, so ``url`` and ``port`` are known before
    ``start()``. With a ``ca`` the server speaks HTTPS with the CA's server certificate,
    without one it speaks plain HTTP.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        ca: TestCA | None = None,
        name: str = "fake",
        startup_timeout: float = 10.0,
        shutdown_timeout: float = 10.0,
    ) -> None:
        self.name = name
        self._startup_timeout = startup_timeout
        self._shutdown_timeout = shutdown_timeout
        # With the protocol given, asyncio sets TCP_NODELAY on accepted connections; without
        # it, Nagle's algorithm holds each response until the client's delayed ACK (~40 ms).
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.bind((LOOPBACK_HOST, 0))
        self.port: int = self._socket.getsockname()[1]
        scheme = "https" if ca is not None else "http"
        self.url = f"{scheme}://{LOOPBACK_HOST}:{self.port}"
        config = uvicorn.Config(
            app,
            host=LOOPBACK_HOST,
            port=self.port,
            http="h11",
            ws="none",
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
            server_header=False,
            ssl_certfile=str(ca.cert_path) if ca is not None else None,
            ssl_keyfile=str(ca.key_path) if ca is not None else None,
        )
        self._server = _TestServer(config)
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start serving and wait until uvicorn accepts connections.

        Raises RuntimeError when the server was already started or did not come up
        within ``startup_timeout`` seconds.
        """
        if self._thread is not None:
            raise RuntimeError(f"server {self.name} at {self.url} was already started")
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"{self.name}-server",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"server {self.name} at {self.url} exited during startup")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"server {self.name} at {self.url} did not start within "
                    f"{self._startup_timeout} s"
                )
            time.sleep(0.01)
        logger.info("started fake server %s at %s", self.name, self.url)

    def stop(self) -> None:
        """Stop serving, wait for the thread to end and close the socket.

        Open connections are dropped, even in the middle of a response. Calling stop()
        twice is harmless.
        """
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._server.should_exit = True
            thread.join(self._shutdown_timeout)
            if thread.is_alive():
                self._server.force_exit = True
                thread.join(self._shutdown_timeout)
            if thread.is_alive():
                logger.error("fake server %s at %s did not stop", self.name, self.url)
            else:
                logger.info("stopped fake server %s at %s", self.name, self.url)
        self._socket.close()


class FakeServer:
    """Base class of a fake service that owns one ServerThread.

    Subclasses build their Starlette app and pass it to ``__init__``. ``start()``
    returns the fake itself, and the fake is also a context manager.
    """

    def __init__(self, app: ASGIApp, *, ca: TestCA | None, name: str) -> None:
        self.ca = ca
        self._server = ServerThread(app, ca=ca, name=name)

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, for example ``https://127.0.0.1:54321``."""
        return self._server.url

    @property
    def port(self) -> int:
        return self._server.port

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
