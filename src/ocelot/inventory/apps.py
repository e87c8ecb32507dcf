"""Django app configuration of the inventory domain."""

from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "ocelot.inventory"
    label = "inventory"
    default_auto_field = "django.db.models.BigAutoField"
