"""Ocelot: IT inventory and software deployment, wire-compatible with OCS Inventory NG."""

__version__ = "0.1.0"
