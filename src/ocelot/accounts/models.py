"""Accounts use Django's user model for now; roles and the audit log come with the console."""
