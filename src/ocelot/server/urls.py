"""URL map: the agent endpoint; the console and the API join in later issues."""

from django.urls import include, path

urlpatterns = [
    path("", include("ocelot.communication.urls")),
]
