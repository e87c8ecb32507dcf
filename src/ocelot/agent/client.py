"""The conversation with the server: one POST per message, zlib both ways (protocol.md §1).

Headers as the Unix agent sends them (``Content-Type: application/x-compress``,
``Pragma: no-cache``) with our own User-Agent, ``Ocelot-Agent_v<version>``: Ocelot's gate
admits it (protocol/useragent.py), and OCS 2.8.1 cuts a foreign version to ``d.d`` and
admits it when it is at most 2.8 (protocol.md §1.7), which ``0.x`` is.
"""

from __future__ import annotations

import http.client
import importlib.metadata
import logging
import ssl
import zlib
from pathlib import Path
from urllib.parse import urlsplit

from ocelot.protocol.codec import decode_body
from ocelot.protocol.errors import ProtocolError
from ocelot.protocol.xmltree import Node, parse_xml

log = logging.getLogger(__name__)


def _version() -> str:
    try:
        return importlib.metadata.version("ocelot-inventory")
    except importlib.metadata.PackageNotFoundError:
        return "0.1.0"


VERSION = _version()
USER_AGENT = f"Ocelot-Agent_v{VERSION}"
DEFAULT_TIMEOUT = 180.0


class ServerError(Exception):
    """The server could not be reached or did not answer with a usable reply."""


def server_url(value: str) -> str:
    """A full URL: a bare host becomes ``http://<host>/ocsinventory`` (protocol.md §1.1)."""
    if value.startswith(("http://", "https://")):
        return value
    return f"http://{value.rstrip('/')}/ocsinventory"


def tls_context(*, verify: bool, ca_file: Path | None) -> ssl.SSLContext:
    """``--ssl 1`` checks the certificate and host name (against ``--ca`` when given)."""
    if not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


class Client:
    """Posts XML documents to one server URL and returns the parsed replies."""

    def __init__(
        self,
        url: str,
        *,
        verify: bool = True,
        ca_file: Path | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.url = server_url(url)
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ServerError(f"not a server URL: {url}")
        self._parts = parts
        self._path = (parts.path or "/ocsinventory") + (f"?{parts.query}" if parts.query else "")
        self._timeout = timeout
        self._user_agent = user_agent
        self._context = tls_context(verify=verify, ca_file=ca_file) if parts.scheme == "https" else None
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            host, port = self._parts.hostname or "", self._parts.port
            if self._context is not None:
                self._connection = http.client.HTTPSConnection(
                    host, port, timeout=self._timeout, context=self._context
                )
            else:
                self._connection = http.client.HTTPConnection(host, port, timeout=self._timeout)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def post(self, document: bytes) -> Node | None:
        """POST one document; the parsed reply, or None for an empty 200 (DOWNLOAD results)."""
        body = zlib.compress(document)
        headers = {
            "User-Agent": self._user_agent,
            "Content-Type": "application/x-compress",
            "Pragma": "no-cache",
        }
        for attempt in (1, 2):
            connection = self._connect()
            try:
                connection.request("POST", self._path, body=body, headers=headers)
                response = connection.getresponse()
                reply = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                # A kept-alive connection the server closed meanwhile: one fresh attempt.
                self.close()
                if attempt == 2:
                    raise ServerError(f"cannot reach {self.url}: {exc}") from exc
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise ServerError(f"cannot reach {self.url}: {exc}") from exc
        if response.will_close:
            self.close()
        if not 200 <= response.status < 300:
            raise ServerError(f"cannot establish communication: {response.status} {response.reason}")
        if not reply:
            return None
        try:
            xml, _framing = decode_body(reply, try_others=True)
            return parse_xml(xml)
        except ProtocolError as exc:
            raise ServerError(f"unusable reply from {self.url}: {exc}") from exc
