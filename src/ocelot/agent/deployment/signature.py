"""The Ed25519 signature Ocelot servers put on info files (design.md §6, protocol/info_file.py).

The server publishes its public key as ``package-signing.pem`` beside ``cacert.pem``. The
agent knows it when that file is in its state directory or beside its ``--ca`` file. When
it knows a key, an info file must carry a valid signature (a bad or missing one is
``ERR_BAD_SIGNATURE``, and nothing of the package is fetched or run); the signed bytes
are what is then parsed. Without a key (an OCS server), info files are taken as TLS gave
them. ``cryptography`` is optional on the agent: with a key but without it, the agent
cannot check and refuses, rather than run something unverified. The setting
``unsigned_packages`` (``--unsigned-packages``) lets unsigned info files through anyway
(issue 5: "a setting decides whether unsigned packages are refused").
"""

from __future__ import annotations

import logging
from pathlib import Path

from ocelot.protocol.errors import ProtocolError
from ocelot.protocol.info_file import split_signature

log = logging.getLogger(__name__)

PUBLIC_KEY_NAME = "package-signing.pem"


class SignatureError(Exception):
    """The info file's signature is bad, missing, or cannot be checked."""


def find_public_key(vardir: Path, ca_file: Path | None) -> Path | None:
    """The server's signing key as the agent pinned it: in the vardir, else beside the CA file."""
    for directory in (vardir, ca_file.parent if ca_file is not None else None):
        if directory is not None and (directory / PUBLIC_KEY_NAME).is_file():
            return directory / PUBLIC_KEY_NAME
    return None


def signed_content(data: bytes, public_key_pem: bytes | None, *, accept_unsigned: bool = False) -> bytes:
    """The bytes to parse: the verified signed part when a key is known, else the file as is.

    ``accept_unsigned`` (``--unsigned-packages``) lets an info file without any signature
    through even with a key; a signature that is there must still be good.
    """
    if public_key_pem is None:
        return data
    try:
        signed, signature = split_signature(data)
    except ProtocolError as exc:
        if accept_unsigned and exc.reason == "info_unsigned":
            log.warning("an unsigned info file is accepted (--unsigned-packages)")
            return data
        raise SignatureError(f"the info file is not signed ({exc})") from exc
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
    except ImportError as exc:
        raise SignatureError("a signing key is configured but cryptography is not installed") from exc
    try:
        key = load_pem_public_key(public_key_pem)
    except ValueError as exc:
        raise SignatureError(f"the configured signing key is unusable: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError("the configured signing key is not an Ed25519 key")
    try:
        key.verify(signature, signed)
    except InvalidSignature as exc:
        raise SignatureError("the info file's signature does not match the server's key") from exc
    return signed
