"""Capture this machine for the collectors' tests: ``python -m tests.agent.capture DIR``.

Writes ``DIR/root/`` (the /proc, /sys and /etc files the collectors read, symbolic links
kept as links so sysfs paths resolve as on the machine) and ``DIR/commands/`` with
``DIR/commands.json`` (every command the collectors run, its output and exit status),
the layout :class:`ocelot.agent.host.CapturedHost` replays. Run it as root, so that
dmidecode and the serial numbers answer as they do for the agent.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
from pathlib import Path

from ocelot.agent.collectors import softwares, virtualmachines
from ocelot.agent.host import CapturedHost, MachineHost, command_key

COMMANDS: list[list[str]] = [
    ["lscpu"],
    ["uname", "-m"],
    ["dmidecode", "-t", "17"],
    ["dmidecode", "-t", "0", "-t", "1", "-t", "2", "-t", "3"],
    ["df", "-P", "-T", "-k"],
    ["lsblk", "-J", "-o", "PATH,LABEL,UUID"],
    ["ip", "-j", "route", "show", "default"],
    ["ip", "-j", "addr", "show"],
    softwares.DPKG_QUERY,
    softwares.DPKG_DATES,
    softwares.RPM_QUERY,
    softwares.FLATPAK_LIST,
    softwares.SNAP_LIST,
    ["lspci", "-vmmnnk"],
    ["lpstat", "-v"],
    ["lpstat", "-l", "-p"],
    ["virsh", "--readonly", "list", "--all"],
    virtualmachines.DOCKER_PS,
    ["who"],
    ["systemd-detect-virt"],
]
FILES = [
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/proc/uptime",
    "/proc/sys/kernel/domainname",
    "/etc/os-release",
    "/etc/passwd",
    "/etc/group",
    "/etc/resolv.conf",
    "/etc/apt/sources.list",
]
# Per-directory attributes: (directory whose entries are listed, attributes of each entry).
SYSFS = [
    ("/sys/class/dmi/id", None),
    (
        "/sys/block",
        [
            "size",
            "serial",
            "queue/rotational",
            "device/model",
            "device/vendor",
            "device/serial",
            "device/rev",
            "device/firmware_rev",
            "device/type",
        ],
    ),
    ("/sys/class/net", ["speed", "duplex", "operstate", "device/driver", "wireless", "phy80211", "bridge"]),
    ("/sys/class/drm", ["status", "modes", "edid"]),
    (
        "/sys/bus/usb/devices",
        ["bDeviceClass", "idVendor", "idProduct", "version", "product", "manufacturer", "serial"],
    ),
    ("/sys/class/power_supply", None),
    ("/etc/apt/sources.list.d", None),
    ("/etc/yum.repos.d", None),
]


def copy_path(machine_path: str, root: Path) -> None:
    """Copy one machine path under ``root``, recreating relative symbolic links on the way."""
    current = Path("/")
    for part in Path(machine_path).parts[1:]:
        current = current / part
        if current.is_symlink():
            target = os.readlink(current)
            destination = root / str(current).lstrip("/")
            if not target.startswith("/") and not os.path.lexists(destination):
                destination.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(target, destination)
            current = Path(os.path.realpath(current))
    destination = root / str(current).lstrip("/")
    if current.is_dir():
        destination.mkdir(parents=True, exist_ok=True)
    elif current.is_file():
        try:
            data = current.read_bytes()
        except OSError:
            return
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)


def capture(directory: Path) -> None:
    root = directory / "root"
    outputs = directory / "commands"
    outputs.mkdir(parents=True, exist_ok=True)
    host = MachineHost()
    manifest: dict[str, object] = {"hostname": socket.gethostname()}
    interfaces = sorted(os.listdir("/sys/class/net")) if os.path.isdir("/sys/class/net") else []
    per_interface = [["iw", "dev", name, "link"] for name in interfaces] + [
        ["nmcli", "-t", "-f", "DHCP4", "device", "show", name] for name in interfaces
    ]
    for argv in COMMANDS + per_interface:
        if not host.which(argv[0]):
            continue
        result = host.run(argv)
        if result is None:
            continue
        name = re.sub(r"[^A-Za-z0-9]+", "-", " ".join(argv)).strip("-")[:40] + ".out"
        (outputs / name).write_text(result.stdout, encoding="utf-8")
        manifest[command_key(argv)] = {"stdout": name, "returncode": result.returncode}
    for path in FILES:
        copy_path(path, root)
    for directory_path, attributes in SYSFS:
        base = Path(directory_path)
        if not base.is_dir():
            continue
        copy_path(directory_path, root)
        for entry in sorted(os.listdir(base)):
            copy_path(f"{directory_path}/{entry}", root)
            if not (base / entry).is_dir():
                continue
            if attributes is None:
                for name in sorted(os.listdir(base / entry)):
                    if (base / entry / name).is_file():
                        copy_path(f"{directory_path}/{entry}/{name}", root)
                continue
            for attribute in attributes:
                if os.path.lexists(base / entry / attribute):
                    copy_path(f"{directory_path}/{entry}/{attribute}", root)
    # git keeps no empty directory; the captured host ignores these markers.
    for folder, subfolders, files in os.walk(root):
        if not subfolders and not files:
            (Path(folder) / CapturedHost.KEEP).touch()
    (directory / "commands.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m tests.agent.capture DIR")
    capture(Path(sys.argv[1]))
