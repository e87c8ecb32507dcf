"""``ocelot agent --daemon``: the agent as a service, contacting the server on its own.

What the OCS Windows service does (seeds, 004 "Comment le Service Windows travaille ?"):
it launches the agent every PROLOG_FREQ hours, and the wait is random, between 0 and
PROLOG_FREQ, when the service is installed and each time the administrator changes
PROLOG_FREQ, "so that agents do not all contact the server at the same time". It keeps
the countdown in ``service.ini`` (TTO_WAIT) so that a restart does not reset it; here the
agent's ``next_contact`` state file (written by each run) plays that part.

After a failed run (server unreachable, 5xx, ...) the next attempt comes after an
exponential backoff with jitter (1, 2, 4, ... minutes, capped at one hour and never later
than PROLOG_FREQ), so that a server coming back is not met by every agent at once.

SIGTERM or SIGINT stop the daemon cleanly: a wait ends at once; a run in progress is
finished first (it may be installing a package: stopping half-way is what the deployment
engine's crash recovery is for, not something to provoke).

The clock, the sleeper and the random source are parameters, so tests run days of
schedule in milliseconds.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

from ocelot.agent.config import Options
from ocelot.agent.run import AgentError
from ocelot.agent.state import AgentState, vardir_for

log = logging.getLogger(__name__)

BACKOFF_BASE = 60.0
BACKOFF_CAP = 3600.0

Sleeper = Callable[[float], bool]
"""Wait up to the given seconds; True when a stop was requested (then return at once)."""


@dataclass
class Schedule:
    """When the next run is due, from what the last one did (pure: no clock inside)."""

    rng: random.Random = field(default_factory=random.Random)
    base: float = BACKOFF_BASE
    cap: float = BACKOFF_CAP
    failures: int = 0
    prolog_freq: int | None = None

    def first_wait(self, freq_hours: int, now: float, next_contact_at: float | None) -> float:
        """At start: what is left of a countdown kept from before, else a random part of PROLOG_FREQ."""
        self.prolog_freq = freq_hours
        period = freq_hours * 3600.0
        if next_contact_at is not None and next_contact_at - now <= period:
            # Overdue (the machine was off past its contact): contact now, as the
            # Windows service does when TTO_WAIT has run out.
            return max(0.0, next_contact_at - now)
        return self.rng.uniform(0, period)

    def after_success(self, freq_hours: int) -> float:
        self.failures = 0
        changed = self.prolog_freq is not None and freq_hours != self.prolog_freq
        self.prolog_freq = freq_hours
        period = freq_hours * 3600.0
        # A new PROLOG_FREQ spreads the agents again (the seeds' random 0..PROLOG_FREQ).
        return self.rng.uniform(0, period) if changed else period

    def after_failure(self, freq_hours: int) -> float:
        self.failures += 1
        ceiling = min(self.cap, freq_hours * 3600.0)
        backoff = min(ceiling, self.base * 2 ** min(self.failures - 1, 30))
        # "Equal jitter": at least half the backoff, so retries never bunch at zero.
        return backoff / 2 + self.rng.uniform(0, backoff / 2)


class StopSignal:
    """A sleeper that SIGTERM and SIGINT interrupt (threading.Event wakes at once)."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def install(self) -> None:
        def stop(signum: int, frame: FrameType | None) -> None:
            log.info("signal %d: stopping after the current run", signum)
            self.event.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def __call__(self, seconds: float) -> bool:
        return self.event.wait(max(0.0, seconds))


def run_daemon(
    options: Options,
    run: Callable[[Options], int],
    *,
    sleep: Sleeper,
    now: Callable[[], float] = time.time,
    rng: random.Random | None = None,
) -> int:
    """Run ``run(options)`` on the service's schedule until ``sleep`` reports a stop."""
    if not options.server:
        log.error("--daemon needs --server")
        return 2
    state = AgentState(vardir_for(options.vardir_base(), options.server))
    schedule = Schedule(rng=rng or random.Random())
    wait = schedule.first_wait(state.prolog_freq(), now(), state.next_contact_at())
    while True:
        log.info("next contact in %.0f s", wait)
        if sleep(wait):
            return 0
        try:
            failed = run(options) != 0
        except Exception as exc:
            # AgentError is the expected failure (one line); anything else is a bug, but
            # a service must outlive it and try again later.
            failed = True
            log.warning("run failed: %s", exc, exc_info=not isinstance(exc, AgentError))
        freq = state.prolog_freq()
        wait = schedule.after_failure(freq) if failed else schedule.after_success(freq)
        if failed:
            log.info("retry %d after a failure", schedule.failures)
