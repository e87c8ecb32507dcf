"""Django app configuration of the accounts domain."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ocelot.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
