"""SOFTWARES from dpkg, rpm and flatpak, with the Unix agent's fields and units."""

from __future__ import annotations

from tests.agent.conftest import inventory_of


def test_every_installed_deb_is_listed_with_size_in_bytes_and_install_date() -> None:
    software = inventory_of("debian12-vm").sections["SOFTWARES"]
    assert len(software) == 815
    adduser = next(row for row in software if row["NAME"] == "adduser")
    assert adduser["FROM"] == "deb"
    assert adduser["ARCHITECTURE"] == "all"
    assert adduser["COMMENTS"] == "add and remove users and groups"
    assert int(adduser["FILESIZE"]) % 1024 == 0
    assert adduser["INSTALLDATE"][:4].isdigit() and adduser["INSTALLDATE"][4] == "/"
    assert any(row["NAME"].endswith(":amd64") for row in software)  # multi-arch names as in the sample


def test_removed_packages_are_left_out_and_dates_come_from_the_file_lists() -> None:
    software = {row["NAME"]: row for row in inventory_of("debian12-server").sections["SOFTWARES"]}
    assert "old-removed" not in software
    assert software["openssh-server"]["INSTALLDATE"] == "2023/11/14 22:13:20"
    assert software["openssh-server"]["FILESIZE"] == str(1804 * 1024)
    assert software["openssh-server"]["PUBLISHER"] == "https://www.openssh.com/"
    assert software["libc6:amd64"]["INSTALLDATE"] == "2023/07/22 04:26:40"


def test_rpm_and_flatpak_software_of_a_fedora_laptop() -> None:
    software = inventory_of("fedora40-laptop").sections["SOFTWARES"]
    assert [row["FROM"] for row in software] == ["rpm"] * 4 + ["flatpak"] * 2  # gpg-pubkey skipped
    bash = software[0]
    assert bash == {
        "ARCHITECTURE": "x86_64",
        "COMMENTS": "The GNU Bourne Again shell",
        "FILESIZE": "8284946",
        "FROM": "rpm",
        "INSTALLDATE": "2024/03/18 00:00:00",
        "NAME": "bash",
        "PUBLISHER": "Fedora Project",
        "VERSION": "5.2.26-3.fc40",
    }
    assert software[4]["NAME"] == "org.gimp.GIMP"
    assert software[4]["PUBLISHER"] == "flathub"
