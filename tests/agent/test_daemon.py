"""``ocelot agent --daemon``: the service's schedule, backoff after failures, a clean stop.

The schedule runs on a fake clock and a recording sleeper (days in milliseconds); the
stop is tested on a real ``ocelot agent --daemon`` process, against a scripted server and
against a real ``ocelot server`` that stores this machine's inventory.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ocelot.agent.config import Options
from ocelot.agent.daemon import BACKOFF_CAP, Schedule, run_daemon
from ocelot.agent.run import AgentError
from ocelot.agent.state import AgentState, vardir_for
from tests.agent.fake_server import reply, scripted_server

SERVER = "http://ocelot.example.org/ocsinventory"
HOUR = 3600.0


class Timeline:
    """A clock that moves only when the daemon sleeps; stops after ``runs`` runs."""

    def __init__(self, runs: int) -> None:
        self.now = 1_800_000_000.0
        self.waits: list[float] = []
        self.runs_left = runs

    def sleep(self, seconds: float) -> bool:
        if self.runs_left == 0:
            return True
        self.waits.append(seconds)
        self.now += seconds
        return False


def daemon(
    tmp_path: Path, runs: int, outcome: Callable[[int], int], seed: int = 1
) -> tuple[Timeline, list[float]]:
    """Run the daemon for ``runs`` runs; ``outcome(n)`` is run n's exit status (or raises)."""
    timeline = Timeline(runs)
    started: list[float] = []

    def run(options: Options) -> int:
        started.append(timeline.now)
        timeline.runs_left -= 1
        return outcome(len(started))

    options = Options(server=SERVER, basevardir=tmp_path / "var")
    code = run_daemon(options, run, sleep=timeline.sleep, now=lambda: timeline.now, rng=random.Random(seed))
    assert code == 0
    return timeline, started


def state(tmp_path: Path) -> AgentState:
    return AgentState(vardir_for(tmp_path / "var", SERVER))


def test_the_first_contact_is_at_a_random_moment_within_prolog_freq_then_every_prolog_freq(tmp_path):
    timeline, started = daemon(tmp_path, runs=4, outcome=lambda n: 0)
    first, *rest = timeline.waits
    assert 0 <= first < 24 * HOUR
    assert rest == [24 * HOUR] * 3
    assert len(started) == 4


def test_different_agents_start_at_different_moments(tmp_path):
    firsts = {
        daemon(tmp_path / str(seed), runs=1, outcome=lambda n: 0, seed=seed)[0].waits[0] for seed in range(20)
    }
    assert len(firsts) == 20
    assert max(firsts) - min(firsts) > 12 * HOUR  # spread over the period, not bunched


def test_a_countdown_kept_from_before_a_restart_is_honoured(tmp_path):
    state(tmp_path).write_next_contact(Timeline(0).now + 5 * HOUR)
    timeline, _started = daemon(tmp_path, runs=1, outcome=lambda n: 0)
    assert timeline.waits[0] == pytest.approx(5 * HOUR, abs=1)


def test_an_overdue_contact_happens_at_once(tmp_path):
    state(tmp_path).write_next_contact(Timeline(0).now - 30 * HOUR)
    timeline, _started = daemon(tmp_path, runs=1, outcome=lambda n: 0)
    assert timeline.waits[0] == 0


def test_a_new_prolog_freq_spreads_the_next_contact_again(tmp_path):
    def outcome(n: int) -> int:
        if n == 2:
            state(tmp_path).set_prolog_freq(6)  # what a run does when the server says so
        return 0

    timeline, _started = daemon(tmp_path, runs=4, outcome=outcome)
    assert timeline.waits[1] == 24 * HOUR
    assert 0 <= timeline.waits[2] < 6 * HOUR
    assert timeline.waits[3] == 6 * HOUR


def test_failures_back_off_exponentially_with_jitter_up_to_a_cap_then_success_resets(tmp_path):
    def outcome(n: int) -> int:
        if n <= 9:
            raise AgentError("cannot reach the server")
        return 0

    timeline, _started = daemon(tmp_path, runs=11, outcome=outcome)
    retries = timeline.waits[1:10]
    for number, wait in enumerate(retries):
        ceiling = min(60 * 2**number, BACKOFF_CAP)
        assert ceiling / 2 <= wait <= ceiling, (number, wait)
    assert retries[-1] <= BACKOFF_CAP
    assert timeline.waits[10] == 24 * HOUR  # back on schedule after a success


def test_backoff_never_waits_longer_than_prolog_freq():
    schedule = Schedule(rng=random.Random(3), base=60, cap=10 * HOUR)
    waits = [schedule.after_failure(1) for _ in range(20)]
    assert max(waits) <= HOUR


def test_a_bug_in_a_run_does_not_end_the_service(tmp_path):
    def outcome(n: int) -> int:
        if n == 1:
            raise RuntimeError("unexpected")
        return 0

    timeline, started = daemon(tmp_path, runs=3, outcome=outcome)
    assert len(started) == 3
    assert 30 <= timeline.waits[1] <= 60


def test_a_failed_exit_status_counts_as_a_failure(tmp_path):
    timeline, _started = daemon(tmp_path, runs=2, outcome=lambda n: 1)
    assert 30 <= timeline.waits[1] <= 60


def test_sigterm_stops_a_real_daemon_promptly_while_it_waits(tmp_path):
    replies = {"PROLOG": reply("STOP", PROLOG_FREQ="24")}
    with scripted_server(replies) as server:
        vardir = vardir_for(tmp_path / "var", server.url)
        AgentState(vardir).write_next_contact(time.time())  # due now: no random first wait
        log = tmp_path / "agent.log"
        env = {key: value for key, value in os.environ.items() if not key.startswith("OCELOT_")}
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "ocelot.agent", "--daemon", "--server", server.url, "--info"),
                *("--basevardir", str(tmp_path / "var"), "--logfile", str(log)),
            ],
            env=env,
        )
        try:
            deadline = time.monotonic() + 60
            while "next contact in 86400" not in (log.read_text() if log.exists() else ""):
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the daemon did not contact the server"
                time.sleep(0.1)
            assert server.queries() == ["PROLOG"]
            stopped_at = time.monotonic()
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
            assert time.monotonic() - stopped_at < 5
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_daemon_without_a_server_is_a_one_line_error(tmp_path, capsys):
    from ocelot.agent.command import main

    assert main(["--daemon", "--basevardir", str(tmp_path), "--conf", "/dev/null"]) == 2
    assert capsys.readouterr().err == "ocelot agent: --daemon needs --server (no --local, --xml, --stdout)\n"


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_a_daemon_inventories_this_machine_into_a_real_server_and_stops_on_sigterm(ocelot_server, tmp_path):
    from ocelot.inventory.models import Computer
    from tests.server_process import ocelot_command

    AgentState(vardir_for(tmp_path / "var", ocelot_server.agent_url)).write_next_contact(time.time())
    log = tmp_path / "agent.log"
    process = subprocess.Popen(
        ocelot_command(
            "agent",
            "--daemon",
            f"--server={ocelot_server.agent_url}",
            f"--basevardir={tmp_path / 'var'}",
            f"--logfile={log}",
            "--info",
        )
    )

    def log_text() -> str:
        return log.read_text() if log.exists() else ""

    try:
        deadline = time.monotonic() + 180
        while log_text().count("next contact in") < 2:  # the first wait, then the one after the run
            assert process.poll() is None, log_text()
            assert time.monotonic() < deadline, log_text()
            time.sleep(0.2)
        text = log_text()
        assert "inventory accepted" in text, text
        assert Computer.objects.count() == 1
        assert "retry" not in text
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
