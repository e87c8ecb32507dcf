"""Routes of the agent endpoint (protocol.md §1.1)."""

from django.urls import path

from ocelot.communication import views

urlpatterns = [
    path("ocsinventory", views.endpoint, name="agent-endpoint"),
    path("ocsinventory/", views.endpoint),
    path("ocsinventory/deploy/<str:name>", views.agent_file, name="agent-file"),
    path("cacert.pem", views.ca_certificate, name="ca-certificate"),
]
