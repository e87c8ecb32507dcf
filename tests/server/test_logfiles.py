"""The server's log file: one writer for every worker's output, rotated by size."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from ocelot.server.logfiles import LogFile, open_server_log


def test_lines_from_several_pipes_arrive_whole_and_rotate_at_the_size(tmp_path: Path, capsys):
    log = LogFile(tmp_path / "server.log", max_bytes=20_000, backups=3, echo=False)
    writers = []
    for worker in range(4):
        read_end, write_end = os.pipe()
        log.pump(os.fdopen(read_end, "rb"))

        def write(fd: int = write_end, worker: int = worker) -> None:
            with os.fdopen(fd, "wb") as pipe:
                for number in range(2000):
                    pipe.write(f"worker {worker} line {number:05d} {'x' * 20}\n".encode())

        writers.append(threading.Thread(target=write))
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    log.close()
    files = sorted(tmp_path.iterdir())
    assert [path.name for path in files] == ["server.log", "server.log.1", "server.log.2", "server.log.3"]
    lines = [line for path in files for line in path.read_text().splitlines()]
    assert all(line.startswith("worker ") and line.endswith("x" * 20) for line in lines)
    # The newest lines survive (the oldest went with the rotation); none is duplicated.
    # How the writers interleave is up to the scheduler (on a loaded machine one may finish
    # before another starts, and all its lines rotate away): what survives of each writer
    # is its last lines, in one piece, and the files hold about their size in lines.
    assert len(lines) == len(set(lines))
    assert len(lines) > 3 * 20_000 // 44
    for worker in range(4):
        numbers = sorted(int(line.split()[3]) for line in lines if line.startswith(f"worker {worker} "))
        assert numbers == list(range(2000 - len(numbers), 2000))
    assert any(line.startswith("worker ") and " line 01999 " in line for line in lines)
    assert capsys.readouterr().out == ""


def test_under_systemd_the_lines_go_to_the_file_only(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("JOURNAL_STREAM", "8:12345")
    log = open_server_log(tmp_path, 1000, 2)
    assert log is not None
    log.write_line("to the file")
    log.close()
    assert capsys.readouterr().out == ""
    monkeypatch.delenv("JOURNAL_STREAM")
    log = open_server_log(tmp_path, 1000, 2)
    assert log is not None
    log.write_line("to both")
    log.close()
    assert capsys.readouterr().out == "to both\n"
    assert (tmp_path / "server.log").read_text() == "to the file\nto both\n"


def test_no_log_directory_means_no_file():
    assert open_server_log(None, 1000, 2) is None
