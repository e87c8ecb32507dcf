"""Body framing: zlib, gzip and plain XML in; the same framing out (protocol.md §1.3, security.md S1)."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocelot.protocol.codec import Framing, decode_body, encode_body
from ocelot.protocol.errors import ProtocolError, TooLargeError
from ocelot.protocol.limits import DEFAULT_LIMITS, Limits
from tests.protocol.hostile_payloads import MiB, zeros_bomb

XML = b'<?xml version="1.0" encoding="UTF-8"?>\n<REQUEST><QUERY>PROLOG</QUERY></REQUEST>\n'
DATA = Path(__file__).parents[1] / "data"


def test_the_bomb_builder_makes_a_valid_zlib_stream():
    assert zlib.decompress(zeros_bomb(3 * MiB)) == bytes(3 * MiB)


# ---------------------------------------------------------------- accepted framings


def test_a_zlib_body_is_inflated_and_reported_as_zlib():
    assert decode_body(zlib.compress(XML), try_others=False) == (XML, Framing.ZLIB)


@pytest.mark.parametrize("level", [1, 6, 9])
def test_a_zlib_body_is_accepted_at_any_compression_level(level):
    assert decode_body(zlib.compress(XML, level), try_others=False) == (XML, Framing.ZLIB)


def test_a_gzip_body_is_accepted_when_other_framings_are_tried():
    assert decode_body(gzip.compress(XML), try_others=True) == (XML, Framing.GZIP)


def test_a_plain_xml_body_is_accepted_when_other_framings_are_tried():
    assert decode_body(XML, try_others=True) == (XML, Framing.PLAIN)


def test_a_plain_body_starting_with_an_uppercase_declaration_is_xml():
    body = b'<?XML version="1.0"?><REQUEST/>'
    assert decode_body(body, try_others=True) == (body, Framing.PLAIN)


def test_a_gzip_body_is_refused_when_other_framings_are_off():
    with pytest.raises(ProtocolError) as caught:
        decode_body(gzip.compress(XML), try_others=False)
    assert caught.value.status == 400


def test_a_plain_body_is_refused_when_other_framings_are_off():
    with pytest.raises(ProtocolError) as caught:
        decode_body(XML, try_others=False)
    assert caught.value.status == 400


def test_raw_deflate_is_never_accepted():
    compressor = zlib.compressobj(wbits=-15)
    raw = compressor.compress(XML) + compressor.flush()
    for try_others in (False, True):
        with pytest.raises(ProtocolError):
            decode_body(raw, try_others=try_others)


# ---------------------------------------------------------------- reply framing


def test_a_zlib_reply_uses_the_default_level_that_fusioninventory_recognises():
    reply = encode_body(XML, Framing.ZLIB)
    assert reply[:2] == b"\x78\x9c"
    assert zlib.decompress(reply) == XML


def test_a_gzip_reply_is_gzip():
    reply = encode_body(XML, Framing.GZIP)
    assert reply[:3] == b"\x1f\x8b\x08"
    assert gzip.decompress(reply) == XML


def test_a_plain_reply_is_the_xml_itself():
    assert encode_body(XML, Framing.PLAIN) == XML


@pytest.mark.parametrize("framing", list(Framing))
def test_every_framing_round_trips(framing):
    assert decode_body(encode_body(XML, framing), try_others=True) == (XML, framing)


@given(st.binary(max_size=4096))
def test_any_xml_bytes_round_trip_through_zlib(data):
    assert decode_body(encode_body(b"<" + data, Framing.ZLIB), try_others=False) == (
        b"<" + data,
        Framing.ZLIB,
    )


# ---------------------------------------------------------------- malformed framing (T05)


def test_an_empty_body_is_refused():
    with pytest.raises(ProtocolError) as caught:
        decode_body(b"", try_others=True)
    assert (caught.value.reason, caught.value.status) == ("empty_body", 400)


def test_a_body_that_is_neither_zlib_gzip_nor_xml_is_refused():
    with pytest.raises(ProtocolError) as caught:
        decode_body(b"hello, server", try_others=True)
    assert caught.value.status == 400


def test_a_truncated_zlib_body_is_refused():
    body = zlib.compress(XML * 50)
    with pytest.raises(ProtocolError) as caught:
        decode_body(body[: len(body) // 2], try_others=False)
    assert caught.value.status == 400


def test_a_zlib_body_with_a_bad_checksum_is_refused():
    body = bytearray(zlib.compress(XML))
    body[-1] ^= 0xFF
    with pytest.raises(ProtocolError) as caught:
        decode_body(bytes(body), try_others=False)
    assert caught.value.status == 400


def test_a_zlib_body_with_trailing_garbage_is_refused():
    with pytest.raises(ProtocolError) as caught:
        decode_body(zlib.compress(XML) + b"GARBAGE", try_others=False)
    assert caught.value.reason == "trailing_data"


def test_trailing_garbage_after_a_body_larger_than_one_inflate_step_is_refused_at_once():
    # Regression: the inflate loop fed the trailing bytes to zlib again and again, forever.
    body = (DATA / "unix-agent-2.10-inventory.xml").read_bytes()
    for garbage in (b"trailing", b"\x78\x9c" + zlib.compress(b"<A/>")):
        with pytest.raises(ProtocolError) as caught:
            decode_body(zlib.compress(body) + garbage, try_others=False)
        assert caught.value.reason == "trailing_data"
    with pytest.raises(ProtocolError):
        decode_body(gzip.compress(body) + b"trailing", try_others=True)


def test_line_ends_and_nuls_after_a_stream_are_tolerated():
    body = (DATA / "unix-agent-2.10-inventory.xml").read_bytes()
    assert decode_body(zlib.compress(body) + b"\r\n", try_others=False) == (body, Framing.ZLIB)


def test_a_truncated_gzip_body_is_refused():
    body = gzip.compress(XML * 50)
    with pytest.raises(ProtocolError):
        decode_body(body[: len(body) // 2], try_others=True)


# ---------------------------------------------------------------- bounds (T01, T02)


def test_a_body_over_the_size_limit_is_refused_with_413():
    limits = Limits(max_body=1000)
    with pytest.raises(TooLargeError) as caught:
        decode_body(b"<" + b" " * 1000, try_others=True, limits=limits)
    assert caught.value.status == 413


def test_a_zlib_bomb_of_one_gibibyte_is_stopped_early_with_little_memory():
    bomb = zeros_bomb(1024 * MiB)
    assert len(bomb) < 2 * MiB
    tracemalloc.start()
    try:
        with pytest.raises(TooLargeError) as caught:
            decode_body(bomb, try_others=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.status == 413
    assert peak < 4 * DEFAULT_LIMITS.max_inflated


def test_an_implausible_compression_ratio_is_refused_before_the_absolute_cap():
    with pytest.raises(TooLargeError) as caught:
        decode_body(zeros_bomb(16 * MiB), try_others=False)
    assert caught.value.reason == "compression_ratio"


def test_an_inflated_body_over_the_cap_is_refused_even_at_a_plausible_ratio():
    limits = Limits(max_inflated=64 * 1024, max_ratio=10**6)
    with pytest.raises(TooLargeError) as caught:
        decode_body(zlib.compress(XML * 2000), try_others=False, limits=limits)
    assert caught.value.reason == "inflated_too_large"


def test_a_gzip_bomb_is_stopped_too():
    payload = gzip.compress(bytes(8 * MiB))
    with pytest.raises(TooLargeError):
        decode_body(payload, try_others=True)


def test_a_real_inventory_is_well_within_the_ratio_cap():
    unix_inventory_xml = (DATA / "unix-agent-2.10-inventory.xml").read_bytes()
    body = zlib.compress(unix_inventory_xml)
    assert decode_body(body, try_others=False) == (unix_inventory_xml, Framing.ZLIB)
