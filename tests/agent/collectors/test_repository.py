"""REPOSITORY: apt sources (one-line and deb822) and dnf repositories."""

from __future__ import annotations

from ocelot.agent.collectors.repository import one_line_sources
from tests.agent.conftest import inventory_of


def test_debian_12s_deb822_sources_give_the_three_rows_of_the_unix_agent_sample() -> None:
    assert inventory_of("debian12-vm").sections["REPOSITORY"] == [
        {"BASEURL": "http://deb.debian.org/debian", "NAME": "main"},
        {"BASEURL": "http://deb.debian.org/debian", "NAME": "main"},
        {"BASEURL": "http://deb.debian.org/debian-security", "NAME": "main"},
    ]


def test_one_line_sources_skip_options_comments_and_source_packages() -> None:
    text = (
        "deb [arch=amd64 trusted=yes signed-by=/k.gpg] https://repo.example/debian stable main extra\n"
        "# deb http://commented.example/debian bookworm main\n"
        "deb-src http://deb.debian.org/debian bookworm main\n"
    )
    assert one_line_sources(text) == [{"BASEURL": "https://repo.example/debian", "NAME": "main extra"}]
    rows = inventory_of("debian12-server").sections["REPOSITORY"]
    assert [row["BASEURL"] for row in rows] == [
        "http://deb.debian.org/debian",
        "http://security.debian.org/debian-security",
        "https://download.docker.com/linux/debian",
    ]


def test_dnf_repositories_with_mirrors_and_the_disabled_ones() -> None:
    rows = inventory_of("fedora40-laptop").sections["REPOSITORY"]
    assert [(row["NAME"], row["ENABLED"]) for row in rows] == [
        ("Fedora $releasever - $basearch", "1"),
        ("Fedora $releasever - $basearch - Debug", "0"),
        ("google-chrome", "1"),
    ]
    assert rows[0]["MIRRORS"].startswith("https://mirrors.fedoraproject.org/metalink?")
    assert rows[2]["BASEURL"] == "https://dl.google.com/linux/chrome/rpm/stable/x86_64"
    assert rows[2]["FILENAME"] == "/etc/yum.repos.d/google-chrome.repo"
