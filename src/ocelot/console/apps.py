"""Django app configuration of the administration console."""

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "ocelot.console"
    label = "console"
