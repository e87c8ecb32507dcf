"""Typed messages: every QUERY, and the replies (protocol.md §4-§7, security.md S2, T07, T16)."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ocelot.protocol.codec import decode_body
from ocelot.protocol.errors import ProtocolError, TooLargeError
from ocelot.protocol.limits import Limits
from ocelot.protocol.messages import (
    Contact,
    ContactReply,
    DeploymentResult,
    Inventory,
    InventoryReply,
    NetworkNotice,
    OptionParam,
    ReplyOption,
    UpdateQuery,
    check_device_id,
    no_update_reply,
    read_request,
)
from ocelot.protocol.sections import SECTIONS, SECTIONS_BY_TAG
from ocelot.protocol.xmltree import Node, parse_xml, to_document

DATA = Path(__file__).parents[1] / "data"
DEVICE = "pc-2024-01-15-08-30-00"


def read(document: str | bytes) -> object:
    data = document.encode() if isinstance(document, str) else document
    return read_request(parse_xml(data))


def inventory(content: str, device_id: str = DEVICE) -> Inventory:
    message = read(
        f"<REQUEST><CONTENT>{content}</CONTENT><DEVICEID>{device_id}</DEVICEID>"
        "<QUERY>INVENTORY</QUERY></REQUEST>"
    )
    assert isinstance(message, Inventory)
    return message


def refusal(document: str) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        read(document)
    return caught.value


# ---------------------------------------------------------------- every QUERY


def test_a_prolog_is_a_contact():
    assert read(f"<REQUEST><DEVICEID>{DEVICE}</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>") == Contact(DEVICE)


def test_fusioninventory_s_prolog_token_is_ignored():
    document = f"<REQUEST><DEVICEID>{DEVICE}</DEVICEID><QUERY>PROLOG</QUERY><TOKEN>12345678</TOKEN></REQUEST>"
    assert read(document) == Contact(DEVICE)


def test_a_prolog_carrying_an_inventory_body_is_refused():
    error = refusal(
        f"<REQUEST><DEVICEID>{DEVICE}</DEVICEID><QUERY>PROLOG</QUERY>"
        "<CONTENT><HARDWARE><NAME>pc</NAME></HARDWARE></CONTENT></REQUEST>"
    )
    assert error.status == 400


def test_an_inventory_is_read_with_its_sections():
    message = inventory("<HARDWARE><NAME>pc</NAME></HARDWARE><SOFTWARES><NAME>vim</NAME></SOFTWARES>")
    assert message.device_id == DEVICE
    assert message.computer_fields["name"] == "pc"
    assert [row["name"] for row in message.sections["software"]] == ["vim"]


def test_the_captured_unix_inventory_is_read_whole():
    message = read((DATA / "unix-agent-2.10-inventory.xml").read_bytes())
    assert isinstance(message, Inventory)
    assert message.device_id == "vm-2026-11-21-17-46-56"
    assert message.changed_bits == 1572863
    assert message.account_info == [("TAG", "SAMPLE_TAG")]
    assert {name: len(rows) for name, rows in message.sections.items()} == {
        "bios": 1,
        "controllers": 6,
        "cpus": 1,
        "drives": 1,
        "hardware": 1,
        "local_groups": 48,
        "local_users": 25,
        "networks": 4,
        "repositories": 3,
        "software": 800,
        "storages": 2,
    }
    assert message.package_history is None
    assert message.other_sections == {}


def test_the_unix_download_result_is_read_from_root_attributes():
    message = read((DATA / "unix-agent-2.10-download-result.xml").read_bytes())
    assert message == DeploymentResult("vm-2026-11-21-17-46-56", "1700000001", "SUCCESS")


def test_the_windows_download_result_mixes_attributes_and_children():
    message = read((DATA / "windows-agent-2.11-download-result.xml").read_bytes())
    assert message == DeploymentResult("WIN10-PC-2025-03-02-09-12-44", "1700000002", "EXIT_CODE_1603")


def test_a_download_result_without_a_code_is_unknown_code():
    message = read(f'<REQUEST DEVICEID="{DEVICE}" ID="1700000001" QUERY="DOWNLOAD"/>')
    assert message == DeploymentResult(DEVICE, "1700000001", "UNKNOWN_CODE")


@pytest.mark.parametrize(
    "package_id",
    ["", "abc", "../../1", "1700000001; DROP TABLE x", "1" * 19, "-1", "1.5"],
)
def test_a_download_result_with_a_non_numeric_package_id_is_refused(package_id):
    error = refusal(f'<REQUEST DEVICEID="{DEVICE}" ID="{package_id}" ERR="SUCCESS" QUERY="DOWNLOAD"/>')
    assert error.status == 400


@pytest.mark.parametrize("code", ["&lt;script&gt;alert(1)&lt;/script&gt;", "success", "X" * 65, "ERR X"])
def test_a_download_result_with_a_code_that_is_not_a_code_is_refused(code):
    error = refusal(f'<REQUEST DEVICEID="{DEVICE}" ID="1700000001" ERR="{code}" QUERY="DOWNLOAD"/>')
    assert error.status == 400


@pytest.mark.parametrize(
    "code", ["SUCCESS", "SUCCESS_3", "SUCCESS_ALREADY_SETUP", "ERR_DOWNLOAD_INFO", "EXIT_CODE_1603"]
)
def test_every_documented_result_code_is_accepted(code):
    message = read(f'<REQUEST DEVICEID="{DEVICE}" ID="1700000001" ERR="{code}" QUERY="DOWNLOAD"/>')
    assert isinstance(message, DeploymentResult)
    assert message.code == code


def test_the_windows_notify_is_read_with_its_interfaces():
    message = read((DATA / "windows-agent-2.11-notify.xml").read_bytes())
    assert message == NetworkNotice(
        device_id="WIN10-PC-2025-03-02-09-12-44",
        kind="IP",
        ip_address="10.1.3.77",
        interfaces=[
            {
                "mac": "d8:9e:f3:12:34:56",
                "ip_address": "10.1.3.77",
                "netmask": "255.255.255.0",
                "gateway": "10.1.3.1",
                "subnet": "10.1.3.0",
                "dhcp_server": "10.1.0.5",
            }
        ],
    )


def test_an_update_query_needs_no_device_id():
    message = read("<REQUEST><QUERY>UPDATE</QUERY><PLATFORM>LINUX</PLATFORM><AGENT>2.10.0</AGENT></REQUEST>")
    assert message == UpdateQuery(None)


# ---------------------------------------------------------------- QUERY and root (T16)


@pytest.mark.parametrize("query", ["FILE", "SYSTEM", "SNMP", "prolog", "Inventory", "DELETE"])
def test_a_query_this_server_does_not_answer_is_refused(query):
    error = refusal(f"<REQUEST><DEVICEID>{DEVICE}</DEVICEID><QUERY>{query}</QUERY></REQUEST>")
    assert (error.reason, error.status) == ("unknown_query", 400)


def test_a_request_without_query_is_refused():
    assert refusal(f"<REQUEST><DEVICEID>{DEVICE}</DEVICEID></REQUEST>").reason == "no_query"


def test_a_query_given_twice_with_different_values_is_refused():
    error = refusal(
        f"<REQUEST><DEVICEID>{DEVICE}</DEVICEID><QUERY>PROLOG</QUERY><QUERY>INVENTORY</QUERY></REQUEST>"
    )
    assert error.reason == "ambiguous"


def test_a_query_given_as_attribute_and_child_with_different_values_is_refused():
    error = refusal(f'<REQUEST QUERY="DOWNLOAD"><DEVICEID>{DEVICE}</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>')
    assert error.reason == "ambiguous"


def test_a_query_repeated_with_the_same_value_is_tolerated():
    document = f"<REQUEST><DEVICEID>{DEVICE}</DEVICEID><QUERY>PROLOG</QUERY><QUERY>PROLOG</QUERY></REQUEST>"
    assert read(document) == Contact(DEVICE)


def test_a_device_id_given_twice_with_different_values_is_refused():
    error = refusal(
        f"<REQUEST><DEVICEID>{DEVICE}</DEVICEID><DEVICEID>other-2024-01-15-08-30-00</DEVICEID>"
        "<QUERY>PROLOG</QUERY></REQUEST>"
    )
    assert error.reason == "ambiguous"


def test_a_root_other_than_request_is_refused():
    assert refusal(f"<REPLY><DEVICEID>{DEVICE}</DEVICEID><QUERY>PROLOG</QUERY></REPLY>").status == 400


def test_an_inventory_without_content_is_refused():
    error = refusal(f"<REQUEST><DEVICEID>{DEVICE}</DEVICEID><QUERY>INVENTORY</QUERY></REQUEST>")
    assert error.reason == "no_content"


# ---------------------------------------------------------------- DEVICEID (protocol.md §2, T09)


@pytest.mark.parametrize(
    "device_id",
    [
        "vm-2026-11-21-17-47-44",
        "WIN10-PC-2025-03-02-09-12-44",
        "a-0000-00-00-00-00-00",
        "host.example.org-2024-01-01-00-00-00",
        "caf\u00e9-2024-01-01-00-00-00",
        # OCS's pattern only anchors the date: the rest is an opaque label, never a path.
        "../../x-2024-01-01-00-00-00",
    ],
)
def test_device_ids_of_the_ocs_form_are_accepted(device_id):
    assert check_device_id(device_id) == device_id


@pytest.mark.parametrize(
    "device_id",
    [
        None,
        "",
        "pc",
        "pc-2024-01-01",
        "-2024-01-01-00-00-00",
        "pc-2024-1-01-00-00-00",
        "pc-2024-01-01-00-00-00 ",
        "pc-2024-01-01-00-00-00-",
        "pc-24-01-01-00-00-00",
        "pc\n-2024-01-01-00-00-00",
        "x" * 300 + "-2024-01-01-00-00-00",
        "' OR 1=1 --",
    ],
)
def test_device_ids_not_of_the_ocs_form_are_refused(device_id):
    with pytest.raises(ProtocolError) as caught:
        check_device_id(device_id)
    assert caught.value.status == 400


def test_every_query_but_update_checks_the_device_id():
    for query in ("PROLOG", "INVENTORY", "DOWNLOAD", "NOTIFY"):
        error = refusal(f"<REQUEST><DEVICEID>not-a-device-id</DEVICEID><QUERY>{query}</QUERY></REQUEST>")
        assert error.reason == "bad_device_id"


def test_a_request_without_device_id_is_refused():
    assert refusal("<REQUEST><QUERY>PROLOG</QUERY></REQUEST>").reason == "no_device_id"


# ---------------------------------------------------------------- typed fields (T07)


@pytest.mark.parametrize(
    ("section", "tag"),
    [
        ("HARDWARE", "MEMORY"),
        ("HARDWARE", "SWAP"),
        ("HARDWARE", "PROCESSORS"),
        ("HARDWARE", "PROCESSORN"),
        ("HARDWARE", "CHECKSUM"),
        ("DRIVES", "FREE"),
        ("DRIVES", "TOTAL"),
        ("SOFTWARES", "FILESIZE"),
    ],
)
@pytest.mark.parametrize(
    "value",
    [
        "abc",
        "1) OR SLEEP(5)#",
        "NaN",
        "1e9999",
        "0x10",
        "1" + "0" * 30,
        str(2**80),
        "12 MB",
        "1,5",
        "\u00b2",  # superscript two: str.isdigit says it is a digit, int() does not
        str(2**63),
        "9" * 19,
    ],
)
def test_numeric_fields_holding_text_or_huge_numbers_are_refused(section, tag, value):
    with pytest.raises(ProtocolError) as caught:
        inventory(f"<{section}><{tag}>{value}</{tag}></{section}>")
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2048", 2048),
        ("2048.9", 2048),
        (" 12 ", 12),
        ("-1", -1),
        ("+7", 7),
        ("0", 0),
        ("7.", 7),
        ("007", 7),
        ("9" * 18, int("9" * 18)),
        (str(2**63 - 1), 2**63 - 1),
    ],
)
def test_numbers_are_read_and_decimals_truncated(text, value):
    message = inventory(f"<HARDWARE><MEMORY>{text}</MEMORY></HARDWARE>")
    assert message.computer_fields["memory"] == value


@pytest.mark.parametrize("text", ["", "??", "NA", "N/A"])
def test_unknown_numbers_are_none(text):
    message = inventory(f"<HARDWARE><MEMORY>{text}</MEMORY></HARDWARE>")
    assert message.computer_fields["memory"] is None


def test_the_largest_64_bit_number_is_accepted():
    message = inventory(f"<DRIVES><FREE>{2**63 - 1}</FREE></DRIVES>")
    assert message.sections["drives"][0]["free"] == 2**63 - 1


def test_checksum_gives_the_changed_sections():
    assert inventory("<HARDWARE><CHECKSUM>513</CHECKSUM></HARDWARE>").changed_bits == 513


def test_a_missing_checksum_means_everything_changed():
    assert inventory("<HARDWARE><NAME>pc</NAME></HARDWARE>").changed_bits is None
    assert inventory("<BIOS><SSN>1</SSN></BIOS>").changed_bits is None


# ---------------------------------------------------------------- fields and sections


def test_unknown_fields_are_kept_in_extra():
    message = inventory("<CPUS><NAME>cpu</NAME><FAMILYNUMBER>25</FAMILYNUMBER><STEPPING>0</STEPPING></CPUS>")
    row = message.sections["cpus"][0]
    assert row["name"] == "cpu"
    assert row["extra"] == {"FAMILYNUMBER": "25", "STEPPING": "0"}


def test_unknown_sections_are_kept_in_other_sections():
    message = inventory(
        "<ENVS><KEY>LANG</KEY><VAL>C</VAL></ENVS><ENVS><KEY>HOME</KEY><VAL>/root</VAL></ENVS>"
        "<FIREWALL><STATUS>on</STATUS></FIREWALL>"
    )
    assert message.other_sections == {
        "ENVS": [{"KEY": "LANG", "VAL": "C"}, {"KEY": "HOME", "VAL": "/root"}],
        "FIREWALL": [{"STATUS": "on"}],
    }


def test_nested_values_and_text_of_unknown_sections_are_kept():
    message = inventory(
        "<OPERATINGSYSTEM><NAME>Debian</NAME><TIMEZONE><NAME>CET</NAME><OFFSET>+0100</OFFSET></TIMEZONE>"
        "</OPERATINGSYSTEM><VERSIONCLIENT>FusionInventory-Agent_v2.6-3</VERSIONCLIENT>"
    )
    assert message.other_sections == {
        "OPERATINGSYSTEM": [{"NAME": "Debian", "TIMEZONE": [{"NAME": "CET", "OFFSET": "+0100"}]}],
        "VERSIONCLIENT": [{"content": "FusionInventory-Agent_v2.6-3"}],
    }


def test_fusioninventory_names_are_aliases_of_the_ocs_names():
    message = inventory(
        "<SOFTWARES><NAME>bash</NAME><ARCH>amd64</ARCH><SOURCE>deb</SOURCE></SOFTWARES>"
        "<CPUS><CORE>4</CORE><THREAD>2</THREAD><ARCH>x86_64</ARCH></CPUS>"
    )
    software = message.sections["software"][0]
    assert (software["architecture"], software["source"], software["extra"]) == ("amd64", "deb", {})
    cpu = message.sections["cpus"][0]
    assert (cpu["cores"], cpu["threads"], cpu["architecture"], cpu["extra"]) == ("4", "2", "x86_64", {})


def test_the_ocs_name_wins_over_its_alias_in_any_order():
    for content in (
        "<SOFTWARES><ARCH>alias</ARCH><ARCHITECTURE>canonical</ARCHITECTURE></SOFTWARES>",
        "<SOFTWARES><ARCHITECTURE>canonical</ARCHITECTURE><ARCH>alias</ARCH></SOFTWARES>",
    ):
        assert inventory(content).sections["software"][0]["architecture"] == "canonical"


def test_fields_given_as_attributes_are_read_like_children():
    message = read((DATA / "mixed-attributes-inventory.xml").read_bytes())
    assert isinstance(message, Inventory)
    assert message.device_id == "mixed-2025-06-01-12-00-00"
    assert message.computer_fields["name"] == "mixed"
    assert message.computer_fields["memory"] == 2048
    assert message.computer_fields["swap"] == 1024
    assert [(d["mount_point"], d["free"]) for d in message.sections["drives"]] == [
        ("/", 1000),
        ("/boot", 200),
    ]
    assert message.package_history == [1700000003, 1700000004]


def test_a_single_section_sent_twice_keeps_the_first():
    message = inventory("<HARDWARE><NAME>first</NAME></HARDWARE><HARDWARE><NAME>second</NAME></HARDWARE>")
    assert message.sections["hardware"] == [{"name": "first", "extra": {}}]


def test_an_empty_section_is_one_empty_row():
    assert inventory("<BIOS></BIOS>").sections["bios"] == [{"extra": {}}]


def test_a_section_with_more_rows_than_the_limit_is_refused_with_413():
    content = "<SOFTWARES><NAME>x</NAME></SOFTWARES>" * 11
    document = (
        f"<REQUEST><CONTENT>{content}</CONTENT><DEVICEID>{DEVICE}</DEVICEID>"
        "<QUERY>INVENTORY</QUERY></REQUEST>"
    ).encode()
    root = parse_xml(document)
    assert len(read_request(root, Limits(max_rows_per_section=11)).sections["software"]) == 11  # type: ignore[union-attr]
    with pytest.raises(TooLargeError):
        read_request(root, Limits(max_rows_per_section=10))


def test_every_section_of_the_table_is_read_under_its_name():
    content = "".join(
        f"<{spec.tag}><{spec.fields[0].tag}>1</{spec.fields[0].tag}></{spec.tag}>" for spec in SECTIONS
    )
    message = inventory(content)
    assert set(message.sections) == {spec.name for spec in SECTIONS}


# ---------------------------------------------------------------- account info, history, OLD_DEVICEID


def test_account_info_pairs_are_read_in_order():
    message = inventory(
        "<ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>LAB</KEYVALUE></ACCOUNTINFO>"
        "<ACCOUNTINFO><KEYNAME>fields_3</KEYNAME><KEYVALUE></KEYVALUE></ACCOUNTINFO>"
        "<ACCOUNTINFO><KEYVALUE>no name</KEYVALUE></ACCOUNTINFO>"
    )
    assert message.account_info == [("TAG", "LAB"), ("fields_3", "")]


def test_the_package_history_lists_numeric_ids_only():
    message = inventory(
        '<DOWNLOAD><HISTORY><PACKAGE ID="1700000001"/><PACKAGE><ID>1700000002</ID></PACKAGE>'
        '<PACKAGE ID="../../etc"/><PACKAGE/></HISTORY></DOWNLOAD>'
    )
    assert message.package_history == [1700000001, 1700000002]


def test_an_empty_history_is_an_empty_list_and_no_download_section_is_none():
    assert inventory("<DOWNLOAD><HISTORY></HISTORY></DOWNLOAD>").package_history == []
    assert inventory("<HARDWARE/>").package_history is None


def test_old_device_id_is_found_where_the_windows_agent_puts_it():
    message = read((DATA / "windows-agent-2.11-inventory.xml").read_bytes())
    assert isinstance(message, Inventory)
    assert message.old_device_id == "WIN10-PC-2024-01-15-08-30-00"
    assert message.package_history == [1700000001, 1700000002]


def test_old_device_id_is_found_directly_under_content():
    message = inventory("<OLD_DEVICEID>old-2020-01-01-00-00-00</OLD_DEVICEID>")
    assert message.old_device_id == "old-2020-01-01-00-00-00"


def test_an_old_device_id_equal_to_the_device_id_is_ignored():
    assert inventory(f"<OLD_DEVICEID>{DEVICE}</OLD_DEVICEID>").old_device_id is None


def test_discovered_hosts_are_read():
    message = inventory(
        "<IPDISCOVER><H><I>192.0.2.10</I><M>00:11:22:33:44:55</M><N>printer</N></H>"
        "<H><I>192.0.2.11</I><M>00:11:22:33:44:56</M><N>-</N></H></IPDISCOVER>"
    )
    assert [(h.ip, h.mac, h.name) for h in message.discovered_hosts or []] == [
        ("192.0.2.10", "00:11:22:33:44:55", "printer"),
        ("192.0.2.11", "00:11:22:33:44:56", "-"),
    ]


# ---------------------------------------------------------------- replies (protocol.md §4.2, §6.2)


def test_a_contact_reply_names_each_option_in_a_child_element():
    reply = ContactReply(
        send=True,
        prolog_freq=12,
        inventory_on_startup=0,
        options=(
            ReplyOption("DOWNLOAD", (OptionParam({"TYPE": "CONF", "ON": "1", "TIMEOUT": "30"}),)),
            ReplyOption("IPDISCOVER", (OptionParam({"IPDISC_LAT": "100"}, "192.168.1.0"),)),
        ),
    )
    root = parse_xml(reply.to_xml())
    assert root.tag == "REPLY"
    assert (root.value("RESPONSE"), root.value("PROLOG_FREQ"), root.value("INVENTORY_ON_STARTUP")) == (
        "SEND",
        "12",
        "0",
    )
    options = root.find_all("OPTION")
    assert [option.find("NAME").text for option in options] == ["DOWNLOAD", "IPDISCOVER"]  # type: ignore[union-attr]
    assert all("NAME" not in option.attrib for option in options)
    download, ipdiscover = (option.find("PARAM") for option in options)
    assert download is not None and ipdiscover is not None
    assert download.attrib == {"TYPE": "CONF", "ON": "1", "TIMEOUT": "30"}
    assert (ipdiscover.attrib, ipdiscover.text) == ({"IPDISC_LAT": "100"}, "192.168.1.0")


def test_a_stop_reply_says_stop():
    assert parse_xml(ContactReply(False, 24, 1).to_xml()).value("RESPONSE") == "STOP"


def test_an_inventory_reply_without_pairs_is_no_account_update():
    root = parse_xml(InventoryReply().to_xml())
    assert root.fields() == {"RESPONSE": "NO_ACCOUNT_UPDATE"}


def test_an_account_update_carries_every_pair():
    root = parse_xml(InventoryReply((("TAG", "FROM_SERVER"), ("fields_3", "<b>&"))).to_xml())
    assert root.value("RESPONSE") == "ACCOUNT_UPDATE"
    pairs = [(node.value("KEYNAME"), node.value("KEYVALUE")) for node in root.find_all("ACCOUNTINFO")]
    assert pairs == [("TAG", "FROM_SERVER"), ("fields_3", "<b>&")]


def test_an_update_reply_is_no_update():
    assert parse_xml(no_update_reply()).fields() == {"RESPONSE": "NO_UPDATE"}


# ---------------------------------------------------------------- properties

_TEXT_FIELDS = [
    (spec.tag, field.tag, field.name)
    for spec in SECTIONS
    for field in spec.fields
    if field.kind == "text" and field.tag not in {alias for f in spec.fields for alias in f.aliases}
]
_XML_CHARS = st.characters(codec="utf-8", exclude_characters="\ufffe\uffff", min_codepoint=0x20)


@given(
    st.sampled_from(_TEXT_FIELDS),
    st.text(st.one_of(_XML_CHARS, st.sampled_from("\t\n\r")), max_size=100).map(str.strip),
)
def test_any_text_field_value_round_trips_through_serialize_and_parse(where, value):
    section, tag, name = where
    request = Node(
        "REQUEST",
        children=[
            Node("CONTENT", children=[Node(section, children=[Node(tag, text=value)])]),
            Node("DEVICEID", text=DEVICE),
            Node("QUERY", text="INVENTORY"),
        ],
    )
    message = read_request(parse_xml(to_document(request)))
    assert isinstance(message, Inventory)
    spec = SECTIONS_BY_TAG[section]
    assert message.sections[spec.name][0][name] == value


_SAMPLE = (DATA / "windows-agent-2.11-inventory.xml").read_bytes()


def _mutations() -> st.SearchStrategy[bytes]:
    """Real payload bytes with a few bytes replaced, deleted or inserted."""

    def mutate(data: tuple[list[tuple[int, int, int]], bytes]) -> bytes:
        edits, _ = data
        body = bytearray(_SAMPLE)
        for position, byte, kind in edits:
            position %= len(body) + 1
            if kind == 0:
                body[position : position + 1] = bytes([byte])
            elif kind == 1:
                del body[position : position + 1]
            else:
                body[position:position] = bytes([byte])
        return bytes(body)

    edit = st.tuples(st.integers(0, len(_SAMPLE)), st.integers(0, 255), st.integers(0, 2))
    return st.tuples(st.lists(edit, min_size=1, max_size=8), st.just(b"")).map(mutate)


def _decode_parse_read(body: bytes) -> None:
    try:
        xml, _ = decode_body(body, try_others=True)
        read_request(parse_xml(xml))
    except ProtocolError:
        pass


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=2000), _mutations(), _mutations().map(zlib.compress)))
@example(b"<REQUEST/>")
@example(b"\x78\x9c")
@example(zlib.compress(b"<REQUEST><QUERY>INVENTORY</QUERY></REQUEST>"))
def test_any_bytes_are_a_message_or_a_protocol_error(body):
    _decode_parse_read(body)
