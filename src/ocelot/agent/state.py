"""The agent's state directory: DEVICEID, account info (TAG), last state, next contact.

Laid out as the Unix agent 2.10 lays out its vardir (protocol.md §1.6, §2, §5.3, §5.4), with
the same file formats, so an administrator finds what they know:

* ``ocsinv.conf``: ``<CONF><DEVICEID>…</DEVICEID><PROLOG_FREQ>…</PROLOG_FREQ></CONF>``;
* ``ocsinv.adm``: ``<ADM><ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>…</KEYVALUE></ACCOUNTINFO>…</ADM>``,
  replaced by every ACCOUNT_UPDATE reply;
* ``last_state``: ``<LAST_STATE><HARDWARE>md5</HARDWARE>…</LAST_STATE>``, written only after
  an inventory the server accepted;
* ``next_contact``: the epoch second before which ``--lazy`` does not contact the server;
* ``download/history``: ids of done packages, one per line (written by the deployment engine).

Every file is written atomically (a temporary file in the same directory, fsync, rename).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from pathlib import Path

from ocelot.protocol.errors import ProtocolError
from ocelot.protocol.xmltree import Node, parse_xml, to_document

LOCAL_VARDIR = "__LOCAL__"
DEFAULT_PROLOG_FREQ = 24


def vardir_for(basevardir: Path, server: str | None) -> Path:
    """``<basevardir>/<server URL with "/" replaced by "_">``, or ``__LOCAL__`` without a server."""
    return basevardir / (server.replace("/", "_") if server else LOCAL_VARDIR)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError):
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _read_xml(path: Path) -> Node | None:
    try:
        return parse_xml(path.read_bytes())
    except (OSError, ProtocolError):
        return None


def new_device_id(short_hostname: str, now: float | None = None) -> str:
    """``<hostname>-YYYY-MM-DD-HH-MM-SS`` in local time (protocol.md §2)."""
    return f"{short_hostname}-{time.strftime('%Y-%m-%d-%H-%M-%S', time.localtime(now))}"


class AgentState:
    """The files of one vardir."""

    def __init__(self, vardir: Path) -> None:
        self.vardir = vardir

    # ------------------------------------------------------------ ocsinv.conf

    @property
    def conf_path(self) -> Path:
        return self.vardir / "ocsinv.conf"

    def _conf(self) -> dict[str, str]:
        root = _read_xml(self.conf_path)
        return root.fields() if root is not None else {}

    def _write_conf(self, values: dict[str, str]) -> None:
        root = Node("CONF", children=[Node(key, text=value) for key, value in sorted(values.items())])
        write_atomically(self.conf_path, to_document(root))

    def device_id(self, short_hostname: str, now: float | None = None) -> str:
        """The kept DEVICEID; a new one when there is none or the host name changed (§2)."""
        conf = self._conf()
        kept = conf.get("DEVICEID", "")
        if re.fullmatch(re.escape(short_hostname) + r"-\d{4}(?:-\d{2}){5}", kept):
            return kept
        device_id = new_device_id(short_hostname, now)
        if kept:
            conf["OLD_DEVICEID"] = kept
        conf["DEVICEID"] = device_id
        self._write_conf(conf)
        return device_id

    def prolog_freq(self) -> int:
        value = self._conf().get("PROLOG_FREQ", "")
        return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_PROLOG_FREQ

    def set_prolog_freq(self, hours: int) -> None:
        conf = self._conf()
        if conf.get("PROLOG_FREQ") != str(hours):
            conf["PROLOG_FREQ"] = str(hours)
            self._write_conf(conf)

    # ------------------------------------------------------------ ocsinv.adm

    @property
    def adm_path(self) -> Path:
        return self.vardir / "ocsinv.adm"

    def account_info(self) -> list[tuple[str, str]]:
        root = _read_xml(self.adm_path)
        if root is None:
            return []
        pairs = []
        for pair in root.find_all("ACCOUNTINFO"):
            key = pair.value("KEYNAME")
            if key:
                pairs.append((key, pair.value("KEYVALUE") or ""))
        return pairs

    def replace_account_info(self, pairs: list[tuple[str, str]]) -> None:
        """Keep exactly these pairs (an ACCOUNT_UPDATE reply, protocol.md §6.2)."""
        root = Node(
            "ADM",
            children=[
                Node("ACCOUNTINFO", children=[Node("KEYNAME", text=key), Node("KEYVALUE", text=value)])
                for key, value in pairs
            ],
        )
        write_atomically(self.adm_path, to_document(root))

    def set_tag_if_missing(self, tag: str) -> None:
        """``--tag`` only sets TAG while the agent holds none (protocol.md §5.4)."""
        pairs = self.account_info()
        if any(key == "TAG" for key, _ in pairs):
            return
        self.replace_account_info([*pairs, ("TAG", tag)])

    # ------------------------------------------------------------ last_state

    @property
    def last_state_path(self) -> Path:
        return self.vardir / "last_state"

    def last_state(self) -> dict[str, str] | None:
        root = _read_xml(self.last_state_path)
        return root.fields() if root is not None else None

    def write_last_state(self, hashes: dict[str, str]) -> None:
        root = Node("LAST_STATE", children=[Node(tag, text=value) for tag, value in sorted(hashes.items())])
        write_atomically(self.last_state_path, to_document(root))

    # ------------------------------------------------------------ contact schedule

    @property
    def next_contact_path(self) -> Path:
        return self.vardir / "next_contact"

    def next_contact_at(self) -> float | None:
        try:
            return float(self.next_contact_path.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return None

    def write_next_contact(self, epoch: float) -> None:
        write_atomically(self.next_contact_path, f"{int(epoch)}\n".encode("ascii"))

    # ------------------------------------------------------------ download history

    def package_history(self) -> list[str]:
        """Ids of done packages (``download/history``, one per line; digits only)."""
        try:
            lines = (self.vardir / "download" / "history").read_text(encoding="ascii", errors="replace")
        except OSError:
            return []
        seen: list[str] = []
        for line in lines.splitlines():
            line = line.strip()
            if line.isdigit() and line not in seen:
                seen.append(line)
        return seen
