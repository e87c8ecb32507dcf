"""MONITORS: connected screens from their EDID in /sys/class/drm/<card>-<output>/edid.

EDID 1.3/1.4 (VESA E-EDID, section 3): bytes 8-9 hold the three-letter maker code, 12-15 a
numeric serial, and the 18-byte descriptors at 54, 72, 90 and 108 may hold the model name
(tag 0xFC) and a serial string (0xFF). BASE64 carries the whole EDID, as the Unix agent
sends it, so the server can decode it again.
"""

from __future__ import annotations

import base64

from ocelot.agent.host import Host

SECTION = "MONITORS"


def maker_code(edid: bytes) -> str:
    word = edid[8] << 8 | edid[9]
    return "".join(chr(((word >> shift) & 0x1F) + 64) for shift in (10, 5, 0))


def descriptor(edid: bytes, tag: int) -> str:
    for offset in (54, 72, 90, 108):
        block = edid[offset : offset + 18]
        if len(block) == 18 and block[:3] == b"\x00\x00\x00" and block[3] == tag:
            return block[5:18].split(b"\n")[0].decode("ascii", errors="replace").strip()
    return ""


def parse_edid(edid: bytes) -> dict[str, str] | None:
    if len(edid) < 128 or edid[:8] != b"\x00\xff\xff\xff\xff\xff\xff\x00":
        return None
    serial_number = int.from_bytes(edid[12:16], "little")
    model = descriptor(edid, 0xFC)
    week, year = edid[16], edid[17] + 1990
    return {
        "BASE64": base64.b64encode(edid).decode("ascii"),
        "CAPTION": model,
        "DESCRIPTION": f"{week}/{year}" if week and week <= 54 else str(year),
        "MANUFACTURER": maker_code(edid),
        "SERIAL": descriptor(edid, 0xFF) or (str(serial_number) if serial_number else ""),
    }


def collect(host: Host, found: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    rows = []
    for output in host.list_dir("/sys/class/drm"):
        if "-" not in output:
            continue
        row = parse_edid(host.read_bytes(f"/sys/class/drm/{output}/edid") or b"")
        if row is not None:
            rows.append(row)
    return rows
