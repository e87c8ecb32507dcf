"""The package signing key: Ed25519, created at install, public half published to agents.

design.md §6 and security.md S7: Ocelot agents verify an Ed25519 signature over the info
file, independently of TLS. The private key lives beside the CA key (mode 0600); the public
key is published beside ``cacert.pem`` as ``package-signing.pem`` so agents can pin it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PRIVATE_KEY_NAME = "package-signing.key"
PUBLIC_KEY_NAME = "package-signing.pem"


def write_private(path: Path, data: bytes) -> None:
    """Write a secret (a private key) atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id(key: Ed25519PublicKey) -> str:
    """A short stable name for a public key: the first 16 hex digits of SHA-256 of its raw bytes."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def ensure_signing_key(pki_dir: Path, public_dir: Path) -> bool:
    """Create the signing key if missing and (re)publish its public key; True when created."""
    private_path = pki_dir / PRIVATE_KEY_NAME
    created = False
    if not private_path.exists():
        key = Ed25519PrivateKey.generate()
        write_private(
            private_path,
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        created = True
    key = load_signing_key(pki_dir)
    public_dir.mkdir(parents=True, exist_ok=True)
    public_path = public_dir / PUBLIC_KEY_NAME
    pem = public_key_pem(key.public_key())
    if not public_path.exists() or public_path.read_bytes() != pem:
        tmp = public_path.with_suffix(".tmp")
        tmp.write_bytes(pem)
        os.replace(tmp, public_path)
    return created


def load_signing_key(pki_dir: Path) -> Ed25519PrivateKey:
    """The private signing key from the PKI directory."""
    key = serialization.load_pem_private_key((pki_dir / PRIVATE_KEY_NAME).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{pki_dir / PRIVATE_KEY_NAME} is not an Ed25519 key")
    return key


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def verify(public_key: Ed25519PublicKey, data: bytes, signature: bytes) -> bool:
    """True when ``signature`` is the key's signature of ``data``."""
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
