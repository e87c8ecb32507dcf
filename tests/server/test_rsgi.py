"""The access log line the RSGI listener writes for each request (server/rsgi.py).

tests/communication/test_rsgi.py checks that a real server's log has these lines.
"""

from __future__ import annotations

from ocelot.server.rsgi import access_line


class Scope:
    method = "GET"
    http_version = "1.1"

    def __init__(self, path: str, client: str = "192.0.2.7:40112") -> None:
        self.path = path
        self.client = client


def test_a_line_has_the_address_request_status_and_duration() -> None:
    line = access_line(Scope("/download/7/7-1"), 206, 0.00123)
    assert line == '192.0.2.7 "GET /download/7/7-1 HTTP/1.1" 206 1.2ms\n'


def test_a_decoded_newline_in_the_path_cannot_forge_a_second_line() -> None:
    line = access_line(Scope('/x\n10.0.0.1 "GET /admin HTTP/1.1" 200 0.1ms'), 404, 0.001)
    assert line.count("\n") == 1 and line.endswith("404 1.0ms\n")
    assert "\\n10.0.0.1" in line


def test_an_ipv6_client_keeps_its_brackets_as_granian_wrote_them() -> None:
    assert access_line(Scope("/", "[::1]:5000"), 200, 0).startswith('[::1] "GET / HTTP/1.1"')
