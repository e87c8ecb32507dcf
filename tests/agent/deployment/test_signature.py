"""The info file's Ed25519 signature as the agent checks it (signature.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ocelot.agent.deployment.signature import SignatureError, find_public_key, signed_content
from tests.agent.deployment.site import Pki, build


def test_the_key_is_found_in_the_vardir_first_then_beside_the_ca_file(tmp_path: Path, pki: Pki) -> None:
    vardir = tmp_path / "vardir"
    vardir.mkdir()
    assert find_public_key(vardir, None) is None
    assert find_public_key(vardir, pki.ca_file) == pki.ca_file.parent / "package-signing.pem"
    (vardir / "package-signing.pem").write_bytes(pki.public_key_pem)
    assert find_public_key(vardir, pki.ca_file) == vardir / "package-signing.pem"


def test_a_good_signature_gives_the_signed_bytes_and_any_change_is_refused(pki: Pki) -> None:
    info = build("1700000400", b"archive", signer=pki.signing_key).info
    signed = signed_content(info, pki.public_key_pem)
    assert b"OCELOT_SIGNATURE" not in signed and info.startswith(signed[: -len(b" />\n")])
    with pytest.raises(SignatureError):
        signed_content(info.replace(b'PRI="5"', b'PRI="0"'), pki.public_key_pem)
    with pytest.raises(SignatureError):
        signed_content(build("1700000400", b"archive").info, pki.public_key_pem)  # unsigned


def test_with_a_key_but_without_cryptography_the_agent_refuses(
    pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    # cryptography is optional on the agent: an import that fails is what a bare Python gives.
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.asymmetric.ed25519", None)
    info = build("1700000401", b"archive", signer=pki.signing_key).info
    with pytest.raises(SignatureError, match="cryptography is not installed"):
        signed_content(info, pki.public_key_pem)
    assert signed_content(info, None) == info  # no key pinned: nothing to check
