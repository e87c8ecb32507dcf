"""Captured and modelled agent payloads, posted to the endpoint, are stored correctly (protocol.md §5-§7).

Expected values are read from the payload files with the standard library's ElementTree,
independently of the server's reader; the only shared knowledge is the section table
(``ocelot.protocol.sections``), which names the column each OCS tag lands in.
"""

from __future__ import annotations

import gzip
import re
import xml.etree.ElementTree as ET
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Model
from django.test import Client

from ocelot.deployment.models import ReportedResult
from ocelot.inventory.account_info import set_tag
from ocelot.inventory.models import (
    SECTION_MODELS,
    AccountField,
    AccountInfo,
    Computer,
    NetworkInterface,
    OtherSection,
    PackageHistoryEntry,
    RegistryValue,
    SettingOverride,
    Software,
    SoftwareInstallation,
)
from ocelot.inventory.setting_values import set_global, set_override
from ocelot.protocol.sections import SECTIONS_BY_TAG, SectionSpec

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parents[1] / "data"
UNIX = (DATA / "unix-agent-2.10-inventory.xml").read_bytes()
UNIX_DEVICE = "vm-2026-11-21-17-46-56"
WINDOWS = (DATA / "windows-agent-2.11-inventory.xml").read_bytes()
WINDOWS_DEVICE = "WIN10-PC-2025-03-02-09-12-44"
WINDOWS_OLD_DEVICE = "WIN10-PC-2024-01-15-08-30-00"
FUSION = (DATA / "fusioninventory-2.6-inventory.xml").read_bytes()
FUSION_DEVICE = "lab7-2024-02-20-07-45-10"
MIXED = (DATA / "mixed-attributes-inventory.xml").read_bytes()
MIXED_DEVICE = "mixed-2025-06-01-12-00-00"

UNIX_UA = "OCS-NG_unified_unix_agent_v2.10.0"
WINDOWS_UA = "OCS-NG_WINDOWS_AGENT_v2.11.0.1"
FUSION_UA = "FusionInventory-Agent_v2.6-3"


def post(client: Client, xml: bytes, user_agent: str = UNIX_UA) -> ET.Element | None:
    """Post a zlib-framed payload; the REPLY document, or None for an empty 200."""
    response = client.post(
        "/ocsinventory",
        data=zlib.compress(xml),
        content_type="application/x-compress",
        HTTP_USER_AGENT=user_agent,
    )
    assert response.status_code == 200, response.content[:300]
    return ET.fromstring(zlib.decompress(response.content)) if response.content else None


def account_update(root: ET.Element | None) -> list[tuple[str, str]] | None:
    """The pairs of an ACCOUNT_UPDATE reply, or None for NO_ACCOUNT_UPDATE."""
    assert root is not None
    if root.findtext("RESPONSE") == "NO_ACCOUNT_UPDATE":
        assert root.findall("ACCOUNTINFO") == []
        return None
    assert root.findtext("RESPONSE") == "ACCOUNT_UPDATE"
    return [
        (node.findtext("KEYNAME") or "", node.findtext("KEYVALUE") or "")
        for node in root.findall("ACCOUNTINFO")
    ]


def with_checksum(xml: bytes, checksum: int) -> bytes:
    result, count = re.subn(rb"<CHECKSUM>\d+</CHECKSUM>", b"<CHECKSUM>%d</CHECKSUM>" % checksum, xml)
    assert count == 1
    return result


def replaced(xml: bytes, old: bytes, new: bytes) -> bytes:
    assert old in xml, old
    return xml.replace(old, new, 1)


def content(xml: bytes) -> ET.Element:
    found = ET.fromstring(xml).find("CONTENT")
    assert found is not None
    return found


def model_of(tag: str) -> type[Model]:
    if tag == "SOFTWARES":
        return SoftwareInstallation
    return SECTION_MODELS[SECTIONS_BY_TAG[tag].name]


def _column(spec: SectionSpec, name: str) -> str:
    # Software names, publishers and versions live in the normalised catalogue.
    if spec.tag == "SOFTWARES" and name in ("name", "publisher", "version"):
        return f"software__{name}"
    return name


def expected_rows(xml: bytes, tag: str) -> Counter[tuple[Any, ...]]:
    """Every row of a section as the payload gives it, in the section's columns (and extra)."""
    spec = SECTIONS_BY_TAG[tag]
    rows: Counter[tuple[Any, ...]] = Counter()
    for element in content(xml).findall(tag):
        sent = {child.tag: (child.text or "").strip() for child in element} | dict(element.attrib)
        values: list[Any] = []
        for field in spec.fields:
            tags = [field.tag, *field.aliases]
            text = next((sent[t] for t in tags if t in sent), "")
            values.append((int(text.split(".")[0]) if text else None) if field.kind == "int" else text)
        known = {t for field in spec.fields for t in (field.tag, *field.aliases)}
        values.append(repr(sorted((k, v) for k, v in sent.items() if k not in known)))
        rows[tuple(values)] += 1
    return rows


def stored_rows(computer: Computer, tag: str) -> Counter[tuple[Any, ...]]:
    spec = SECTIONS_BY_TAG[tag]
    columns = [_column(spec, field.name) for field in spec.fields]
    rows: Counter[tuple[Any, ...]] = Counter()
    for values in model_of(tag)._default_manager.filter(computer=computer).values_list(*columns, "extra"):
        rows[(*values[:-1], repr(sorted(values[-1].items())))] += 1
    return rows


def section_ids(computer: Computer) -> dict[str, list[int]]:
    """The primary keys of every section row of a computer."""
    models: list[type[Model]] = [*SECTION_MODELS.values(), SoftwareInstallation, OtherSection]
    return {
        model.__name__: sorted(model._default_manager.filter(computer=computer).values_list("pk", flat=True))
        for model in models
    }


# ---------------------------------------------------------------- the captured Unix inventory


def test_every_section_of_the_captured_unix_inventory_is_stored_row_for_row(client):
    assert account_update(post(client, UNIX)) is None
    computer = Computer.objects.get(device_id=UNIX_DEVICE)
    tags = Counter(child.tag for child in content(UNIX))
    assert set(tags) == {
        "ACCOUNTINFO",
        "BIOS",
        "CONTROLLERS",
        "CPUS",
        "DRIVES",
        "HARDWARE",
        "LOCAL_GROUPS",
        "LOCAL_USERS",
        "NETWORKS",
        "REPOSITORY",
        "SOFTWARES",
        "STORAGES",
    }
    for tag, count in tags.items():
        if tag in ("ACCOUNTINFO", "HARDWARE"):
            continue
        assert model_of(tag)._default_manager.filter(computer=computer).count() == count, tag
        assert stored_rows(computer, tag) == expected_rows(UNIX, tag), tag
    assert OtherSection.objects.filter(computer=computer).count() == 0


def test_the_computer_holds_the_hardware_section(client):
    post(client, UNIX)
    computer = Computer.objects.get(device_id=UNIX_DEVICE)
    hardware = content(UNIX).find("HARDWARE")
    assert hardware is not None
    spec = SECTIONS_BY_TAG["HARDWARE"]
    for field in spec.fields:
        element = hardware.find(field.tag)
        text = (element.text or "").strip() if element is not None else ""
        expected = (int(text) if text else None) if field.kind == "int" else text
        assert getattr(computer, field.name) == expected, field.tag
    assert (computer.name, computer.memory, computer.os_name) == ("vm", 24105, "Debian GNU/Linux 12")
    assert computer.checksum & 1572863 == 1572863
    assert computer.user_agent == UNIX_UA
    assert computer.last_inventory_at is not None
    assert AccountInfo.objects.get(computer=computer).tag == "SAMPLE_TAG"


def test_software_is_normalised_into_one_catalogue_entry_per_name_publisher_and_version(client):
    post(client, UNIX)
    entries = content(UNIX).findall("SOFTWARES")
    distinct = {
        (e.findtext("NAME") or "", e.findtext("PUBLISHER") or "", e.findtext("VERSION") or "")
        for e in entries
    }
    assert Software.objects.count() == len(distinct)
    assert SoftwareInstallation.objects.count() == len(entries) == 800
    assert set(Software.objects.values_list("name", "publisher", "version")) == distinct
    # A second computer with the same software adds installations, not catalogue entries.
    post(client, UNIX.replace(UNIX_DEVICE.encode(), b"twin-2026-11-21-17-46-56"))
    assert Software.objects.count() == len(distinct)
    assert SoftwareInstallation.objects.count() == 1600


def test_the_same_inventory_twice_changes_no_row(client):
    post(client, UNIX)
    computer = Computer.objects.get(device_id=UNIX_DEVICE)
    before = section_ids(computer)
    assert account_update(post(client, UNIX)) is None
    assert section_ids(computer) == before


def test_the_injector_posts_a_plain_local_mode_file_and_gets_a_plain_reply(client):
    # protocol.md §13: --local writes uncompressed XML; ocsinventory-injector.pl posts it unchanged.
    response = client.post(
        "/ocsinventory",
        data=UNIX,
        content_type="Application/x-compress",
        HTTP_USER_AGENT="OCS-NG_INJECTOR_PL_v3",
    )
    assert response.status_code == 200
    assert ET.fromstring(response.content).findtext("RESPONSE") == "NO_ACCOUNT_UPDATE"
    computer = Computer.objects.get(device_id=UNIX_DEVICE)
    assert stored_rows(computer, "SOFTWARES") == expected_rows(UNIX, "SOFTWARES")


def test_a_gzip_inventory_is_stored_and_answered_in_gzip(client):
    response = client.post(
        "/ocsinventory",
        data=gzip.compress(FUSION),
        content_type="application/x-compress-gzip",
        HTTP_USER_AGENT=FUSION_UA,
    )
    assert response.status_code == 200
    assert ET.fromstring(gzip.decompress(response.content)).findtext("RESPONSE") == "NO_ACCOUNT_UPDATE"
    assert Computer.objects.filter(device_id=FUSION_DEVICE).exists()


# ---------------------------------------------------------------- CHECKSUM (protocol.md §5.3)


def _second_run(checksum: int) -> bytes:
    """The second run of the Unix agent: disk space changed (CHECKSUM 513 on a real agent),
    and, to prove what is written and what is not, changes in other sections too."""
    xml = with_checksum(UNIX, checksum)
    xml = replaced(xml, b"<FREE>80517</FREE>", b"<FREE>70000</FREE>")
    xml = replaced(xml, b"<MEMORY>24105</MEMORY>", b"<MEMORY>32000</MEMORY>")
    xml = replaced(xml, b"<PCIID>8086:0d57</PCIID>", b"<PCIID>8086:ffff</PCIID>")
    xml = replaced(xml, b"<MACADDR>f6:10:8e:ff:ad:62</MACADDR>", b"<MACADDR>f6:10:8e:ff:ad:99</MACADDR>")
    xml = replaced(xml, b"<NAME>zstd</NAME>", b"<NAME>zstd-renamed</NAME>")
    xml = re.sub(
        rb"\s*<LOCAL_USERS>\s*<HOME>/root</HOME>.*?</LOCAL_USERS>", b"", xml, count=1, flags=re.DOTALL
    )
    xml = replaced(xml, b"<NAME>main</NAME>", b"<NAME>contrib</NAME>")
    return xml


def test_checksum_513_rewrites_only_hardware_and_drives_and_the_sections_without_a_bit(client):
    post(client, UNIX)
    computer = Computer.objects.get(device_id=UNIX_DEVICE)
    before = section_ids(computer)
    assert account_update(post(client, _second_run(513))) is None
    computer.refresh_from_db()
    after = section_ids(computer)
    # HARDWARE (1) and DRIVES (512) are written.
    assert computer.memory == 32000
    assert list(computer.drives.values_list("free", flat=True)) == [70000]
    # Sections whose bit is not set keep their rows, ids and old values.
    for model in ("Controller", "NetworkInterface", "Storage", "Cpu", "Bios", "SoftwareInstallation"):
        assert after[model] == before[model], model
    assert computer.controllers.filter(pci_id="8086:0d57").exists()
    assert computer.networks.filter(mac="f6:10:8e:ff:ad:62").exists()
    assert computer.software.filter(software__name="zstd").exists()
    # Sections without a bit (LOCAL_USERS, REPOSITORY, ...) are rewritten from the XML.
    assert computer.local_users.count() == 24
    assert not computer.local_users.filter(login="root").exists()
    assert computer.repositories.filter(name="contrib").count() == 1
    assert stored_rows(computer, "LOCAL_USERS") == expected_rows(_second_run(513), "LOCAL_USERS")
    assert stored_rows(computer, "REPOSITORY") == expected_rows(_second_run(513), "REPOSITORY")
    assert computer.checksum & (513 | 1572863) == 513 | 1572863


def test_software_follows_its_checksum_bit_and_only_changed_rows_are_written(client):
    # docs/protocol-notes.md: unlike OCS 2.8.1, software is not rewritten when its bit is clear.
    post(client, UNIX)
    computer = Computer.objects.get(device_id=UNIX_DEVICE)
    before = section_ids(computer)
    post(client, _second_run(513 | 65536))
    after = section_ids(computer)
    assert not computer.software.filter(software__name="zstd").exists()
    assert computer.software.filter(software__name="zstd-renamed").count() == 1
    assert stored_rows(computer, "SOFTWARES") == expected_rows(_second_run(513 | 65536), "SOFTWARES")
    kept = set(after["SoftwareInstallation"]) & set(before["SoftwareInstallation"])
    assert len(kept) == 799


def test_inventory_diff_off_rewrites_every_section(client):
    post(client, UNIX)
    set_global("INVENTORY_DIFF", 0)
    second = _second_run(513)
    post(client, second)
    computer = Computer.objects.get(device_id=UNIX_DEVICE)
    for tag in ("CONTROLLERS", "NETWORKS", "SOFTWARES", "DRIVES", "LOCAL_USERS", "REPOSITORY"):
        assert stored_rows(computer, tag) == expected_rows(second, tag), tag


def test_a_missing_checksum_rewrites_every_section(client):
    post(client, UNIX)
    second = re.sub(rb"\s*<CHECKSUM>\d+</CHECKSUM>", b"", _second_run(1))
    post(client, second)
    computer = Computer.objects.get(device_id=UNIX_DEVICE)
    for tag in ("CONTROLLERS", "NETWORKS", "SOFTWARES", "DRIVES"):
        assert stored_rows(computer, tag) == expected_rows(second, tag), tag


def test_write_diff_off_replaces_every_row_of_a_changed_section(client):
    post(client, UNIX)
    computer = Computer.objects.get(device_id=UNIX_DEVICE)
    before = section_ids(computer)
    set_global("INVENTORY_WRITE_DIFF", 0)
    post(client, UNIX)
    after = section_ids(computer)
    assert not set(after["Controller"]) & set(before["Controller"])
    assert stored_rows(computer, "CONTROLLERS") == expected_rows(UNIX, "CONTROLLERS")


# ---------------------------------------------------------------- the Windows agent


def test_the_windows_inventory_is_stored_with_its_windows_fields(client):
    assert account_update(post(client, WINDOWS, WINDOWS_UA)) is None
    computer = Computer.objects.get(device_id=WINDOWS_DEVICE)
    assert (
        computer.user_domain,
        computer.windows_company,
        computer.windows_owner,
        computer.windows_product_id,
        computer.windows_product_key,
        computer.architecture,
        computer.processor_speed,
        computer.processor_count,
    ) == (
        "CORP",
        "Example Corp",
        "IT Department",
        "00330-80000-00000-AA123",
        "W269N-WFGWX-YVC9B-4J6C9-T83GX",
        "x64",
        3000,
        6,
    )
    for tag in ("BIOS", "REGISTRY", "SOFTWARES", "DRIVES", "NETWORKS", "CPUS"):
        assert stored_rows(computer, tag) == expected_rows(WINDOWS, tag), tag
    assert AccountInfo.objects.get(computer=computer).tag == "ACCOUNTING"


def test_registry_values_are_stored_by_query_name(client):
    post(client, WINDOWS, WINDOWS_UA)
    values = set(RegistryValue.objects.values_list("name", "value"))
    assert values == {("office_version", "16.0.17328.20162"), ("antivirus_signature", "1.405.123.0")}


def test_windows_software_keeps_guid_language_bits_and_file_name(client):
    post(client, WINDOWS, WINDOWS_UA)
    firefox = SoftwareInstallation.objects.get(software__name="Mozilla Firefox (x64 fr)")
    assert (firefox.guid, firefox.language, firefox.bits_width, firefox.filename, firefox.folder) == (
        "Mozilla Firefox 123.0.1 (x64 fr)",
        "French (France)",
        "64",
        "firefox.exe",
        "C:\\Program Files\\Mozilla Firefox",
    )
    assert (firefox.software.publisher, firefox.software.version, firefox.source) == (
        "Mozilla",
        "123.0.1",
        "1",
    )


def test_windows_drives_keep_their_letter(client):
    post(client, WINDOWS, WINDOWS_UA)
    drives = dict(Computer.objects.get(device_id=WINDOWS_DEVICE).drives.values_list("letter", "total"))
    assert drives == {"C:/": 243587, "D:/": 0}


def test_old_device_id_merges_the_old_computer_into_the_new_one(client):
    old = Computer.objects.create(device_id=WINDOWS_OLD_DEVICE, name="WIN10-PC")
    set_tag(old, "OLD_TAG")
    set_override("FREQUENCY", 7, computer=old)
    old_id = old.pk
    reply = post(client, WINDOWS, WINDOWS_UA)
    assert not Computer.objects.filter(pk=old_id).exists()
    assert not Computer.objects.filter(device_id=WINDOWS_OLD_DEVICE).exists()
    new = Computer.objects.get(device_id=WINDOWS_DEVICE)
    assert AccountInfo.objects.get(computer=new).tag == "OLD_TAG"
    assert SettingOverride.objects.get(name="FREQUENCY").computer_id == new.pk
    # The agent sent TAG=ACCOUNTING: it is told the server's value.
    assert account_update(reply) == [("TAG", "OLD_TAG")]


def test_an_old_device_id_that_is_unknown_changes_nothing_else(client):
    other = Computer.objects.create(device_id="WIN10-PC-2023-01-01-00-00-00", name="WIN10-PC")
    post(client, WINDOWS, WINDOWS_UA)
    assert Computer.objects.filter(pk=other.pk).exists()
    assert Computer.objects.count() == 2


# ---------------------------------------------------------------- FusionInventory


def test_fusioninventory_names_land_in_the_ocs_columns(client):
    assert account_update(post(client, FUSION, FUSION_UA)) is None
    computer = Computer.objects.get(device_id=FUSION_DEVICE)
    cpu = computer.cpus.get()
    assert (cpu.cores, cpu.threads, cpu.architecture, cpu.name, cpu.speed) == (
        "4",
        "2",
        "x86_64",
        "AMD Ryzen 7 5800X 8-Core Processor",
        "3800",
    )
    assert cpu.extra == {"EXTERNAL_CLOCK": "100", "FAMILYNUMBER": "25", "MODEL": "33", "STEPPING": "0"}
    bash = computer.software.get(software__name="bash")
    assert (bash.architecture, bash.source, bash.file_size, bash.extra) == (
        "amd64",
        "deb",
        7138304,
        {"SYSTEM_CATEGORY": "shells"},
    )
    assert bash.software.publisher == "Matthias Klose <doko@debian.org>"
    assert computer.extra == {"ARCHNAME": "x86_64-linux-gnu-thread-multi"}
    assert computer.checksum & 131071 == 131071
    assert AccountInfo.objects.get(computer=computer).tag == "LAB"


def test_fusioninventory_extra_sections_are_kept_as_other_sections(client):
    post(client, FUSION, FUSION_UA)
    computer = Computer.objects.get(device_id=FUSION_DEVICE)
    kept = Counter(OtherSection.objects.filter(computer=computer).values_list("tag", flat=True))
    assert kept == Counter(
        {"ENVS": 2, "FIREWALL": 1, "OPERATINGSYSTEM": 1, "VERSIONPROVIDER": 1, "VERSIONCLIENT": 1}
    )
    envs = {
        (row["KEY"], row["VAL"])
        for row in computer.other_sections.filter(tag="ENVS").values_list("data", flat=True)
    }
    assert envs == {("LANG", "C.UTF-8"), ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin")}
    system = computer.other_sections.get(tag="OPERATINGSYSTEM").data
    assert system["FULL_NAME"] == "Debian GNU/Linux 12 (bookworm)"
    assert system["TIMEZONE"] == [{"NAME": "CET", "OFFSET": "+0100"}]
    assert computer.other_sections.get(tag="VERSIONCLIENT").data == {
        "content": "FusionInventory-Agent_v2.6-3"
    }


def test_fields_given_as_attributes_are_stored_like_children(client):
    post(client, MIXED)
    computer = Computer.objects.get(device_id=MIXED_DEVICE)
    assert (computer.name, computer.memory, computer.swap, computer.os_name) == (
        "mixed",
        2048,
        1024,
        "Debian GNU/Linux 12",
    )
    assert stored_rows(computer, "DRIVES") == expected_rows(MIXED, "DRIVES")
    assert set(computer.package_history.values_list("package_id", flat=True)) == {1700000003, 1700000004}


# ---------------------------------------------------------------- results and NOTIFY (protocol.md §7)


def test_the_unix_download_result_is_stored(client):
    post(client, UNIX)
    assert post(client, (DATA / "unix-agent-2.10-download-result.xml").read_bytes()) is None
    (result,) = ReportedResult.objects.all()
    assert (result.computer.device_id, result.package_id, result.code) == (UNIX_DEVICE, 1700000001, "SUCCESS")


def test_the_windows_download_result_is_stored(client):
    post(client, WINDOWS, WINDOWS_UA)
    assert post(client, (DATA / "windows-agent-2.11-download-result.xml").read_bytes(), WINDOWS_UA) is None
    (result,) = ReportedResult.objects.all()
    assert (result.computer.device_id, result.package_id, result.code) == (
        WINDOWS_DEVICE,
        1700000002,
        "EXIT_CODE_1603",
    )


def test_a_download_result_of_an_unknown_computer_is_answered_and_not_stored(client):
    assert post(client, (DATA / "unix-agent-2.10-download-result.xml").read_bytes()) is None
    assert not ReportedResult.objects.exists()
    assert not Computer.objects.exists()


def test_notify_updates_the_interface_with_the_same_mac_and_the_computer_address(client):
    post(client, WINDOWS, WINDOWS_UA)
    Computer.objects.filter(device_id=WINDOWS_DEVICE).update(checksum=0)
    assert post(client, (DATA / "windows-agent-2.11-notify.xml").read_bytes(), WINDOWS_UA) is None
    computer = Computer.objects.get(device_id=WINDOWS_DEVICE)
    interface = NetworkInterface.objects.get(computer=computer)
    assert (interface.mac, interface.ip_address, interface.netmask, interface.gateway, interface.subnet) == (
        "D8:9E:F3:12:34:56",
        "10.1.3.77",
        "255.255.255.0",
        "10.1.3.1",
        "10.1.3.0",
    )
    assert interface.dhcp_server == "10.1.0.5"
    assert computer.ip_address == "10.1.3.77"
    # The next inventory rewrites NETWORKS and HARDWARE.
    assert computer.checksum == 4096 | 1


def test_notify_of_an_unknown_computer_is_answered_and_changes_nothing(client):
    assert post(client, (DATA / "windows-agent-2.11-notify.xml").read_bytes(), WINDOWS_UA) is None
    assert not Computer.objects.exists()


# ---------------------------------------------------------------- ACCOUNT_UPDATE (protocol.md §5.4, §6.2)


def test_a_new_computer_keeps_the_agent_tag_and_gets_no_account_update(client):
    assert account_update(post(client, UNIX)) is None
    assert AccountInfo.objects.get(computer__device_id=UNIX_DEVICE).tag == "SAMPLE_TAG"


def test_a_known_computer_tagged_on_the_server_gets_the_server_pairs(client):
    post(client, UNIX)
    set_tag(Computer.objects.get(device_id=UNIX_DEVICE), "FROM_SERVER")
    assert account_update(post(client, UNIX)) == [("TAG", "FROM_SERVER")]
    assert AccountInfo.objects.get(computer__device_id=UNIX_DEVICE).tag == "FROM_SERVER"
    # Once the agent has taken the server's value, nothing differs any more.
    agreed = replaced(UNIX, b"<KEYVALUE>SAMPLE_TAG</KEYVALUE>", b"<KEYVALUE>FROM_SERVER</KEYVALUE>")
    assert account_update(post(client, agreed)) is None


def test_accept_tag_update_from_client_lets_the_agent_change_the_tag(client):
    post(client, UNIX)
    set_global("ACCEPT_TAG_UPDATE_FROM_CLIENT", 1)
    changed = replaced(UNIX, b"<KEYVALUE>SAMPLE_TAG</KEYVALUE>", b"<KEYVALUE>NEW_TAG</KEYVALUE>")
    assert account_update(post(client, changed)) is None
    assert AccountInfo.objects.get(computer__device_id=UNIX_DEVICE).tag == "NEW_TAG"


def test_a_known_computer_without_account_info_is_lost(client):
    post(client, UNIX)
    AccountInfo.objects.filter(computer__device_id=UNIX_DEVICE).delete()
    assert account_update(post(client, UNIX)) == [("TAG", "LOST")]
    assert AccountInfo.objects.get(computer__device_id=UNIX_DEVICE).tag == "LOST"


def test_administrator_fields_are_sent_back_with_the_tag(client):
    post(client, UNIX)
    AccountField.objects.create(name="fields_3")
    assert account_update(post(client, UNIX)) == [("TAG", "SAMPLE_TAG"), ("fields_3", "")]


# ---------------------------------------------------------------- package history (protocol.md §5.5)


def _history(*package_ids: int) -> bytes:
    packages = b"".join(b'<PACKAGE ID="%d" />' % pid for pid in package_ids)
    return re.sub(
        rb"<DOWNLOAD>.*</DOWNLOAD>",
        b"<DOWNLOAD><HISTORY>" + packages + b"</HISTORY></DOWNLOAD>",
        MIXED,
        flags=re.DOTALL,
    )


def _stored_history() -> set[int]:
    return set(PackageHistoryEntry.objects.values_list("package_id", flat=True))


def test_the_package_history_follows_the_agent(client):
    post(client, _history(1700000001, 1700000002))
    assert _stored_history() == {1700000001, 1700000002}
    post(client, _history(1700000002, 1700000003))
    assert _stored_history() == {1700000002, 1700000003}
    post(client, _history())
    assert _stored_history() == set()


def test_an_inventory_without_download_section_keeps_the_history(client):
    post(client, _history(1700000001))
    post(client, re.sub(rb"<DOWNLOAD>.*</DOWNLOAD>", b"", MIXED, flags=re.DOTALL))
    assert _stored_history() == {1700000001}


def test_the_windows_history_is_stored_despite_the_misplaced_old_device_id(client):
    post(client, WINDOWS, WINDOWS_UA)
    assert _stored_history() == {1700000001, 1700000002}
