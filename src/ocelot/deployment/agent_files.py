"""Files for agent launchers and the TAG label (seed: "Éditer le label", option DEPLOY).

Seed "Téléverser l'Agent pour le déploiement au moyen du lanceur": an administrator uploads
the agent (``ocsagent.exe``, ``ocspackage.exe``, ...) and launchers fetch it from
``/ocsinventory/deploy/<name>`` while DEPLOY is on. The file named ``label`` is the text of
the TAG prompt agents show at their first start; it has its own page ("Éditer le label").
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.db.models.functions import Length
from django.utils.translation import gettext as _

from ocelot.deployment.models import AgentFile
from ocelot.inventory.setting_values import global_value

LABEL = "label"
# A plain file name: the last part of /ocsinventory/deploy/<name>, never a path.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_NAME = 255  # AgentFile.name
# Stored in the database: under MariaDB's default max_allowed_packet (16 MiB) with room for
# the statement around it. The agent installers the seed names are a few MiB.
MAX_AGENT_FILE_SIZE = 15 * 1024 * 1024
MAX_LABEL = 4096


class AgentFileUnavailableError(Exception):
    """DEPLOY is off or no such file exists."""


class AgentFileError(Exception):
    """An agent file that cannot be stored: its name, its size."""


@dataclass(frozen=True)
class AgentFileSummary:
    """An agent file without its content."""

    name: str
    size: int
    uploaded_at: datetime.datetime


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
    if name == LABEL and not content.strip():
        AgentFile.objects.filter(name=name).delete()
        return
    AgentFile.objects.update_or_create(name=name, defaults={"content": content})


def validate_name(raw: str) -> str:
    """A simple file name (letters, digits, dot, dash, underscore; no path); raises AgentFileError."""
    name = raw.strip()
    if not name or len(name) > MAX_NAME or not NAME_PATTERN.fullmatch(name):
        raise AgentFileError(
            _("A file name is letters, digits, dots, dashes and underscores, without a path.")
        )
    return name


def upload_agent_file(raw_name: str, content: bytes) -> str:
    """Store an uploaded agent file under a validated name; returns the name."""
    name = validate_name(raw_name)
    if name == LABEL:
        raise AgentFileError(_("The label is edited on its own page."))
    if len(content) > MAX_AGENT_FILE_SIZE:
        raise AgentFileError(
            _("An agent file is at most %(size)d MiB.") % {"size": MAX_AGENT_FILE_SIZE // (1024 * 1024)}
        )
    if not content:
        raise AgentFileError(_("The file is empty."))
    save_agent_file(name, content)
    return name


def agent_files() -> list[AgentFileSummary]:
    """Every agent file but the label, by name, without reading their contents."""
    rows = (
        AgentFile.objects.exclude(name=LABEL)
        .annotate(size=Length("content"))
        .order_by("name")
        .values_list("name", "size", "uploaded_at")
    )
    return [AgentFileSummary(name, size or 0, uploaded_at) for name, size, uploaded_at in rows]


def delete_agent_file(name: str) -> bool:
    """Delete an agent file; False when there was none."""
    deleted, _rows = AgentFile.objects.filter(name=name).delete()
    return bool(deleted)


def read_label() -> str:
    """The TAG prompt text, empty when there is none (agents then show no prompt)."""
    row = AgentFile.objects.filter(name=LABEL).first()
    return bytes(row.content).decode("utf-8", errors="replace") if row is not None else ""


def save_label(text: str) -> bool:
    """Store the TAG prompt text; empty removes the label. Returns whether one is stored."""
    if len(text) > MAX_LABEL:
        raise AgentFileError(_("The label is at most %(max)d characters.") % {"max": MAX_LABEL})
    save_agent_file(LABEL, text.strip().encode("utf-8"))
    return bool(text.strip())
