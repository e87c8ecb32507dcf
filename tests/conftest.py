"""The test session: one database from the environment, a temporary home, real servers.

The database is the one ``OCELOT_DATABASE_URL`` names (tests/system/run-suite.sh runs the
suite on SQLite, PostgreSQL and MariaDB); pytest-django creates ``test_<name>`` on it, one
per xdist worker. Without ``OCELOT_HOME`` the session gets a temporary home, so a test run
never touches ``./var``.

pytest-django imports the settings before this file is read (it loads them while pytest
parses its options), so a home chosen here is applied to the already-loaded settings: the
typed configuration, and the SQLite database when no URL was given.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
from django.conf import settings
from pytest_django import DjangoDbBlocker

from ocelot.server.config import database_settings, load_config
from tests.server_process import OcelotServer, current_test_database_url, start_server

_SESSION_HOME: Path | None = None


def _use_a_temporary_home() -> None:
    """Point OCELOT_HOME (and the default SQLite database) at a fresh temporary directory."""
    global _SESSION_HOME
    _SESSION_HOME = Path(tempfile.mkdtemp(prefix="ocelot-test-home-"))
    # xdist workers start after this and inherit the variable: they load it directly.
    os.environ["OCELOT_HOME"] = str(_SESSION_HOME)
    config = load_config()
    settings.CONFIG = config
    if "OCELOT_DATABASE_URL" not in os.environ:
        # Django's connection handler holds this very dict: update it in place.
        default = settings.DATABASES["default"]
        default.clear()
        default.update(database_settings(config.database_url))
        from django.db import connections

        connections.configure_settings(settings.DATABASES)


def _share_the_sqlite_test_database() -> None:
    """A file, never ``:memory:``: server processes must open the same test database."""
    default = settings.DATABASES["default"]
    if default["ENGINE"] != "django.db.backends.sqlite3":
        return
    test = default.setdefault("TEST", {})
    if not test.get("NAME") or str(test["NAME"]).startswith((":memory:", "file::memory:")):
        test["NAME"] = str(Path(default["NAME"]).with_name("test_ocelot.sqlite3"))


if "OCELOT_HOME" not in os.environ:
    _use_a_temporary_home()
_share_the_sqlite_test_database()


def pytest_report_header(config: pytest.Config) -> list[str]:
    default = settings.DATABASES["default"]
    return [
        f"ocelot: database {default['ENGINE'].rsplit('.', 1)[-1]} {default.get('HOST') or ''}"
        f"{':' if default.get('PORT') else ''}{default.get('PORT') or ''} {default['NAME']}",
        f"ocelot: home {settings.CONFIG.home}",
    ]


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    # Password hashing is deliberately slow in production; tests only need it correct.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # SIGTERM (run-suite.sh's time limit, a CI cancel) ends the session like Ctrl-C does:
    # fixtures are torn down, so the server processes they started are stopped too.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _SESSION_HOME is not None:
        shutil.rmtree(_SESSION_HOME, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The browser tests and the test that builds a bridge and namespaces share one xdist
    worker (run-suite.sh: ``--dist loadgroup``): Chromium drops its connections with
    "Your connection was interrupted" (ERR_NETWORK_CHANGED) when an interface appears in
    its network namespace, as the bridge does."""
    for item in items:
        path = item.path.as_posix()
        if "/tests/browser/" in path or path.endswith("/tests/ipdiscover/test_real_network.py"):
            item.add_marker(pytest.mark.xdist_group("root_network"))


@pytest.fixture(autouse=True)
def _fresh_agent_settings() -> Iterator[None]:
    """Each test's agent requests read the settings its own transaction holds: the agent
    endpoint's one-second cache (setting_values.agent_settings) must not carry a value
    over from a test whose transaction was rolled back."""
    from ocelot.inventory.setting_values import forget_agent_settings

    forget_agent_settings()
    yield
    forget_agent_settings()


@pytest.fixture(scope="module")
def ocelot_server(
    django_db_setup: None,
    django_db_blocker: DjangoDbBlocker,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OcelotServer]:
    """A real ``ocelot server`` process on the test database, for the module's tests.

    Tests that read what it stored use ``@pytest.mark.django_db(transaction=True)`` (its
    commits are invisible inside a rolled-back test transaction) or unblock the database in
    a module fixture. At the end the server stops (SIGTERM) and the database is flushed, as
    after any transactional test: the start-up's own rows (the first administrator) go too.
    """
    server = start_server(tmp_path_factory.mktemp("ocelot-server"), current_test_database_url())
    try:
        yield server
    finally:
        code = server.stop()
        with django_db_blocker.unblock():
            from django.core.management import call_command

            call_command("flush", interactive=False, verbosity=0)
    assert code == 0, f"ocelot server exited with {code}:\n{server.output()}"
