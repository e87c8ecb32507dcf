"""Django app configuration of the deployment domain."""

from django.apps import AppConfig


class DeploymentConfig(AppConfig):
    name = "ocelot.deployment"
    label = "deployment"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The contact (inventory) announces packages through this hook: inventory sits
        # below deployment and never imports it (design.md §3).
        from ocelot.deployment.notification import provider
        from ocelot.inventory.contact import register_download_package_provider

        register_download_package_provider(provider())
