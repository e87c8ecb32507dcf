"""The ``ocelot`` command."""
