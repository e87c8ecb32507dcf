"""The administration console: server-rendered pages (Django templates + htmx), one module
and one template folder per domain. Views parse input, call one domain function and render."""
