"""The console's URL map: one module per domain contributes its routes."""

from ocelot.console import accounts, backup_page, computers, configuration, deployment, groups, ipdiscover

app_name = "console"
urlpatterns = (
    accounts.urlpatterns
    + computers.urlpatterns
    + configuration.urlpatterns
    + deployment.urlpatterns
    + ipdiscover.urlpatterns
    + groups.urlpatterns
    + backup_page.urlpatterns
)
