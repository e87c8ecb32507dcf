"""CPUS: one row per socket, from /proc/cpuinfo and ``lscpu`` (sample: CORES, CPUARCH, ...).

The Unix agent 2.10 fills CORES, CPUARCH, DATA_WIDTH, L2CACHESIZE (lscpu's text, such as
"2 MiB (2 instances)"), LOGICAL_CPUS, MANUFACTURER (AMD, Intel), NBSOCKET, THREADS (per
socket), TYPE (the model name) and SPEED in MHz, the maximum or nominal one
(samples/unix-agent-inventory.xml).
"""

from __future__ import annotations

import re

from ocelot.agent.host import Host

SECTION = "CPUS"

_VENDORS = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD", "CentaurHauls": "VIA", "HygonGenuine": "Hygon"}


def parse_cpuinfo(text: str) -> list[dict[str, str]]:
    """The processor blocks of /proc/cpuinfo, as key -> value."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
                current = {}
            continue
        key, sep, value = line.partition(":")
        if sep:
            current[key.strip()] = value.strip()
    if current:
        blocks.append(current)
    return [block for block in blocks if "processor" in block]


def parse_lscpu(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            values[key.strip()] = value.strip()
    return values


_NOMINAL = re.compile(r"@\s*([0-9.]+)\s*GHz", re.IGNORECASE)


def nominal_mhz(model: str) -> str:
    """The speed in the model name ("... @ 2.50GHz" -> "2500"), Intel's way of naming it."""
    match = _NOMINAL.search(model)
    return str(round(float(match.group(1)) * 1000)) if match else ""


def _mhz(text: str) -> str:
    try:
        return str(round(float(text)))
    except ValueError:
        return ""


def collect(host: Host, found: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    processors = parse_cpuinfo(host.read_text("/proc/cpuinfo") or "")
    lscpu = parse_lscpu(host.output(["lscpu"]) or "")
    arch = lscpu.get("Architecture") or host.output(["uname", "-m"]) or ""
    arch = arch.strip()
    sockets: dict[str, list[dict[str, str]]] = {}
    for block in processors:
        sockets.setdefault(block.get("physical id", "0"), []).append(block)
    if not sockets and lscpu:
        sockets["0"] = [{}]
    rows = []
    for blocks in sockets.values():
        first = blocks[0]
        model = first.get("model name") or lscpu.get("Model name", "")
        vendor_id = first.get("vendor_id") or lscpu.get("Vendor ID", "")
        cores = first.get("cpu cores") or lscpu.get("Core(s) per socket", "")
        threads_per_core = lscpu.get("Thread(s) per core", "")
        logical = str(len(blocks)) if first else lscpu.get("CPU(s)", "")
        # Not the current frequency: it moves with every reading on a laptop, and CPUS would
        # then count as changed at every run (the Unix agent sends no current speed either).
        speed = _mhz(lscpu.get("CPU max MHz", "")) or nominal_mhz(model) or _mhz(first.get("cpu MHz", ""))
        row = {
            "CORES": cores,
            "CPUARCH": arch,
            "DATA_WIDTH": "64" if arch in {"x86_64", "aarch64", "ppc64le", "s390x", "riscv64"} else "32",
            "L2CACHESIZE": lscpu.get("L2 cache", ""),
            "LOGICAL_CPUS": logical,
            "MANUFACTURER": _VENDORS.get(vendor_id, vendor_id),
            "NBSOCKET": str(len(sockets)),
            "SPEED": speed,
            "THREADS": logical if not threads_per_core else str(int(threads_per_core) * int(cores or "1")),
            "TYPE": model,
        }
        rows.append(row)
    return rows
