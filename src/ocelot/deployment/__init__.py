"""Packages: build, activation, assignment, notification, results and statistics."""
