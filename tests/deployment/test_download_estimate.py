"""How long agents wait per priority with the DOWNLOAD_* latencies (seeds 002/004, protocol.md §9.2)."""

from __future__ import annotations

import itertools

import pytest

from ocelot.deployment.download_estimate import (
    Latencies,
    current_latencies,
    estimate_seconds,
    estimates_by_priority,
)

SEED_DEFAULTS = Latencies(frag_latency=10, cycle_latency=60, period_latency=0, period_length=10)


def simulate(fragments: int, priority: int, latencies: Latencies) -> int | None:
    """The agent's loop, step by step (Download.pm ``period``), for one package alone."""
    steps_left = fragments + 1
    elapsed = 0
    for _period in range(10_000):
        for cycle in range(1, latencies.period_length + 1):
            if priority == 0 or cycle % priority == 0:
                steps_left -= 1
                if steps_left == 0:
                    return elapsed
                elapsed += latencies.frag_latency
            if priority != 0:
                elapsed += latencies.cycle_latency
        elapsed += latencies.period_latency
    return None


def test_the_seed_example_priority_5_waits_four_cycle_latencies_before_the_first_fragment() -> None:
    # "the agent would pause for DOWNLOAD_CYCLE_LATENCY for cycles 1-4, and then start
    # downloading a fragment of your package when it starts cycle 5" (seed 002).
    assert estimate_seconds(0, 5, SEED_DEFAULTS) == 4 * 60


def test_priority_0_is_served_every_cycle_without_cycle_latency() -> None:
    assert estimate_seconds(3, 0, SEED_DEFAULTS) == 3 * 10


def test_a_priority_above_the_period_length_is_never_served() -> None:
    assert estimate_seconds(1, 10, Latencies(period_length=9)) is None
    assert estimate_seconds(1, 9, Latencies(period_length=9)) is not None


def test_latencies_of_zero_make_everything_immediate() -> None:
    assert estimates_by_priority(5, Latencies(0, 0, 0, 10)) == dict.fromkeys(range(11), 0)


@pytest.mark.parametrize("fragments", [0, 1, 2, 5, 17, 100])
@pytest.mark.parametrize("priority", range(11))
@pytest.mark.parametrize(
    "latencies",
    [SEED_DEFAULTS, Latencies(1, 2, 300, 10), Latencies(3, 7, 11, 4), Latencies(0, 5, 0, 1)],
)
def test_the_formula_matches_the_agents_loop(fragments: int, priority: int, latencies: Latencies) -> None:
    assert estimate_seconds(fragments, priority, latencies) == simulate(fragments, priority, latencies)


def test_a_lower_priority_number_is_never_slower() -> None:
    times = estimates_by_priority(20, SEED_DEFAULTS)
    served = [times[priority] for priority in range(1, 11)]
    assert all(a is not None and b is not None and a <= b for a, b in itertools.pairwise(served))


@pytest.mark.django_db
def test_the_current_latencies_are_the_global_settings() -> None:
    from ocelot.inventory.setting_values import set_global

    assert current_latencies() == SEED_DEFAULTS
    set_global("DOWNLOAD_CYCLE_LATENCY", 1)
    set_global("DOWNLOAD_PERIOD_LENGTH", 3)
    assert current_latencies() == Latencies(10, 1, 0, 3)
