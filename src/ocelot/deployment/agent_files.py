"""Files for agent launchers and the TAG label (seed: "Éditer le label", option DEPLOY)."""

from __future__ import annotations

from ocelot.deployment.models import AgentFile
from ocelot.inventory.setting_values import global_value


class AgentFileUnavailableError(Exception):
    """DEPLOY is off or no such file exists."""


def read_agent_file(name: str) -> bytes:
    """The content of an agent file, only while the DEPLOY setting is on."""
    if not global_value("DEPLOY"):
        raise AgentFileUnavailableError("agent file deployment is off")
    row = AgentFile.objects.filter(name=name).first()
    if row is None:
        raise AgentFileUnavailableError("no such agent file")
    return bytes(row.content)


def save_agent_file(name: str, content: bytes) -> None:
    """Store or replace an agent file; an empty label removes it, as in OCS."""
    if name == "label" and not content.strip():
        AgentFile.objects.filter(name=name).delete()
        return
    AgentFile.objects.update_or_create(name=name, defaults={"content": content})
