"""Body framing: zlib (RFC 1950), gzip (RFC 1952) or plain XML, with bounded inflation.

protocol.md §1.3: agents compress with the zlib stream format; the Unix agent falls back
to gzip, then to plain text; OCS accepts the fallbacks only when COMPRESS_TRY_OTHERS is
on, and answers in the format the request used, with zlib at its *default* level
(FusionInventory recognises replies by the bytes ``78 9C``; level 9 gives ``78 DA``).
"""

from __future__ import annotations

import enum
import zlib

from ocelot.protocol.errors import ProtocolError, TooLargeError
from ocelot.protocol.limits import DEFAULT_LIMITS, Limits

_CHUNK = 256 * 1024


class Framing(enum.Enum):
    """How a body was (or will be) framed on the wire."""

    ZLIB = "zlib"
    GZIP = "gzip"
    PLAIN = "plain"


def _inflate(body: bytes, wbits: int, limits: Limits) -> bytes:
    """Inflate with ``max_length`` so that no bomb ever allocates past the caps."""
    inflater = zlib.decompressobj(wbits)
    out = bytearray()
    data = body
    # Stop at the end of the stream: when the last call was cut by max_length, CPython
    # leaves the bytes after the stream in unconsumed_tail as well as in unused_data, and
    # feeding them again would loop forever (trailing garbage after a large body).
    while data and not inflater.eof:
        chunk = inflater.decompress(data, _CHUNK)
        out += chunk
        _check_inflated(len(out), len(body), limits)
        if not chunk and len(inflater.unconsumed_tail) == len(data):
            break  # no progress: never spin
        data = inflater.unconsumed_tail
    # Drain what zlib still buffers (it may hold output without unconsumed input).
    while not inflater.eof:
        chunk = inflater.decompress(b"", _CHUNK)
        if not chunk:
            break
        out += chunk
        _check_inflated(len(out), len(body), limits)
    if not inflater.eof:
        raise ProtocolError("truncated", "the compressed body is truncated")
    if inflater.unused_data.strip(b"\r\n\x00"):
        raise ProtocolError("trailing_data", "the compressed body has trailing data")
    return bytes(out)


def _check_inflated(size: int, compressed: int, limits: Limits) -> None:
    if size > limits.max_inflated:
        raise TooLargeError("inflated_too_large", "the inflated body exceeds the size limit")
    if size > 1024 * 1024 and size > compressed * limits.max_ratio:
        raise TooLargeError("compression_ratio", "the body's compression ratio is implausible")


def _looks_like_xml(body: bytes) -> bool:
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:5]
    return head.lower() == b"<?xml" or head[:1] == b"<"


def decode_body(body: bytes, *, try_others: bool, limits: Limits = DEFAULT_LIMITS) -> tuple[bytes, Framing]:
    """Return the XML bytes of a request body and the framing it used.

    Raises ProtocolError (400) for anything that is not a well-formed body and
    TooLargeError (413) for anything over a limit.
    """
    if not body:
        raise ProtocolError("empty_body", "the request body is empty")
    if len(body) > limits.max_body:
        raise TooLargeError("body_too_large", "the request body exceeds the size limit")
    # zlib: CMF 0x78 (deflate, 32K window) and a header checksum that divides by 31.
    if len(body) >= 2 and body[0] & 0x0F == 8 and (body[0] << 8 | body[1]) % 31 == 0:
        try:
            return _inflate(body, zlib.MAX_WBITS, limits), Framing.ZLIB
        except zlib.error as exc:
            raise ProtocolError("bad_zlib", "the body is not a valid zlib stream") from exc
    if not try_others:
        raise ProtocolError("not_zlib", "the body is not zlib-compressed")
    if body[:2] == b"\x1f\x8b":
        try:
            return _inflate(body, 16 + zlib.MAX_WBITS, limits), Framing.GZIP
        except zlib.error as exc:
            raise ProtocolError("bad_gzip", "the body is not a valid gzip stream") from exc
    if _looks_like_xml(body):
        return body, Framing.PLAIN
    raise ProtocolError("unknown_framing", "the body is neither zlib, gzip nor XML")


def encode_body(xml: bytes, framing: Framing) -> bytes:
    """Frame a reply like the request was framed (zlib at the default level)."""
    if framing is Framing.ZLIB:
        return zlib.compress(xml)
    if framing is Framing.GZIP:
        import gzip

        return gzip.compress(xml, mtime=0)
    return xml
