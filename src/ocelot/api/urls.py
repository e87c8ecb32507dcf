"""The API instance: v1 routers are added by each domain module."""

from __future__ import annotations

from ninja import NinjaAPI

from ocelot.api import errors
from ocelot.api.auth import TokenAuth

api = NinjaAPI(
    title="Ocelot API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=TokenAuth(),
)
errors.install(api)

# Domain routers register here (computers, software, settings, account info, users).
from ocelot.api import routers  # noqa: E402

routers.register(api)
