"""Hostile inputs shared by the wire-format and endpoint tests (security.md §5, T01-T08)."""

from __future__ import annotations

import zlib

MiB = 1024 * 1024

# T08: SQL metacharacters, markup and Unicode tricks. Every value is stored verbatim.
HOSTILE_TEXTS = (
    "' OR '1'='1",
    'x"); DROP TABLE inventory_computer;--',
    "\\'; /* */ %00 \\x00",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{7*7}} ${7*7} `id` $(reboot)",
    "\u2018q\u2019 \u201cq\u201d \u202eevil\u202c caf\u00e9 \u65e5\u672c \U0001f600",
    '=HYPERLINK("http://x") & | %s',
)
# Short enough, with a label, for the 255-character columns (names, serials, addresses).
assert len(" ".join(HOSTILE_TEXTS)) < 220


def hostile_text(label: str) -> str:
    """One string holding every hostile sample, tagged with ``label`` so rows are told apart."""
    return f"{label} " + " ".join(HOSTILE_TEXTS)


def zeros_bomb(size: int) -> bytes:
    """A valid zlib stream of ``size`` zero bytes (a multiple of 1 MiB), built in milliseconds.

    Each 1 MiB segment is compressed by a fresh raw-deflate compressor and ended with a full
    flush, so it references nothing before it and can be repeated; the Adler-32 of n zeros is
    (n mod 65521) << 16 | 1. 1 GiB of zeros takes about 1 MiB.
    """
    assert size % MiB == 0
    compressor = zlib.compressobj(wbits=-15)
    segment = compressor.compress(bytes(MiB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(wbits=-15).flush(zlib.Z_FINISH)
    adler = ((size % 65521) << 16) | 1
    return b"\x78\x9c" + segment * (size // MiB) + final + adler.to_bytes(4, "big")


def billion_laughs() -> bytes:
    """The classic entity expansion: ten levels of ten references."""
    entities = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    doctype = f'<!DOCTYPE REQUEST [<!ENTITY l0 "lol">{entities}]>'
    return f'<?xml version="1.0"?>{doctype}<REQUEST>&l9;</REQUEST>'.encode()
