"""PROLOG replies kept encoded: the same bytes as encoding each reply, one entry per distinct reply."""

from __future__ import annotations

import gzip
import zlib

import pytest

from ocelot.protocol import reply_cache
from ocelot.protocol.codec import Framing, encode_body
from ocelot.protocol.messages import ContactReply, OptionParam, ReplyOption


def download(*packages: str, on: str = "1") -> ReplyOption:
    conf = OptionParam({"TYPE": "CONF", "ON": on, "TIMEOUT": "30"})
    packs = tuple(OptionParam({"TYPE": "PACK", "ID": package, "PRI": "5"}) for package in packages)
    return ReplyOption("DOWNLOAD", (conf, *packs))


def scan(subnet: str) -> ReplyOption:
    return ReplyOption("IPDISCOVER", (OptionParam({"IPDISC_LAT": "100"}, subnet),))


REPLIES = [
    ContactReply(False, 24, 1),
    ContactReply(True, 24, 1),
    ContactReply(False, 12, 1),
    ContactReply(False, 24, 0),
    ContactReply(False, 24, 1, (download(),)),
    ContactReply(False, 24, 1, (download(on="0"),)),
    ContactReply(False, 24, 1, (download("1700000001"),)),
    ContactReply(False, 24, 1, (download("1700000002"),)),
    ContactReply(False, 24, 1, (download("1700000001", "1700000002"),)),
    ContactReply(
        False, 24, 1, (ReplyOption("IPDISCOVER", (OptionParam({"IPDISC_LAT": "100"}, "10.0.0.0"),)),)
    ),
    ContactReply(
        False, 24, 1, (ReplyOption("IPDISCOVER", (OptionParam({"IPDISC_LAT": "100"}, "10.0.1.0"),)),)
    ),
]


@pytest.fixture(autouse=True)
def empty_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reply_cache, "_encoded", {})


@pytest.mark.parametrize("framing", list(Framing))
def test_every_reply_gets_the_bytes_encoding_it_gives_the_first_time_and_after(framing: Framing) -> None:
    for reply in REPLIES:
        expected = encode_body(reply.to_xml(), framing)
        assert reply_cache.encoded_contact_reply(reply, framing) == expected
        assert reply_cache.encoded_contact_reply(reply, framing) == expected


def test_distinct_replies_never_share_an_entry() -> None:
    bodies = {reply_cache.encoded_contact_reply(reply, Framing.ZLIB) for reply in REPLIES}
    assert len(bodies) == len(REPLIES)
    assert len(reply_cache._encoded) == len(REPLIES)


def test_the_framing_is_part_of_the_key() -> None:
    reply = REPLIES[4]
    assert zlib.decompress(reply_cache.encoded_contact_reply(reply, Framing.ZLIB)) == reply.to_xml()
    assert gzip.decompress(reply_cache.encoded_contact_reply(reply, Framing.GZIP)) == reply.to_xml()
    assert reply_cache.encoded_contact_reply(reply, Framing.PLAIN) == reply.to_xml()


def test_an_equal_reply_built_again_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    reply_cache.encoded_contact_reply(ContactReply(False, 24, 1, (download("1700000001"),)), Framing.ZLIB)
    calls: list[ContactReply] = []
    real = ContactReply.to_xml

    def counting(self: ContactReply) -> bytes:
        calls.append(self)
        return real(self)

    monkeypatch.setattr(ContactReply, "to_xml", counting)
    reply_cache.encoded_contact_reply(ContactReply(False, 24, 1, (download("1700000001"),)), Framing.ZLIB)
    assert calls == []


def test_the_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reply_cache, "MAX_REPLIES", 4)
    for frequency in range(10):
        reply = ContactReply(False, frequency, 1)
        assert zlib.decompress(reply_cache.encoded_contact_reply(reply, Framing.ZLIB)) == reply.to_xml()
        assert len(reply_cache._encoded) <= 4
