"""The REST API; arrives with issue 3."""
