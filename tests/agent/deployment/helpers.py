"""Building engines and announcements for the tests, the way an agent run does."""

from __future__ import annotations

from pathlib import Path

from ocelot.agent.client import Client, tls_context
from ocelot.agent.deployment.announcement import read_announcement
from ocelot.agent.deployment.engine import Engine
from ocelot.agent.deployment.fetch import Fetcher
from ocelot.protocol.xmltree import Node, parse_xml
from tests.agent.deployment.conftest import FakeClock
from tests.agent.deployment.site import Pki, Site, download_option, prolog_reply
from tests.deployment.archives import tar_gz

DEVICE_ID = "testhost-2026-11-22-00-00-00"


def installer(marker: Path, exit_code: int = 0, extra: bytes = b"") -> bytes:
    """A tar.gz whose install.sh appends the payload to ``marker`` from its own directory."""
    script = f'cat payload.txt >> "{marker}"\nexit {exit_code}\n'.encode()
    return tar_gz(("install.sh", script), ("payload.txt", b"installed\n" + extra))


def engine(
    site: Site,
    vardir: Path,
    pki: Pki,
    clock: FakeClock,
    *,
    signed: bool = True,
    command_timeout: float | None = None,
) -> Engine:
    return Engine(
        vardir=vardir,
        device_id=DEVICE_ID,
        poster=Client(site.url),
        fetcher=Fetcher(tls_context(verify=True, ca_file=pki.ca_file), timeout=5),
        clock=clock,
        public_key=pki.public_key_pem if signed else None,
        command_timeout=command_timeout,
    )


def deploy(engine: Engine, *packs: Node, **conf: str) -> None:
    """One PROLOG reply's DOWNLOAD option, read as the agent reads it, then deployed."""
    reply = parse_xml(prolog_reply(download_option(*packs, **conf)))
    announcement = read_announcement(reply.find_all("OPTION"))
    assert announcement is not None
    engine.deploy(announcement)
