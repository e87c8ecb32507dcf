"""Where package files live under ``$OCELOT_HOME`` (design.md §4, protocol.md §8.1).

``packages/download/<ID>/`` holds what agents fetch (``info`` and ``<ID>-<n>``): the
embedded server serves it at ``/download/``, and in production nginx or any static web
server can serve the same tree. ``packages/staging/`` is where a build writes before it
publishes with one rename, on the same file system, so no web server ever sees half a
package. Neither is inside an executable web root (security.md S15).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


@dataclass(frozen=True)
class PackageStore:
    """The package directories and the signing key's location."""

    root: Path
    pki_dir: Path
    public_dir: Path

    @property
    def download_dir(self) -> Path:
        return self.root / "download"

    @property
    def staging_dir(self) -> Path:
        return self.root / "staging"

    def package_dir(self, package_id: int) -> Path:
        return self.download_dir / str(package_id)


def default_store() -> PackageStore:
    """The store of this server's home directory."""
    config = settings.CONFIG
    return PackageStore(root=config.package_dir, pki_dir=config.pki_dir, public_dir=config.public_dir)
