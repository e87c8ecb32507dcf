"""The package signing key: created once at install, private mode 0600, public key beside cacert.pem."""

from __future__ import annotations

from pathlib import Path

from ocelot.deployment.signing import (
    PUBLIC_KEY_NAME,
    ensure_signing_key,
    key_id,
    load_public_key,
    load_signing_key,
    verify,
)
from ocelot.server.pki import ensure_pki


def test_the_key_is_created_once_private_and_its_public_half_published(tmp_path: Path) -> None:
    pki, public = tmp_path / "pki", tmp_path / "public"
    assert ensure_signing_key(pki, public) is True
    key = load_signing_key(pki)
    assert (pki / "package-signing.key").stat().st_mode & 0o777 == 0o600
    published = load_public_key((public / PUBLIC_KEY_NAME).read_bytes())
    assert key_id(published) == key_id(key.public_key())
    assert ensure_signing_key(pki, public) is False
    assert key_id(load_signing_key(pki).public_key()) == key_id(published)


def test_a_signature_verifies_with_the_published_key_and_fails_on_any_change(tmp_path: Path) -> None:
    ensure_signing_key(tmp_path / "pki", tmp_path / "public")
    key = load_signing_key(tmp_path / "pki")
    published = load_public_key((tmp_path / "public" / PUBLIC_KEY_NAME).read_bytes())
    signature = key.sign(b"message")
    assert verify(published, b"message", signature)
    assert not verify(published, b"messagE", signature)


def test_installing_the_server_creates_the_signing_key_beside_the_ca(tmp_path: Path) -> None:
    pki, public = tmp_path / "pki", tmp_path / "public"
    ensure_pki(pki, public, names=["localhost"])
    assert sorted(path.name for path in public.iterdir()) == ["cacert.pem", PUBLIC_KEY_NAME]
    assert (pki / "package-signing.key").exists()
