"""Local import: inventory files written by agents in local mode (protocol.md §13).

The console's upload and ``ocelot import`` both come here, and from here through the same
decoding and storing path as the agent endpoint. ``.ocs`` files may be zlib-compressed
(Windows agent) or plain XML (Unix agent); ``.xml`` files are plain.
"""

from __future__ import annotations

from ocelot.inventory.ingest import IngestError, store_inventory
from ocelot.protocol.codec import decode_body
from ocelot.protocol.errors import ProtocolError
from ocelot.protocol.limits import DEFAULT_LIMITS
from ocelot.protocol.messages import Inventory, read_message

USER_AGENT = "Ocelot-Import"


def import_inventory(data: bytes) -> str:
    """Store one inventory file's content; returns its DEVICEID.

    Raises ProtocolError or IngestError with a one-line reason.
    """
    if len(data) > DEFAULT_LIMITS.max_body:
        raise ProtocolError("body_too_large", "the file exceeds the size limit")
    xml, _framing = decode_body(data, try_others=True)
    message = read_message(xml)
    if not isinstance(message, Inventory):
        raise ProtocolError("not_inventory", "the file is not an inventory (QUERY=INVENTORY)")
    store_inventory(message, source_ip="", user_agent=USER_AGENT, imported=True)
    return message.device_id


__all__ = ["IngestError", "ProtocolError", "import_inventory"]
