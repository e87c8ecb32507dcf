"""``/metrics``: the Prometheus text exposition format, written by hand (issue 7).

What is counted (names as Prometheus conventions want them):

- ``ocelot_agent_requests_total{query,status}``: agent endpoint answers per query type
  (PROLOG, INVENTORY, DOWNLOAD results, NOTIFY, UPDATE; ``none`` when the request was
  refused before its query was known) and HTTP status;
- ``ocelot_agent_rejected_total{reason}``: 4xx refusals of the agent endpoint by reason
  (the ``reason`` word of protocol.errors, ``unknown_user_agent``, ``not_post``, ...);
- ``ocelot_inventory_ingest_seconds``: histogram of the time to answer an INVENTORY
  (read, inflate, parse, store) that was stored;
- ``ocelot_deployment_assignments{status}``: assignments per status, counted in the
  database at scrape time (``WAITING`` for the empty status);
- ``ocelot_certificate_expiry_timestamp_seconds{certificate}``: when the server
  certificate and the CA expire.

Counters live in per-process files (metrics_store) and add up across worker processes.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ocelot.server import metrics_store
from ocelot.server.config import Config

log = logging.getLogger("ocelot.server.metrics")

INGEST_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
REQUESTS = "ocelot_agent_requests_total"
REJECTED = "ocelot_agent_rejected_total"
INGEST = "ocelot_inventory_ingest_seconds"
ASSIGNMENTS = "ocelot_deployment_assignments"
CERTIFICATE_EXPIRY = "ocelot_certificate_expiry_timestamp_seconds"

HELP = {
    REQUESTS: ("counter", "Agent endpoint answers by query type and HTTP status."),
    REJECTED: ("counter", "Agent requests refused with 400/403/413, by reason."),
    INGEST: ("histogram", "Time to answer an INVENTORY that was stored (read, decode, parse, store)."),
    ASSIGNMENTS: ("gauge", "Package assignments per status (from the database at scrape time)."),
    CERTIFICATE_EXPIRY: ("gauge", "When the server certificate and the CA expire (Unix time)."),
}


def _key(name: str, **labels: str) -> str:
    return json.dumps([name, sorted(labels.items())], separators=(",", ":"))


def metrics_directory(config: Config) -> Path:
    """The run's directory given by ``ocelot server``, else the home's own."""
    given = os.environ.get(metrics_store.ENVIRONMENT)
    return Path(given) if given else config.metrics_dir


class AgentObserver:
    """What communication.wsgi.AgentEndpoint calls after each answer (a few microseconds)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # Keys are built once: no JSON work on the agent path.
        self._keys: dict[tuple[str, str, str], str] = {}
        self._requests: dict[tuple[str, int], str] = {}

    def _cached(self, name: str, label: str, value: str) -> str:
        key = self._keys.get((name, label, value))
        if key is None:
            key = self._keys[(name, label, value)] = _key(name, **{label: value}) if label else _key(name)
        return key

    def __call__(self, answer: Any, seconds: float) -> None:
        try:
            values = metrics_store.process_values(self.directory)
            query = answer.query or "none"
            key = self._requests.get((query, answer.status))
            if key is None:
                key = self._requests[(query, answer.status)] = _key(
                    REQUESTS, query=query, status=str(answer.status)
                )
            values.add(key, 1)
            if answer.reason and 400 <= answer.status < 500:
                values.add(self._cached(REJECTED, "reason", answer.reason), 1)
            if query == "INVENTORY" and answer.status == 200:
                self._observe_ingest(values, seconds)
        except (OSError, ValueError):
            # A full disk must not cost an agent its answer: the metric is lost, logged.
            log.warning("could not record a metric", exc_info=True)

    def _observe_ingest(self, values: metrics_store.ProcessValues, seconds: float) -> None:
        # One write: the files hold per-bucket counts, made cumulative at scrape (render).
        bound = next((repr(bound) for bound in INGEST_BUCKETS if seconds <= bound), "+Inf")
        values.add(self._cached(INGEST + "_bucket", "le", bound), 1)
        values.add(self._cached(INGEST + "_sum", "", ""), seconds)
        values.add(self._cached(INGEST + "_count", "", ""), 1)


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _line(name: str, labels: Iterable[tuple[str, str]], value: float) -> str:
    pairs = ",".join(f'{label}="{_escape(text)}"' for label, text in labels if label)
    return f"{name}{{{pairs}}} {_number(value)}" if pairs else f"{name} {_number(value)}"


def _cumulative_buckets(values: dict[str, float]) -> dict[str, float]:
    """Per-bucket counts as stored, to Prometheus' cumulative ``le`` buckets (all bounds)."""
    running = 0.0
    for bound in [*(repr(bound) for bound in INGEST_BUCKETS), "+Inf"]:
        key = _key(INGEST + "_bucket", le=bound)
        running += values.get(key, 0.0)
        values[key] = running
    return values


def _database_gauges() -> dict[str, float]:
    from django.db.models import Count

    from ocelot.deployment.models import Assignment

    found: dict[str, float] = {}
    rows = Assignment.objects.values("status").annotate(total=Count("id")).order_by("status")
    for row in rows:
        found[_key(ASSIGNMENTS, status=row["status"] or "WAITING")] = float(row["total"])
    return found


def _certificate_gauges(config: Config) -> dict[str, float]:
    from ocelot.server.certificates import read_certificate

    found = {}
    for role, name in (("server", "server.pem"), ("ca", "ca.pem")):
        try:
            expiry = read_certificate(config.pki_dir / name).not_valid_after_utc.timestamp()
        except (OSError, ValueError):
            continue
        found[_key(CERTIFICATE_EXPIRY, certificate=role)] = expiry
    return found


def render(config: Config) -> str:
    """The whole exposition: merged counters plus the gauges read now."""
    values = _cumulative_buckets(metrics_store.merged(metrics_directory(config)))
    values.update(_database_gauges())
    values.update(_certificate_gauges(config))
    # Families always present, so a dashboard sees 0 rather than "no data" after a restart.
    values.setdefault(_key(INGEST + "_sum"), 0.0)
    values.setdefault(_key(INGEST + "_count"), 0.0)
    families: dict[str, list[tuple[str, list[tuple[str, str]], float]]] = {name: [] for name in HELP}
    for key, value in values.items():
        name, labels = json.loads(key)
        family = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name == INGEST + suffix:
                family = INGEST
        families.setdefault(family, []).append((name, [tuple(pair) for pair in labels], value))
    lines = []
    for family in sorted(families):
        kind, text = HELP.get(family, ("untyped", family))
        lines.append(f"# HELP {family} {text}")
        lines.append(f"# TYPE {family} {kind}")
        samples = families[family]
        if family == INGEST:
            samples.sort(key=_histogram_order)
        else:
            samples.sort(key=lambda sample: (sample[0], sample[1]))
        lines.extend(_line(name, labels, value) for name, labels, value in samples)
    return "\n".join(lines) + "\n"


def _histogram_order(sample: tuple[str, list[tuple[str, str]], float]) -> tuple[int, float]:
    name, labels, _value = sample
    if name.endswith("_bucket"):
        bound = dict(labels).get("le", "+Inf")
        return 0, math.inf if bound == "+Inf" else float(bound)
    return (1 if name.endswith("_sum") else 2), 0.0
