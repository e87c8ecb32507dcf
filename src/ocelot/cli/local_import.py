"""``ocelot import``: local inventory files through the agent endpoint's code path.

Output as the seed's Ocsinventory_local.pl prints it ("Importer l'inventaire ..."):
``OK for <file>`` or the reason per file, then the totals; the exit status is 1 when any
file failed. ``.ocs`` files may be zlib-compressed (Windows agent) or plain XML (Unix
agent, protocol.md §13); ``.xml`` files are plain.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ocelot.inventory.local_import import IngestError, ProtocolError, import_inventory
from ocelot.protocol.limits import DEFAULT_LIMITS


def _files(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(
                sorted(p for p in path.iterdir() if p.suffix.lower() in (".ocs", ".xml") and p.is_file())
            )
        else:
            found.append(path)
    return found


def import_file(path: Path) -> None:
    """Import one file or raise ProtocolError / IngestError / OSError."""
    with path.open("rb") as handle:
        data = handle.read(DEFAULT_LIMITS.max_body + 1)
    import_inventory(data)


def run(paths: list[str]) -> int:
    ok = errors = 0
    for path in _files(paths):
        try:
            import_file(path)
        except (ProtocolError, IngestError) as exc:
            errors += 1
            print(f"ERROR for {path.name}: {exc}")
        except OSError as exc:
            errors += 1
            print(f"ERROR for {path.name}: {exc.strerror or exc}")
        else:
            ok += 1
            print(f"OK for {path.name}")
    print("-----")
    print(f"Successfully inventoried : {ok}")
    print(f"Errors : {errors}")
    sys.stdout.flush()
    return 1 if errors or not (ok or errors) else 0
