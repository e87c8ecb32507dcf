"""Users for console page tests: an administrator and a read-only user restricted to PARIS."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from ocelot.accounts.models import Profile


@pytest.fixture
def administrator(db: None) -> Any:
    user = get_user_model().objects.create_superuser(username="admin-pages", password="not used here 1")
    Profile.objects.create(user=user)
    return user


@pytest.fixture
def paris_reader(db: None) -> Any:
    user = get_user_model().objects.create_user(username="paris-reader", password="not used here 2")
    Profile.objects.create(user=user, allowed_tags=["PARIS"])
    return user


@pytest.fixture
def admin_console(administrator: Any) -> Client:
    client = Client()
    client.force_login(administrator)
    return client


@pytest.fixture
def reader_console(paris_reader: Any) -> Client:
    client = Client()
    client.force_login(paris_reader)
    return client
