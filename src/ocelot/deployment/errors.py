"""The deployment domain's exception family; each door maps it once (design.md §8)."""

from __future__ import annotations


class PackageError(Exception):
    """A package that cannot be built, found or changed; the message is safe to show."""


class PackageInputError(PackageError):
    """Build options that are not valid (name, priority, action, fragment size, ...)."""


class ArchiveError(PackageInputError):
    """An uploaded archive that is refused: not zip or tar.gz, corrupt, or hostile (security.md T25-T27)."""


class PackageNotFoundError(PackageError):
    """No package with that ID or name."""


class PackageStorageError(PackageError):
    """The package files could not be written (a full disk, a permission); nothing was kept."""


def storage_error(what: str, exc: OSError) -> PackageStorageError:
    """A one-line storage error: what failed and the system's reason (no path, no traceback)."""
    return PackageStorageError(f"{what}: {exc.strerror or exc}.")


class ActivationError(PackageInputError):
    """A location that is not ``host[:port]/path``, or an activation that does not exist."""


class ActivationCheckError(PackageError):
    """The files do not answer at the locations given; ``failures`` says which."""

    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        shown = "; ".join(failures[:5]) + (f"; and {len(failures) - 5} more" if len(failures) > 5 else "")
        super().__init__(f"The package files do not answer as expected: {shown}.")


class AssignmentError(PackageInputError):
    """Assignment options that are not valid (schedule, post-command, unknown computers or group)."""
