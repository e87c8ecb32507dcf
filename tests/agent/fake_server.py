"""A scripted OCS endpoint for the agent's client tests: records requests, answers per QUERY."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ocelot.protocol.xmltree import Node, parse_xml, to_document


@dataclass
class Exchange:
    """One request as the server saw it."""

    headers: dict[str, str]
    raw: bytes
    document: Node


@dataclass
class ScriptedServer:
    """Replies (XML bytes, or an int for an HTTP error status) per QUERY, and what came in."""

    replies: dict[str, bytes | int] = field(default_factory=dict)
    exchanges: list[Exchange] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ocsinventory"

    def queries(self) -> list[str]:
        return [exchange.document.value("QUERY") or "" for exchange in self.exchanges]

    def request(self, query: str) -> Node:
        return next(e.document for e in self.exchanges if e.document.value("QUERY") == query)


def reply(response: str, *extra: Node, **children: str) -> bytes:
    """A REPLY document: RESPONSE, then ``children`` as text elements, then ``extra`` nodes."""
    nodes = [Node("RESPONSE", text=response)] + [Node(name, text=text) for name, text in children.items()]
    return to_document(Node("REPLY", children=[*nodes, *extra]))


@contextmanager
def scripted_server(replies: dict[str, bytes | int]) -> Iterator[ScriptedServer]:
    script = ScriptedServer(replies=dict(replies))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            document = parse_xml(zlib.decompress(raw))
            script.exchanges.append(Exchange(dict(self.headers.items()), raw, document))
            answer = script.replies.get(document.value("QUERY") or "", 400)
            if isinstance(answer, int):
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = zlib.compress(answer)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-compressed")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    script.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield script
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
