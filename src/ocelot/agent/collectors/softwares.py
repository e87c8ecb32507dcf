"""SOFTWARES: installed packages from dpkg and rpm, plus flatpak and snap when present.

As the Unix agent sends them (samples/unix-agent-inventory.xml): NAME (dpkg's
``binary:Package``, so multi-arch packages read ``zlib1g:amd64``), VERSION, ARCHITECTURE,
COMMENTS (the one-line summary), PUBLISHER (the homepage for dpkg, the vendor for rpm),
FILESIZE in bytes, FROM (deb, rpm, flatpak, snap) and INSTALLDATE as
``YYYY/MM/DD HH:MM:SS`` (dpkg: the time of the package's file list in /var/lib/dpkg/info).
"""

from __future__ import annotations

import re
import time

from ocelot.agent.host import Host

SECTION = "SOFTWARES"

DPKG_FORMAT = (
    "${binary:Package}\\t${Architecture}\\t${Version}\\t${Installed-Size}\\t${db:Status-Abbrev}"
    "\\t${Homepage}\\t${binary:Summary}\\n"
)
DPKG_QUERY = ["dpkg-query", "-W", f"-f={DPKG_FORMAT}"]
DPKG_DATES = ["find", "/var/lib/dpkg/info", "-maxdepth", "1", "-name", "*.list", "-printf", "%f\\t%T@\\n"]
RPM_QUERY = [
    "rpm",
    "-qa",
    "--queryformat",
    "%{NAME}\\t%{ARCH}\\t%{VERSION}-%{RELEASE}\\t%{INSTALLTIME}\\t%{SIZE}\\t%{VENDOR}\\t%{SUMMARY}\\n",
]
FLATPAK_LIST = ["flatpak", "list", "--app", "--columns=application,name,version,arch,origin"]
SNAP_LIST = ["snap", "list"]


def install_date(epoch: float) -> str:
    return time.strftime("%Y/%m/%d %H:%M:%S", time.localtime(epoch))


def _dpkg_dates(host: Host) -> dict[str, str]:
    dates = {}
    for line in (host.output(DPKG_DATES) or "").splitlines():
        name, _, stamp = line.partition("\t")
        try:
            dates[name.removesuffix(".list")] = install_date(float(stamp))
        except ValueError:
            continue
    return dates


def dpkg(host: Host) -> list[dict[str, str]]:
    output = host.output(DPKG_QUERY)
    if output is None:
        return []
    dates = _dpkg_dates(host)
    rows = []
    for line in output.splitlines():
        parts = line.split("\t")
        if len(parts) < 7 or not parts[4].startswith("ii"):
            continue
        name, arch, version, size_kib, _status, homepage, summary = parts[:7]
        rows.append(
            {
                "ARCHITECTURE": arch,
                "COMMENTS": summary,
                "FILESIZE": str(int(size_kib) * 1024) if size_kib.isdigit() else "",
                "FROM": "deb",
                "INSTALLDATE": dates.get(name) or dates.get(f"{name}:{arch}", ""),
                "NAME": name,
                "PUBLISHER": homepage,
                "VERSION": version,
            }
        )
    return rows


def rpm(host: Host) -> list[dict[str, str]]:
    rows = []
    for line in (host.output(RPM_QUERY) or "").splitlines():
        parts = line.split("\t")
        if len(parts) < 7 or parts[0].startswith("gpg-pubkey"):
            continue
        name, arch, version, installed, size, vendor, summary = parts[:7]
        rows.append(
            {
                "ARCHITECTURE": "" if arch == "(none)" else arch,
                "COMMENTS": summary,
                "FILESIZE": size if size.isdigit() else "",
                "FROM": "rpm",
                "INSTALLDATE": install_date(int(installed)) if installed.isdigit() else "",
                "NAME": name,
                "PUBLISHER": "" if vendor == "(none)" else vendor,
                "VERSION": version,
            }
        )
    return rows


def flatpak(host: Host) -> list[dict[str, str]]:
    rows = []
    for line in (host.output(FLATPAK_LIST) or "").splitlines():
        parts = line.split("\t")
        if len(parts) < 5 or parts[0] == "Application ID":
            continue
        application, name, version, arch, origin = (part.strip() for part in parts[:5])
        rows.append(
            {
                "ARCHITECTURE": arch,
                "COMMENTS": name,
                "FROM": "flatpak",
                "NAME": application,
                "PUBLISHER": origin,
                "VERSION": version,
            }
        )
    return rows


_SNAP_MARKS = re.compile(r"[✓✪*]+$")


def snap(host: Host) -> list[dict[str, str]]:
    rows = []
    for line in (host.output(SNAP_LIST) or "").splitlines()[1:]:
        parts = line.split()
        if len(parts) < 5:
            continue
        rows.append(
            {
                "FROM": "snap",
                "NAME": parts[0],
                "PUBLISHER": _SNAP_MARKS.sub("", parts[4]),
                "VERSION": parts[1],
            }
        )
    return rows


def collect(host: Host, found: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    return [*dpkg(host), *rpm(host), *flatpak(host), *snap(host)]
