"""The WSGI application served by ``ocelot server`` (gunicorn workers).

The agent endpoint answers in front of Django's handler (communication.wsgi); everything
else (console, API, info files, agent files) goes through Django and its middleware.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocelot.server.settings")
django_application = get_wsgi_application()

from django.conf import settings  # noqa: E402

from ocelot.communication.wsgi import AgentEndpoint  # noqa: E402 - needs Django set up first
from ocelot.server.metrics import AgentObserver, metrics_directory  # noqa: E402
from ocelot.server.operations_wsgi import OperationsEndpoints  # noqa: E402

agent_endpoint = AgentEndpoint(django_application, observe=AgentObserver(metrics_directory(settings.CONFIG)))
application = OperationsEndpoints(agent_endpoint, settings.CONFIG)

# What is loaded by now (Django, the apps, the URL map) lives as long as the worker: out of
# the collector's way, so the full collections an inventory's thousands of objects trigger
# do not walk it again each time.
gc.freeze()
