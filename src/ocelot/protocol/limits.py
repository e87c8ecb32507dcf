"""Bounds on everything an agent can send (security.md S1, T01-T06).

Every byte from an agent is hostile. These limits are far above what real agents send:
the Debian Unix agent's full inventory of a workstation with 800 packages is 320 KB of
XML and about 9,000 elements (samples/unix-agent-inventory.xml).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Caps applied while reading, inflating and parsing one message."""

    max_body: int = 16 * 1024 * 1024
    max_inflated: int = 64 * 1024 * 1024
    # After the first MiB, an inflated body may not be more than this many times its
    # compressed size: a zlib bomb (1 GiB of zeros is about 1 MiB compressed) is stopped
    # long before the absolute cap.
    max_ratio: int = 100
    max_depth: int = 32
    max_elements: int = 300_000
    max_text: int = 64 * 1024
    max_attributes: int = 64
    # Element and attribute names: unknown ones become keys of stored mappings (``extra``).
    max_name: int = 256
    max_rows_per_section: int = 50_000


DEFAULT_LIMITS = Limits()
