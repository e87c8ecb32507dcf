"""The REST API v1 (django-ninja): one module per domain, the same roles as the console.
Errors are JSON ``{"code": ..., "message": ...}``; OpenAPI is served at ``/api/docs``."""
