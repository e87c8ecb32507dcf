"""Deployment records. The package model itself arrives with the deployment issue."""

from __future__ import annotations

from django.db import models

from ocelot.inventory.models import Computer


class ReportedResult(models.Model):
    """A result an agent reported for a package (QUERY=DOWNLOAD, protocol.md §7).

    Stored as received; the deployment issue binds results to assignments.
    """

    computer = models.ForeignKey(Computer, on_delete=models.CASCADE, related_name="reported_results")
    package_id = models.BigIntegerField(db_index=True)
    code = models.CharField(max_length=64)
    reported_at = models.DateTimeField(auto_now_add=True)


class AgentFile(models.Model):
    """A file served to agent launchers under /ocsinventory/deploy/<name> when DEPLOY is on.

    The TAG prompt ``label`` is one of them, as in OCS's ``deploy`` table.
    """

    name = models.CharField(max_length=255, unique=True)
    content = models.BinaryField()
    uploaded_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name
