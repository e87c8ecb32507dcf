"""The administration console (server-rendered); arrives with issue 3."""
