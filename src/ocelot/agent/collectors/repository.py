"""REPOSITORY: the package sources of apt (one-line and deb822) and of dnf/yum.

apt (sources.list(5)): one row per URI and suite, BASEURL the URI, NAME the components, as
the Unix agent's sample shows for Debian 12's ``debian.sources`` (three rows, NAME "main").
dnf/yum (yum.conf(5)): one row per ``[repo]`` of /etc/yum.repos.d/*.repo, with NAME, BASEURL,
MIRRORS (mirrorlist or metalink), ENABLED and FILENAME.
"""

from __future__ import annotations

import configparser
import re

from ocelot.agent.host import Host

SECTION = "REPOSITORY"

APT = "/etc/apt"
YUM = "/etc/yum.repos.d"
_OPTIONS = re.compile(r"\[[^\]]*\]")  # deb [arch=amd64 signed-by=...] URI suite components


def one_line_sources(text: str) -> list[dict[str, str]]:
    rows = []
    for line in text.splitlines():
        line = _OPTIONS.sub(" ", line.split("#", 1)[0]).strip()
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "deb":
            rows.append({"BASEURL": parts[1], "NAME": " ".join(parts[3:])})
    return rows


def deb822_sources(text: str) -> list[dict[str, str]]:
    rows = []
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line.startswith((" ", "\t")):
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            for _suite in fields.get("suites", "").split() or [""]:
                rows.append({"BASEURL": uri, "NAME": fields.get("components", "")})
    return rows


def yum_repositories(host: Host) -> list[dict[str, str]]:
    rows = []
    for name in host.list_dir(YUM):
        if not name.endswith(".repo"):
            continue
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(host.read_text(f"{YUM}/{name}") or "")
        except configparser.Error:
            continue
        for section in parser.sections():
            values = parser[section]
            rows.append(
                {
                    "BASEURL": values.get("baseurl", "").split()[0] if values.get("baseurl") else "",
                    "ENABLED": values.get("enabled", "1"),
                    "FILENAME": f"{YUM}/{name}",
                    "MIRRORS": values.get("mirrorlist", "") or values.get("metalink", ""),
                    "NAME": values.get("name", section),
                }
            )
    return rows


def collect(host: Host, found: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    rows = one_line_sources(host.read_text(f"{APT}/sources.list") or "")
    for name in host.list_dir(f"{APT}/sources.list.d"):
        text = host.read_text(f"{APT}/sources.list.d/{name}") or ""
        if name.endswith(".list"):
            rows += one_line_sources(text)
        elif name.endswith(".sources"):
            rows += deb822_sources(text)
    return rows + yum_repositories(host)
