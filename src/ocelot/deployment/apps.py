"""Django app configuration of the deployment domain."""

from django.apps import AppConfig


class DeploymentConfig(AppConfig):
    name = "ocelot.deployment"
    label = "deployment"
    default_auto_field = "django.db.models.BigAutoField"
