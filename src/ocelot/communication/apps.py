"""Django app configuration of the agent endpoint."""

from django.apps import AppConfig


class CommunicationConfig(AppConfig):
    name = "ocelot.communication"
    label = "communication"
