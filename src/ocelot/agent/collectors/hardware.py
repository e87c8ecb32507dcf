"""HARDWARE: the computer itself (name, OS, memory, swap, addresses, virtualisation).

Collected last: PROCESSORT/PROCESSORN/PROCESSORS sum up CPUS, IPADDR and DEFAULTGATEWAY
come from the NETWORKS row of the default route, USERID joins USERS with "/".
Spellings as in the Unix agent's sample: NAME is the short host name, OSNAME
"Debian GNU/Linux 12", OSVERSION "12", OSCOMMENTS the pretty name, MEMORY and SWAP in MB,
DESCRIPTION ``<arch>/<uptime>`` with the uptime written as the Unix agent writes it
(years-months-days hours:minutes:seconds, from gmtime).
"""

from __future__ import annotations

import time

from ocelot.agent.collectors.memories import meminfo_kib
from ocelot.agent.host import Host

SECTION = "HARDWARE"

# systemd-detect-virt names -> the names OCS shows for VMSYSTEM.
_VIRT = {
    "none": "Physical",
    "kvm": "KVM",
    "qemu": "QEMU",
    "vmware": "VMware",
    "oracle": "VirtualBox",
    "xen": "Xen",
    "microsoft": "Hyper-V",
    "parallels": "Parallels",
    "bochs": "Bochs",
    "docker": "Docker",
    "podman": "Podman",
    "lxc": "LXC",
    "openvz": "OpenVZ",
    "systemd-nspawn": "systemd-nspawn",
    "wsl": "WSL",
}


def os_release(host: Host) -> dict[str, str]:
    text = host.read_text("/etc/os-release") or host.read_text("/usr/lib/os-release") or ""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip("\"'")
    return values


def short_hostname(host: Host) -> str:
    return host.hostname().split(".")[0]


def uptime_text(seconds: float) -> str:
    moment = time.gmtime(int(seconds))
    return (
        f"{moment.tm_year - 1970:02d}-{moment.tm_mon - 1:02d}-{moment.tm_mday - 1:02d} "
        f"{moment.tm_hour:02d}:{moment.tm_min:02d}:{moment.tm_sec:02d}"
    )


def _nameserver(host: Host) -> str:
    for line in (host.read_text("/etc/resolv.conf") or "").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver":
            return parts[1]
    return ""


def _workgroup(host: Host) -> str:
    name = host.hostname()
    if "." in name:
        return name.split(".", 1)[1]
    domain = host.read_value("/proc/sys/kernel/domainname")
    if domain and domain != "(none)":
        return domain
    for line in (host.read_text("/etc/resolv.conf") or "").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("domain", "search"):
            return parts[1]
    return "WORKGROUP"  # what the Unix agent sends without a domain (samples/unix-agent-inventory.xml)


def collect(host: Host, found: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    release = os_release(host)
    name = " ".join(filter(None, [release.get("NAME", ""), release.get("VERSION_ID", "")]))
    arch = (host.output(["uname", "-m"]) or "").strip()
    uptime = (host.read_text("/proc/uptime") or "").split()
    cpus = found.get("CPUS", [])
    gateway_rows = [
        row for row in found.get("NETWORKS", []) if row.get("IPGATEWAY") and "." in row.get("IPADDRESS", "")
    ]
    first_ipv4 = [row for row in found.get("NETWORKS", []) if "." in row.get("IPADDRESS", "")]
    main = (gateway_rows or first_ipv4 or [{}])[0]
    users = [row["LOGIN"] for row in found.get("USERS", [])]
    # systemd-detect-virt prints "none" and exits 1 on bare metal: its output counts either way.
    detected = host.run(["systemd-detect-virt"])
    virt = detected.stdout.strip() if detected is not None else ""
    return [
        {
            "NAME": short_hostname(host),
            "WORKGROUP": _workgroup(host),
            "USERID": "/".join(users),
            "OSNAME": name or "Linux",
            "OSVERSION": release.get("VERSION_ID", ""),
            "OSCOMMENTS": release.get("PRETTY_NAME", ""),
            "PROCESSORT": cpus[0].get("TYPE", "") if cpus else "",
            "PROCESSORS": cpus[0].get("SPEED", "") if cpus else "",
            "PROCESSORN": str(len(cpus)) if cpus else "",
            "MEMORY": str(meminfo_kib(host, "MemTotal") // 1024),
            "SWAP": str(meminfo_kib(host, "SwapTotal") // 1024),
            "IPADDR": main.get("IPADDRESS", ""),
            "DNS": _nameserver(host),
            "DEFAULTGATEWAY": main.get("IPGATEWAY", ""),
            "DESCRIPTION": f"{arch}/{uptime_text(float(uptime[0]))}" if uptime else arch,
            "UUID": host.read_value("/sys/class/dmi/id/product_uuid"),
            "LASTLOGGEDUSER": users[-1] if users else "",
            "DATELASTLOGGEDUSER": "",
            "VMSYSTEM": _VIRT.get(virt, virt),
        }
    ]
