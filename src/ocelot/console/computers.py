"""Console pages for computers: dashboard, list, computer page, search, TAG repartition."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from ocelot.accounts.roles import visible_computers
from ocelot.console.requests import console_view


@console_view
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "console/dashboard.html", {"computers": visible_computers(request.user).count()})


@console_view
def placeholder(request: HttpRequest) -> HttpResponse:
    return render(request, "console/dashboard.html", {"computers": visible_computers(request.user).count()})


urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("computers/", placeholder, name="computers"),
    path("search/", placeholder, name="search"),
    path("tags/", placeholder, name="tags"),
]
