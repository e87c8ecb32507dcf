"""PRINTERS: CUPS queues from ``lpstat -v`` (NAME, PORT = the device URI) and ``lpstat -l -p``.

Only when CUPS' client tools are installed; ``lpstat -l -p`` adds the description and the
driver (the "Interface" line, the PPD). Their output format is CUPS' documented one
(lpstat(1)); LC_ALL=C keeps it in English.
"""

from __future__ import annotations

import re

from ocelot.agent.host import Host

SECTION = "PRINTERS"

_DEVICE = re.compile(r"^device for (\S+):\s*(.*)$")
_PRINTER = re.compile(r"^printer (\S+) ")


def parse_details(text: str) -> dict[str, dict[str, str]]:
    details: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        match = _PRINTER.match(line)
        if match:
            current = details.setdefault(match.group(1), {})
            continue
        key, sep, value = line.strip().partition(":")
        if current is not None and sep:
            current.setdefault(key.strip(), value.strip())
    return details


def collect(host: Host, found: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    devices = host.output(["lpstat", "-v"])
    if devices is None:
        return []
    details = parse_details(host.output(["lpstat", "-l", "-p"]) or "")
    rows = []
    for line in devices.splitlines():
        match = _DEVICE.match(line.strip())
        if match is None:
            continue
        name, uri = match.groups()
        info = details.get(name, {})
        rows.append(
            {
                "DESCRIPTION": info.get("Description", ""),
                "DRIVER": info.get("Interface", ""),
                "NAME": name,
                "PORT": uri,
            }
        )
    return rows
