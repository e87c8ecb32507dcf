"""How long agents take to fetch and run a package, per priority, with given latencies.

The agent's download loop (seeds 002/004 "How does it work?", protocol.md §9.2, Unix agent
Download.pm ``period``): a period is PERIOD_LENGTH cycles numbered from 1. In cycle ``i`` a
package of priority ``p > 0`` gets one step when ``i % p == 0``, followed by FRAG_LATENCY;
every cycle ends with CYCLE_LATENCY; every period ends with PERIOD_LATENCY. Packages of
priority 0 get a step in every cycle, followed by FRAG_LATENCY only (no cycle latency), and
while one is pending nothing else moves. A package needs one step per fragment and one more
to build and run it. A priority above PERIOD_LENGTH is never served (it ends in ERR_TIMEOUT).

The estimate counts the waiting the latencies impose for one package alone, from the start
of the first period to the step that runs it; transfer time and other packages come on top.
"""

from __future__ import annotations

from dataclasses import dataclass

from ocelot.inventory.setting_values import global_values

PRIORITIES = range(11)


@dataclass(frozen=True)
class Latencies:
    """The DOWNLOAD_* settings an agent receives (protocol.md §4.4), in seconds and cycles."""

    frag_latency: int = 10
    cycle_latency: int = 60
    period_latency: int = 0
    period_length: int = 10


def estimate_seconds(fragments: int, priority: int, latencies: Latencies) -> int | None:
    """Seconds of waiting before an agent runs the package; None when it is never served."""
    if not 0 <= priority <= 10:
        raise ValueError("priority is 0 to 10")
    length = latencies.period_length
    steps = fragments + 1
    if priority == 0:
        per_period, cycles_between, cycle_wait = length, 1, 0
    else:
        if priority > length or length < 1:
            return None
        per_period, cycles_between, cycle_wait = length // priority, priority, latencies.cycle_latency
    full_periods, left = divmod(steps - 1, per_period)
    left += 1  # the steps in the last period, the final one included
    period_seconds = per_period * latencies.frag_latency + length * cycle_wait + latencies.period_latency
    before_last = (left - 1) * latencies.frag_latency + (left * cycles_between - 1) * cycle_wait
    return full_periods * period_seconds + before_last


def estimates_by_priority(fragments: int, latencies: Latencies) -> dict[int, int | None]:
    """:func:`estimate_seconds` for every priority 0 to 10."""
    return {priority: estimate_seconds(fragments, priority, latencies) for priority in PRIORITIES}


def current_latencies() -> Latencies:
    """The global DOWNLOAD_* settings now (computer and group overrides are not applied)."""
    values = global_values()
    return Latencies(
        frag_latency=int(values["DOWNLOAD_FRAG_LATENCY"]),
        cycle_latency=int(values["DOWNLOAD_CYCLE_LATENCY"]),
        period_latency=int(values["DOWNLOAD_PERIOD_LATENCY"]),
        period_length=int(values["DOWNLOAD_PERIOD_LENGTH"]),
    )
