"""Token authentication: no token, a wrong one or a deactivated user's is a JSON 401."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.api.conftest import Caller

pytestmark = pytest.mark.django_db

PATHS = ["/api/v1/me", "/api/v1/computers", "/api/v1/computers/1", "/api/v1/software", "/api/v1/settings"]


@pytest.mark.parametrize("path", PATHS)
def test_a_request_without_a_token_is_a_json_401(path: str) -> None:
    response = Client().get(path, secure=True)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {"code": "unauthorized", "message": "a valid API token is required"}


@pytest.mark.parametrize(
    "header",
    ["Bearer ocl_not-a-real-token", "Bearer ", "Token whatever", "Bearer ' OR 1=1 --", "Basic cm9vdDpyb290"],
)
def test_an_invalid_token_is_a_json_401(admin: Caller, header: str) -> None:
    response = Client().get("/api/v1/me", secure=True, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_a_valid_token_names_its_user(admin: Caller, reader: Caller) -> None:
    assert admin.get("/api/v1/me").json() == {"username": "root", "administrator": True}
    assert reader.get("/api/v1/me").json() == {"username": "paris-reader", "administrator": False}


def test_a_deactivated_users_token_stops_working(reader: Caller) -> None:
    get_user_model().objects.filter(username="paris-reader").update(is_active=False)
    assert reader.get("/api/v1/me").status_code == 401


def test_writes_need_a_token_too(admin: Caller) -> None:
    response = Client().put(
        "/api/v1/settings/FREQUENCY", json.dumps({"value": 3}), content_type="application/json", secure=True
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_an_unknown_endpoint_is_a_json_404(admin: Caller) -> None:
    response = admin.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "no such endpoint"}
    assert Client().get("/api/v2/computers", secure=True).status_code == 404


def test_the_openapi_document_and_the_docs_are_served() -> None:
    document = Client().get("/api/openapi.json", secure=True)
    assert document.status_code == 200
    paths = document.json()["paths"]
    for path in (
        "/api/v1/computers",
        "/api/v1/computers/{computer_id}",
        "/api/v1/computers/{computer_id}/account-info",
        "/api/v1/computers/{computer_id}/settings/{name}",
        "/api/v1/software",
        "/api/v1/settings",
        "/api/v1/settings/{name}",
        "/api/v1/users",
        "/api/v1/users/{user_id}",
    ):
        assert path in paths
    assert "bearer" in json.dumps(document.json()["components"]["securitySchemes"]).lower()
    docs = Client().get("/api/docs", secure=True)
    assert docs.status_code == 200
    assert b"/api/openapi.json" in docs.content
    assert b"http://" not in docs.content and b"https://" not in docs.content  # no CDN at run time
