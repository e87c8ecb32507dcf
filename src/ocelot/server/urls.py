"""URL map: the agent endpoint, the API and the console."""

from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from ocelot.api.urls import api

urlpatterns = [
    path("", include("ocelot.communication.urls")),
    path("api/", api.urls),
    # Browsers ask for /favicon.ico on pages without an icon link (the API's JSON answers).
    path("favicon.ico", RedirectView.as_view(url=static("console/favicon.svg"), permanent=False)),
    path("", include("ocelot.console.urls")),
]
