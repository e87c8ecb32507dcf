"""Response and request schemas shared by the v1 routers.

Every inventory string is a plain JSON string: the API never returns HTML, so a hostname
such as ``<script>alert(1)</script>`` comes back verbatim and inert (security.md T39).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import StringConstraints

from ocelot.api.errors import ApiError
from ocelot.api.requests import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET
from ocelot.inventory.search import MAX_CRITERIA, Criterion


class Me(Schema):
    username: str
    administrator: bool


class Error(Schema):
    code: str = Field(description="a stable machine-readable code, e.g. forbidden, invalid_sort")
    message: str = Field(description="one line for a human")


class Paging(Schema):
    """Query parameters of every list: bounded pages."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"items per page, at most {MAX_LIMIT}")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="items to skip")


class Page(Schema):
    count: int = Field(description="items matching, over every page")
    limit: int
    offset: int


# -- computers


class ComputerItem(Schema):
    id: int
    device_id: str
    name: str
    os: str
    ip: str
    memory: int | None = Field(description="MB")
    tag: str
    last_inventory_at: datetime | None
    last_contact_at: datetime | None
    user_agent: str
    own_settings: bool = Field(description="it has settings of its own (the console's marker)")


class ComputerPage(Page):
    items: list[ComputerItem]


class SoftwareInstalled(Schema):
    name: str
    publisher: str
    version: str
    category: str
    comments: str
    file_size: int | None
    folder: str
    source: str
    install_date: str
    architecture: str
    bits_width: str
    filename: str
    guid: str
    language: str
    status: str
    extra: dict[str, Any]


class AccountInfoOut(Schema):
    tag: str
    fields: dict[str, str] = Field(description="every defined account info field, empty when unset")


class ComputerSettingsOut(Schema):
    overrides: dict[str, int | str] = Field(description="the computer's own values")
    effective: dict[str, int | str] = Field(description="what its agent gets: own, group, global or default")


class OtherSectionOut(Schema):
    tag: str
    data: dict[str, Any]


class ComputerDetail(ComputerItem):
    first_seen_at: datetime | None
    source_ip: str
    imported: bool
    hardware: dict[str, Any] = Field(description="every field of the HARDWARE section, extra included")
    sections: dict[str, list[dict[str, Any]]] = Field(
        description="every inventory section: its rows as field -> value, with an 'extra' object"
    )
    other_sections: list[OtherSectionOut]
    software: list[SoftwareInstalled]
    account_info: AccountInfoOut
    settings: ComputerSettingsOut


class ValueIn(Schema):
    value: int | str


class AccountInfoIn(Schema):
    tag: str | None = Field(None, max_length=255, description="absent: unchanged")
    fields: dict[str, str] = Field(
        default_factory=dict, description="field name -> value; absent fields unchanged"
    )


# -- software


class SoftwareItem(Schema):
    id: int
    name: str
    publisher: str
    version: str
    category: str
    installations: int = Field(description="installations on computers the user may see")


class SoftwarePage(Page):
    items: list[SoftwareItem]


# -- settings


class SettingItem(Schema):
    name: str
    value: int | str
    default: int | str
    help: str
    category: str
    unit: str
    kind: str = Field(description="int, bool or text")
    minimum: int | None
    maximum: int | None
    scopes: list[str] = Field(description="where it may be set: global, group, computer")


class SettingPage(Page):
    items: list[SettingItem]


class OverrideOut(Schema):
    name: str
    value: int | str


# -- users


class UserItem(Schema):
    id: int
    username: str
    administrator: bool
    active: bool
    allowed_tags: list[str] = Field(description="empty: every computer")
    last_login: datetime | None
    date_joined: datetime


class UserPage(Page):
    items: list[UserItem]


Tag = Annotated[str, StringConstraints(max_length=255)]


class UserIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    administrator: bool = False
    allowed_tags: list[Tag] = Field(
        default_factory=list, max_length=1000, description="TAG values it may see; empty: every computer"
    )


class UserChange(Schema):
    """Absent fields stay as they are."""

    administrator: bool | None = None
    allowed_tags: list[Tag] | None = Field(None, max_length=1000, description="empty: every computer")
    active: bool | None = None


class UserCreated(Schema):
    user: UserItem
    password: str = Field(description="generated; shown this once")


class SearchIn(Schema):
    """The computer search, in the computer list's format: one entry per criterion."""

    field: list[str] = Field(default_factory=list, max_length=MAX_CRITERIA * 4)
    op: list[str] = Field(default_factory=list, max_length=MAX_CRITERIA * 4)
    value: list[str] = Field(default_factory=list, max_length=MAX_CRITERIA * 4)
    value2: list[str] | None = Field(None, max_length=MAX_CRITERIA * 4)

    def criteria(self) -> list[Criterion]:
        """The criteria, at least one; ApiError 400 ``invalid_search`` otherwise."""
        values2 = self.value2 if self.value2 is not None else [""] * len(self.field)
        if not len(self.field) == len(self.op) == len(self.value) == len(values2):
            raise ApiError(
                400, "invalid_search", "field, op, value and value2 must be given once per criterion"
            )
        criteria = [
            Criterion(name.strip(), operator.strip().upper() or "EQUAL", value, value2)
            for name, operator, value, value2 in zip(self.field, self.op, self.value, values2, strict=True)
            if name.strip()
        ]
        if not criteria:
            raise ApiError(400, "invalid_search", "the search needs at least one criterion")
        return criteria
