"""Result codes our agent reports (QUERY=DOWNLOAD ERR=..., protocol.md §7, §9.4; seeds' status table).

OCS codes keep their OCS names. Where the issue asks for a distinct outcome that no OCS
agent reports (a bad or missing signature, an install a crash interrupted, a command
timeout), the code is new but keeps the ``ERR_`` prefix, so the OCS console counts it as an
error (protocol.md §8.3: ``ERR%`` is an error).
"""

from __future__ import annotations

SUCCESS = "SUCCESS"
# The current OCS agents' name for ERR_ALREADY_SETUP (protocol.md §9.4 "Historical names");
# the console counts ERR_% as failures, and a package already installed is not one.
ALREADY_SETUP = "SUCCESS_ALREADY_SETUP"
BAD_ID = "ERR_BAD_ID"
DOWNLOAD_INFO = "ERR_DOWNLOAD_INFO"
BAD_PARAM = "ERR_BAD_PARAM"
BAD_DIGEST = "ERR_BAD_DIGEST"
BAD_SIGNATURE = "ERR_BAD_SIGNATURE"
DOWNLOAD_PACK = "ERR_DOWNLOAD_PACK"
BUILD = "ERR_BUILD"
OUT_OF_SPACE = "ERR_OUT_OF_SPACE"
EXECUTE = "ERR_EXECUTE"
EXECUTE_PACK = "ERR_EXECUTE_PACK"  # no command in the info file (seeds' status table)
EXECUTE_TIMEOUT = "ERR_EXECUTE_TIMEOUT"  # the WindowsAgent's name (protocol.md §9.3)
INTERRUPTED = "ERR_INTERRUPTED"  # an install a crash cut short: reported, never run again
CLEAN = "ERR_CLEAN"
TIMEOUT = "ERR_TIMEOUT"


def exit_code(returncode: int) -> str:
    """Exit 0 is SUCCESS, exit n is ERR_EXIT_CODE_n (the seeds' status table, issue 5)."""
    return SUCCESS if returncode == 0 else f"ERR_EXIT_CODE_{returncode}"
