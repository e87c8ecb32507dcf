"""Console pages for configuration: general options, account info fields, label, registry
queries, duplicates, local import, software dictionary, agent files."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from ocelot.console.requests import admin_view


@admin_view
def configuration(request: HttpRequest) -> HttpResponse:
    return render(request, "console/dashboard.html", {})


urlpatterns = [
    path("configuration/", configuration, name="configuration"),
]
