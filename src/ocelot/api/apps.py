"""Django app configuration of the REST API."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "ocelot.api"
    label = "api"
