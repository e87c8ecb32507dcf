"""Routes of the agent endpoint (protocol.md §1.1)."""

from django.urls import path, re_path

from ocelot.communication import downloads, views

urlpatterns = [
    path("ocsinventory", views.endpoint, name="agent-endpoint"),
    path("ocsinventory/", views.endpoint),
    path("ocsinventory/deploy/<str:name>", views.agent_file, name="agent-file"),
    path("cacert.pem", views.ca_certificate, name="ca-certificate"),
    # Package files (protocol.md §8.1): numeric IDs only, as the Unix agent requires.
    re_path(r"^download/(?P<package_id>[1-9][0-9]{0,17})/info$", downloads.info_file, name="package-info"),
    re_path(
        r"^download/(?P<package_id>[1-9][0-9]{0,17})/(?P<fragment_id>[0-9]{1,18})-(?P<number>[1-9][0-9]{0,5})$",
        downloads.fragment,
        name="package-fragment",
    ),
]
