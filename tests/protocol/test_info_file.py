"""The ``info`` file: OCS's exact one-line format, Ocelot's extra attributes and the signature envelope."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocelot.protocol.errors import ProtocolError
from ocelot.protocol.info_file import (
    FragmentDigest,
    InfoFile,
    attach_signature,
    escape_attribute,
    ocs_info_file,
    parse_info_file,
    split_signature,
    unsigned_info_file,
)

EXECUTE = InfoFile(
    package_id=1700000001,
    priority=5,
    action="EXECUTE",
    md5="9e107d9d372bb6826bd81d3542a419d6",
    protocol="HTTP",
    fragment_count=2,
    argument="sh bashscript.sh",
)

FRAGMENT_1 = "a" * 64
FRAGMENT_2 = "b" * 64
WHOLE = "c" * 64


def test_an_execute_info_file_is_byte_for_byte_the_one_ocsreports_writes() -> None:
    # protocol.md §8.2, PackageBuilder.php writePackageInfo.
    assert ocs_info_file(EXECUTE) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<DOWNLOAD ID="1700000001" PRI="5" ACT="EXECUTE" DIGEST="9e107d9d372bb6826bd81d3542a419d6" '
        b'PROTO="HTTP" FRAGS="2" DIGEST_ALGO="MD5" DIGEST_ENCODE="Hexa" COMMAND="sh bashscript.sh" '
        b'NOTIFY_USER="0" NOTIFY_TEXT="" NOTIFY_COUNTDOWN="" NOTIFY_CAN_ABORT="0" NOTIFY_CAN_DELAY="0" '
        b'NEED_DONE_ACTION="0" NEED_DONE_ACTION_TEXT="" GARDEFOU="rien" />\n'
    )


def test_launch_carries_name_and_store_carries_path_with_the_notification_attributes() -> None:
    launch = InfoFile(
        package_id=1700000002,
        priority=0,
        action="LAUNCH",
        md5="0" * 32,
        protocol="HTTPS",
        fragment_count=1,
        argument="setup.exe /S",
        notify_user=True,
        notify_text="Installing",
        notify_countdown=120,
        notify_can_abort=True,
        notify_can_delay=True,
        need_done_action=True,
        need_done_action_text="Reboot",
    )
    assert ocs_info_file(launch) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<DOWNLOAD ID="1700000002" PRI="0" ACT="LAUNCH" DIGEST="00000000000000000000000000000000" '
        b'PROTO="HTTPS" FRAGS="1" DIGEST_ALGO="MD5" DIGEST_ENCODE="Hexa" NAME="setup.exe /S" '
        b'NOTIFY_USER="1" NOTIFY_TEXT="Installing" NOTIFY_COUNTDOWN="120" NOTIFY_CAN_ABORT="1" '
        b'NOTIFY_CAN_DELAY="1" NEED_DONE_ACTION="1" NEED_DONE_ACTION_TEXT="Reboot" GARDEFOU="rien" />\n'
    )
    store = InfoFile(1700000003, 10, "STORE", "1" * 32, "HTTP", 1, r"C:\logiciels\Putty")
    assert b' PATH="C:\\logiciels\\Putty" NOTIFY_USER="0" ' in ocs_info_file(store)
    assert b"NAME=" not in ocs_info_file(store)
    assert b"COMMAND=" not in ocs_info_file(store)


def test_ocelot_attributes_follow_gardefou_and_the_signature_comes_last() -> None:
    info = InfoFile(
        **{
            **EXECUTE.__dict__,
            "size": 10,
            "sha256": WHOLE,
            "fragments": (FragmentDigest(4, FRAGMENT_1), FragmentDigest(6, FRAGMENT_2)),
            "key_id": "0123456789abcdef",
        }
    )
    unsigned = unsigned_info_file(info)
    assert (
        unsigned
        == ocs_info_file(EXECUTE)[: -len(b" />\n")]
        + (
            f' OCELOT_SIZE="10" OCELOT_SHA256="{WHOLE}" OCELOT_FRAGMENTS="4:{FRAGMENT_1} 6:{FRAGMENT_2}" '
            'OCELOT_KEY_ID="0123456789abcdef" />\n'
        ).encode()
    )
    signed = attach_signature(unsigned, b"\x01" * 64)
    encoded = base64.b64encode(b"\x01" * 64).decode()
    assert signed == unsigned[: -len(b" />\n")] + f' OCELOT_SIGNATURE="{encoded}" />\n'.encode()
    assert split_signature(signed) == (unsigned, b"\x01" * 64)
    assert parse_info_file(signed) == info


def test_a_file_without_signature_is_reported_as_unsigned() -> None:
    with pytest.raises(ProtocolError) as caught:
        split_signature(ocs_info_file(EXECUTE))
    assert caught.value.reason == "info_unsigned"


def test_quotes_and_markup_in_texts_round_trip_and_never_add_an_attribute() -> None:
    hostile = 'a "quoted" <b> & \'single\'\nline\ttab\r " ACT="STORE" PATH="/etc'
    info = InfoFile(**{**EXECUTE.__dict__, "notify_text": hostile, "argument": hostile})
    data = ocs_info_file(info)
    assert data.count(b"\n") == 2  # declaration line, element line
    assert data.count(b' ACT="') == 1
    parsed = parse_info_file(data)
    assert (parsed.notify_text, parsed.argument, parsed.action) == (hostile, hostile, "EXECUTE")


def test_characters_xml_cannot_carry_are_refused_rather_than_dropped() -> None:
    with pytest.raises(ValueError):
        escape_attribute("bell\x07")


@pytest.mark.parametrize(
    "data",
    [
        b"<OTHER />",
        b'<DOWNLOAD ID="x" PRI="5" ACT="EXECUTE" PROTO="HTTP" FRAGS="0" />',
        b'<DOWNLOAD ID="1" PRI="5" ACT="RUN" PROTO="HTTP" FRAGS="0" />',
        b'<DOWNLOAD ID="1" PRI="5" ACT="EXECUTE" PROTO="FTP" FRAGS="0" />',
        b'<DOWNLOAD ID="1" PRI="5" ACT="EXECUTE" PROTO="HTTP" FRAGS="99999999" />',
        b'<DOWNLOAD ID="1" PRI="5" ACT="EXECUTE" PROTO="HTTP" FRAGS="1" OCELOT_FRAGMENTS="12:xyz" />',
        b'<!DOCTYPE x [<!ENTITY e "e">]><DOWNLOAD ID="1" />',
        b'<DOWNLOAD ID="1"><DOWNLOAD /></DOWNLOAD>',
    ],
    ids=["root", "id", "action", "protocol", "fragment count", "fragment list", "doctype", "nested"],
)
def test_malformed_info_files_are_refused(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_info_file(data)


_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60).filter(
    lambda text: (
        not any(ord(char) < 32 and char not in "\t\n\r" for char in text)
        and "\ufffe" not in text
        and "\uffff" not in text
    )
)


@settings(max_examples=150, deadline=None)
@given(
    argument=_text,
    notify_text=_text,
    done_text=_text,
    action=st.sampled_from(["LAUNCH", "EXECUTE", "STORE"]),
    priority=st.integers(0, 10),
    countdown=st.none() | st.integers(0, 86400),
    signature=st.binary(min_size=64, max_size=64),
)
def test_any_field_values_serialize_and_parse_back_identically(
    argument: str,
    notify_text: str,
    done_text: str,
    action: str,
    priority: int,
    countdown: int | None,
    signature: bytes,
) -> None:
    info = InfoFile(
        package_id=1700000009,
        priority=priority,
        action=action,
        md5="d" * 32,
        protocol="HTTP",
        fragment_count=1,
        argument=argument,
        notify_user=True,
        notify_text=notify_text,
        notify_countdown=countdown,
        need_done_action_text=done_text,
        size=5,
        sha256=WHOLE,
        fragments=(FragmentDigest(5, FRAGMENT_1),),
        key_id="k",
    )
    signed = attach_signature(unsigned_info_file(info), signature)
    assert split_signature(signed) == (unsigned_info_file(info), signature)
    assert parse_info_file(signed) == info
