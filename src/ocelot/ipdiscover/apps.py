"""Django app configuration of the IP discovery domain."""

from django.apps import AppConfig


class IpdiscoverConfig(AppConfig):
    name = "ocelot.ipdiscover"
    label = "ipdiscover"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The contact and the inventory (inventory domain) reach IP discovery through
        # these hooks: inventory sits below ipdiscover and never imports it (design.md §3).
        from ocelot.inventory.contact import register_scan_provider
        from ocelot.inventory.ingest import register_inventory_hook
        from ocelot.ipdiscover.election import after_inventory, scan_provider

        register_scan_provider(scan_provider())
        register_inventory_hook(after_inventory)
