"""Computers and their inventory: models, ingest, duplicates, settings resolution."""
