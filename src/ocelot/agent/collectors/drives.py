"""DRIVES: mounted filesystems from ``df -P -T -k`` (device, type, mount point, sizes in MB).

Only filesystems that hold data: the pseudo and memory filesystems (proc, sysfs, tmpfs,
overlay, ...) are skipped, as the Unix agent does (its sample lists only ``/``). TYPE is
the mount point and VOLUMN the device, the Unix agent's spelling (protocol.md §5.2); LABEL
and SERIAL are the filesystem's label and UUID (``lsblk -J``).
"""

from __future__ import annotations

import json

from ocelot.agent.host import Host

SECTION = "DRIVES"

_SKIPPED = frozenset(
    {
        "autofs",
        "binfmt_misc",
        "bpf",
        "cgroup",
        "cgroup2",
        "configfs",
        "debugfs",
        "devpts",
        "devtmpfs",
        "efivarfs",
        "fusectl",
        "hugetlbfs",
        "mqueue",
        "nsfs",
        "overlay",
        "proc",
        "pstore",
        "ramfs",
        "securityfs",
        "squashfs",
        "sysfs",
        "tmpfs",
        "tracefs",
        "rpc_pipefs",
        "fuse.portal",
        "fuse.gvfsd-fuse",
    }
)


def parse_df(text: str) -> list[tuple[str, str, int, int, str]]:
    """(device, type, total KiB, available KiB, mount point) per line of ``df -P -T -k``."""
    entries = []
    for line in text.splitlines()[1:]:
        parts = line.split(None, 6)
        if len(parts) < 7 or not parts[2].isdigit() or not parts[4].isdigit():
            continue
        entries.append((parts[0], parts[1], int(parts[2]), int(parts[4]), parts[6]))
    return entries


LSBLK = ["lsblk", "-J", "-o", "PATH,LABEL,UUID"]


def labels(host: Host) -> dict[str, tuple[str, str]]:
    """Device path -> (filesystem label, filesystem UUID), from lsblk's JSON (util-linux)."""
    try:
        tree = json.loads(host.output(LSBLK) or "{}")
    except ValueError:
        return {}
    found: dict[str, tuple[str, str]] = {}
    pending = list(tree.get("blockdevices") or []) if isinstance(tree, dict) else []
    while pending:
        device = pending.pop()
        if not isinstance(device, dict):
            continue
        pending.extend(device.get("children") or [])
        if device.get("path"):
            found[str(device["path"])] = (str(device.get("label") or ""), str(device.get("uuid") or ""))
    return found


def collect(host: Host, found: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    rows = []
    seen: set[str] = set()
    named = labels(host)
    for device, fstype, total, available, mount in parse_df(host.output(["df", "-P", "-T", "-k"]) or ""):
        if fstype in _SKIPPED or total == 0 or mount in seen:
            continue
        seen.add(mount)
        label, uuid = named.get(device, ("", ""))
        rows.append(
            {
                "FILESYSTEM": fstype,
                "LABEL": label,
                "SERIAL": uuid,
                "FREE": str(available // 1024),
                "TOTAL": str(total // 1024),
                "TYPE": mount,
                "VOLUMN": device,
            }
        )
    return rows
