"""The WSGI application served by ``ocelot server`` (gunicorn workers)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocelot.server.settings")
application = get_wsgi_application()
