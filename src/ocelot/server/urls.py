"""URL map: the agent endpoint, the API and the console."""

from django.urls import include, path

from ocelot.api.urls import api

urlpatterns = [
    path("", include("ocelot.communication.urls")),
    path("api/", api.urls),
    path("", include("ocelot.console.urls")),
]
