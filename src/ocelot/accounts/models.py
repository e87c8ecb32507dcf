"""Accounts: a profile per user (role scope, language, list preferences), API tokens,
login throttling state and the audit log.

Administrators are Django superusers. Other users are read-only ("User" in the seed's
"Gérer les utilisateurs"), optionally restricted to chosen TAG values as OCS profiles allow.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Profile(models.Model):
    """Per-user settings: the TAG scope, the language override and list preferences."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    allowed_tags = models.JSONField(default=list, blank=True, help_text="empty: every computer")
    language = models.CharField(max_length=8, blank=True, default="", help_text="empty: the browser's")
    computer_columns = models.JSONField(default=list, blank=True)
    page_size = models.PositiveIntegerField(default=50)

    def __str__(self) -> str:
        return f"profile of {self.user}"


class ApiToken(models.Model):
    """A token for the REST API. Only its SHA-256 is stored; the secret is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="the first characters, to recognise it")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}...)"


class LoginThrottle(models.Model):
    """Failed logins per account name or per client address (security.md T43)."""

    key = models.CharField(max_length=255, unique=True, help_text="user:<name> or ip:<address>")
    failures = models.PositiveIntegerField(default=0)
    blocked_until = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)


class AuditEntry(models.Model):
    """One state change: who, what, when, from where."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    username = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=64, db_index=True)
    target = models.CharField(max_length=255, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    address = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.target}"
