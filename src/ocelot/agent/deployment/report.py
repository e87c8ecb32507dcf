"""Sending results: one ``QUERY=DOWNLOAD`` POST per package (protocol.md §7).

Like the Unix agent: DEVICEID, ERR, ID and QUERY as attributes of REQUEST, no XML
declaration. OCS answers 200 with an empty body whatever it did with the result; any
2xx counts as accepted, anything else leaves the result pending for the next run.
"""

from __future__ import annotations

import logging
from typing import Protocol

from ocelot.agent.client import ServerError
from ocelot.protocol.xmltree import Node, serialize

log = logging.getLogger(__name__)


class Poster(Protocol):
    def post(self, document: bytes) -> Node | None: ...


def result_document(device_id: str, package_id: str, code: str) -> bytes:
    node = Node("REQUEST", attrib={"DEVICEID": device_id, "ERR": code, "ID": package_id, "QUERY": "DOWNLOAD"})
    return serialize(node).encode("utf-8")


def send_result(poster: Poster, device_id: str, package_id: str, code: str) -> bool:
    """True when the server accepted the result."""
    try:
        poster.post(result_document(device_id, package_id, code))
    except ServerError as exc:
        log.warning("result %s for package %s not delivered (retried later): %s", code, package_id, exc)
        return False
    log.info("package %s: reported %s", package_id, code)
    return True
