"""Response and request schemas shared by the v1 routers."""

from __future__ import annotations

from ninja import Schema


class Me(Schema):
    username: str
    administrator: bool


class Error(Schema):
    code: str
    message: str
