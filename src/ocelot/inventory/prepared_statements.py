"""Statements PostgreSQL keeps prepared, for what every agent contact runs.

Django's psycopg cursors bind parameters on the client and never prepare, so PostgreSQL
plans every statement again: for the contact's statement with its flag subqueries that
was 0.3 ms of the backend's 0.55, against 0.05 ms to run it (bench/README.md, "Where the
time goes"). :func:`prepared_cursor` binds on the server and prepares what it runs on
first use; psycopg keeps it on the connection (up to 100 statements) until the
connection closes, and PostgreSQL switches to one generic plan after five runs.

SQLite and MariaDB get Django's ordinary cursor: the same SQL (``%s`` placeholders,
``%(name)s`` with a dictionary) runs everywhere. On SQLite, :func:`qmark_cursor` runs a
statement written with ``?`` as it is: Django's SQLite cursor rewrites every ``%s`` with
regular expressions first, about 0.02 ms per statement, a tenth of a PROLOG's CPU for its
two statements.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import connection


def prepared_cursor() -> Any:
    """A cursor of Django's connection, preparing its statements on PostgreSQL.

    Wrapped like Django's own cursors: database errors become Django's, and what captures
    queries (DEBUG, tests) sees the statements.
    """
    if connection.vendor != "postgresql":
        return connection.cursor()
    cursor_class, debug_wrapper = _classes()
    with connection.wrap_database_errors:
        connection.ensure_connection()
        raw = cursor_class(connection.connection)
    connection.validate_thread_sharing()
    if connection.queries_logged:
        return debug_wrapper(raw, connection)
    return connection.make_cursor(raw)


@cache
def _classes() -> tuple[type, type]:
    import psycopg  # with PostgreSQL only (the "postgresql" extra)
    from django.db.backends.utils import CursorDebugWrapper, CursorWrapper

    class PreparedCursor(psycopg.Cursor[Any]):
        # The connection's prepare_threshold (server/config.py) lets statements that ask
        # be prepared; Django's default, None, would refuse even those.
        def execute(self, query: Any, params: Any = None, **options: Any) -> Any:
            return super().execute(query, params, prepare=True, binary=options.get("binary"))

    class PreparedDebugCursor(CursorDebugWrapper):
        # Django logs what psycopg last sent as a query, which a prepared run leaves
        # unset: log the statement as written instead.
        def execute(self, sql: Any, params: Any = None) -> Any:
            with self.debug_sql(sql, params):
                return CursorWrapper.execute(self, sql, params)

    return PreparedCursor, PreparedDebugCursor


def qmark_cursor() -> Any | None:
    """On SQLite, a cursor for statements written with ``?`` placeholders; None elsewhere.

    Also None while queries are captured (DEBUG, tests): Django's query log formats the
    statement with ``%``, so the caller then runs its ``%s`` form through Django's cursor
    and the statement shows in the log as before.
    """
    if connection.vendor != "sqlite" or connection.queries_logged:
        return None
    with connection.wrap_database_errors:
        connection.ensure_connection()
        raw = connection.connection.cursor()
    connection.validate_thread_sharing()
    return connection.make_cursor(raw)
