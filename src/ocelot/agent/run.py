"""One agent run, as the Unix agent 2.10 runs (protocol.md §3, §13).

Network mode: PROLOG (skipped with ``--force``); on ``SEND`` collect and POST INVENTORY;
on a usable reply write ``last_state`` and, for ACCOUNT_UPDATE, replace the account info.
Local modes (``--local``, ``--xml``, ``--stdout``) send nothing and set every CHECKSUM bit.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ocelot.agent.collectors.hardware import short_hostname
from ocelot.agent.config import Options
from ocelot.agent.host import Host, MachineHost
from ocelot.agent.inventory import build_request, checksum, collect, section_hashes
from ocelot.agent.ipdiscover import discover
from ocelot.agent.state import AgentState, vardir_for, write_atomically
from ocelot.protocol.sections import ALL_AGENT_BITS
from ocelot.protocol.xmltree import Node, to_document

log = logging.getLogger(__name__)


class AgentError(Exception):
    """A run that could not do its job; the message is one line for the user."""


@dataclass(frozen=True)
class ContactAnswer:
    """What a PROLOG reply says: send or not, and the contact period in hours."""

    send: bool
    prolog_freq: int | None
    options: tuple[Node, ...]


def read_contact_reply(reply: Node | None) -> ContactAnswer:
    if reply is None:
        raise AgentError("the server answered PROLOG with an empty reply")
    freq = (reply.value("PROLOG_FREQ") or "").strip()
    return ContactAnswer(
        send=(reply.value("RESPONSE") or "").strip() == "SEND",  # the only trigger (§4.2)
        prolog_freq=int(freq) if freq.isdigit() and int(freq) > 0 else None,
        options=tuple(reply.find_all("OPTION")),
    )


def account_update(reply: Node) -> list[tuple[str, str]] | None:
    """The pairs of an ACCOUNT_UPDATE reply, or None for any other reply (§6.2)."""
    if (reply.value("RESPONSE") or "").strip() != "ACCOUNT_UPDATE":
        return None
    pairs = []
    for pair in reply.find_all("ACCOUNTINFO"):
        key = pair.value("KEYNAME")
        if key:
            pairs.append((key, pair.value("KEYVALUE") or ""))
    return pairs


def prolog_document(device_id: str) -> bytes:
    return to_document(
        Node("REQUEST", children=[Node("DEVICEID", text=device_id), Node("QUERY", text="PROLOG")])
    )


def run_local(options: Options, host: Host) -> int:
    """``--local``, ``--xml``, ``--stdout``: the document the server would get, sent nowhere."""
    state = AgentState(vardir_for(options.vardir_base(), None))
    device_id = state.device_id(short_hostname(host))
    if options.tag:
        state.set_tag_if_missing(options.tag)
    collected = collect(host, with_software=not options.nosoft)
    document = build_request(
        device_id,
        collected.sections,
        changed_bits=ALL_AGENT_BITS,  # no last state in local mode (protocol.md §13)
        account_info=state.account_info(),
        package_history=None,
    )
    if options.stdout:
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
    if options.local is not None or options.xml:
        directory = options.local if options.local is not None else Path.cwd()
        suffix = ".xml" if options.xml else ".ocs"
        target = directory / f"{device_id}{suffix}"
        try:
            write_atomically(target, document)
        except OSError as exc:
            raise AgentError(f"cannot write {target}: {exc.strerror}") from exc
        log.info("inventory written to %s", target)
    return 0


def run_network(options: Options, host: Host, now: float | None = None) -> int:
    # Imported here: HTTP and TLS (http.client, ssl) are a fifth of a --local run's
    # memory, and a --local run needs neither (bench/README.md, agent).
    from ocelot.agent.client import Client, ServerError

    assert options.server
    state = AgentState(vardir_for(options.vardir_base(), options.server))
    moment = time.time() if now is None else now
    if options.lazy and not options.force:
        due = state.next_contact_at()
        if due is not None and moment < due:
            log.info("lazy: next contact after %s", time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(due)))
            return 0
    device_id = state.device_id(short_hostname(host))
    if options.tag:
        state.set_tag_if_missing(options.tag)
    ca_file = options.ca
    if ca_file is None and (state.vardir / "cacert.pem").exists():
        ca_file = state.vardir / "cacert.pem"
    try:
        client = Client(options.server, verify=options.ssl, ca_file=ca_file, timeout=options.timeout)
    except ServerError as exc:
        raise AgentError(str(exc)) from exc
    answer: ContactAnswer | None = None
    try:
        if not options.force:
            log.debug("sending PROLOG")
            answer = read_contact_reply(client.post(prolog_document(device_id)))
            freq = answer.prolog_freq or state.prolog_freq()
            if answer.prolog_freq:
                state.set_prolog_freq(answer.prolog_freq)
            state.write_next_contact(moment + freq * 3600)
            if not answer.send:
                log.info("the server does not want an inventory now (next contact in %d h)", freq)
                _deploy(options, state, device_id, answer, ca_file)
                return 0
        collected = collect(host, with_software=not options.nosoft)
        hashes = section_hashes(collected.sections)
        bits = checksum(hashes, state.last_state())
        document = build_request(
            device_id,
            collected.sections,
            changed_bits=bits,
            account_info=state.account_info(),
            package_history=state.package_history(),
            extra=discover(
                host,
                collected.sections,
                answer.options if answer else (),
                forced_network=options.ipdisc,
                fast=options.fastip,
            ),
        )
        log.debug("sending INVENTORY (CHECKSUM %d):\n%s", bits, document.decode("utf-8", errors="replace"))
        reply = client.post(document)
    except ServerError as exc:
        raise AgentError(str(exc)) from exc
    finally:
        client.close()
    if reply is None:
        raise AgentError("the server answered INVENTORY with an empty reply")
    pairs = account_update(reply)
    if pairs is not None:
        log.info("account info updated by the server: %s", ", ".join(f"{k}={v}" for k, v in pairs))
        state.replace_account_info(pairs)
    state.write_last_state(hashes)  # only now: the server accepted this inventory (§5.3)
    log.info("inventory accepted (CHECKSUM %d)", bits)
    _deploy(options, state, device_id, answer, ca_file)
    return 0


def _deploy(
    options: Options, state: AgentState, device_id: str, answer: ContactAnswer | None, ca_file: Path | None
) -> None:
    """Deployment after the contact, whatever it answered (protocol.md §9.2), when it said ON=1."""
    if answer is None or options.server is None:
        return  # --force: no PROLOG, so no DOWNLOAD option
    from ocelot.agent.deployment.engine import deploy_after_contact

    deploy_after_contact(
        answer.options,
        vardir=state.vardir,
        device_id=device_id,
        server_url=options.server,
        verify=options.ssl,
        ca_file=ca_file,
        timeout=options.timeout,
        accept_unsigned=options.unsigned_packages,
    )


def run_once(options: Options, host: Host | None = None) -> int:
    """One run; returns the exit status (0 also when the server said STOP)."""
    host = host or MachineHost()
    if options.sends:
        return run_network(options, host)
    if options.local is None and not options.stdout and not options.xml:
        raise AgentError("nothing to do: give --server URL, --local DIR, --xml or --stdout")
    return run_local(options, host)
