"""The Django project: configuration, URLs and the composition root listing every app."""
