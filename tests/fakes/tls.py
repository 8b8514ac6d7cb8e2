"""Test certificate authority for the fake HTTPS servers."""

from __future__ import annotations

import shutil
import ssl
import tempfile
from pathlib import Path
from types import TracebackType

import trustme

SERVER_IDENTITIES = ("127.0.0.1", "localhost")


class TestCA:
    """A throwaway CA and one server certificate for 127.0.0.1 and localhost.

    The CA certificate is written to ``ca_path`` so that the app under test can be
    given ``SSL_CERT_FILE`` / ``REQUESTS_CA_BUNDLE``. The server certificate and its
    key are written next to it for uvicorn. ``close()`` deletes the files.
    """

    __test__ = False  # pytest must not collect this class although its name starts with Test

    def __init__(self, directory: Path | None = None) -> None:
        self._owns_directory = directory is None
        self.directory = (
            Path(tempfile.mkdtemp(prefix="fake-ca-")) if directory is None else directory
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        self._ca = trustme.CA()
        self._server_cert = self._ca.issue_cert(*SERVER_IDENTITIES)

        self.ca_path = self.directory / "ca.pem"
        self.cert_path = self.directory / "server-cert.pem"
        self.key_path = self.directory / "server-key.pem"
        self._ca.cert_pem.write_to_path(str(self.ca_path))
        self._server_cert.private_key_pem.write_to_path(str(self.key_path))
        self._server_cert.cert_chain_pems[0].write_to_path(str(self.cert_path))
        for extra in self._server_cert.cert_chain_pems[1:]:
            extra.write_to_path(str(self.cert_path), append=True)

    def client_ssl_context(self) -> ssl.SSLContext:
        """Return a client context that trusts only this CA."""
        return ssl.create_default_context(cafile=str(self.ca_path))

    def server_ssl_context(self) -> ssl.SSLContext:
        """Return a server context with the certificate for 127.0.0.1 and localhost."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(self.cert_path), str(self.key_path))
        return context

    def env(self) -> dict[str, str]:
        """Return the environment variables that make Python HTTP clients trust this CA."""
        return {"SSL_CERT_FILE": str(self.ca_path), "REQUESTS_CA_BUNDLE": str(self.ca_path)}

    def close(self) -> None:
        """Delete the certificate files if this object created their directory."""
        if self._owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> TestCA:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
