"""Users, roles, TAG scopes and tokens."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from ocelot.accounts import administrators, roles, tokens
from ocelot.accounts.models import AuditEntry
from ocelot.inventory.account_info import set_tag
from ocelot.inventory.models import Computer

pytestmark = pytest.mark.django_db


def _computer(device_id: str, tag: str) -> Computer:
    computer = Computer.objects.create(device_id=device_id)
    set_tag(computer, tag)
    return computer


def test_there_is_no_default_account_and_generated_passwords_are_long() -> None:
    assert not get_user_model().objects.exists()
    password = administrators.create_user("root", administrator=True)
    assert len(password) >= 20
    assert administrators.has_administrator()


def test_a_user_restricted_to_tags_sees_only_those_computers() -> None:
    paris, _lyon = _computer("a-2026-01-01-00-00-00", "PARIS"), _computer("b-2026-01-01-00-00-00", "LYON")
    administrators.create_user("helpdesk", administrator=False, allowed_tags=["PARIS"])
    user = get_user_model().objects.get(username="helpdesk")
    assert list(roles.visible_computers(user)) == [paris]
    with pytest.raises(roles.PermissionDeniedError):
        roles.computer_for(user, _lyon.pk)
    assert not roles.is_administrator(user)


def test_an_unrestricted_user_and_an_administrator_see_everything() -> None:
    _computer("a-2026-01-01-00-00-00", "PARIS")
    _computer("b-2026-01-01-00-00-00", "LYON")
    administrators.create_user("reader", administrator=False)
    administrators.create_user("boss", administrator=True)
    users = get_user_model().objects
    assert roles.visible_computers(users.get(username="reader")).count() == 2
    assert roles.visible_computers(users.get(username="boss")).count() == 2


def test_only_administrators_manage_users_and_it_is_audited() -> None:
    administrators.create_user("boss", administrator=True)
    administrators.create_user("reader", administrator=False)
    boss = get_user_model().objects.get(username="boss")
    reader = get_user_model().objects.get(username="reader")
    with pytest.raises(roles.PermissionDeniedError):
        administrators.create_user("x", administrator=True, actor=reader)
    with pytest.raises(roles.PermissionDeniedError):
        administrators.update_user(reader, boss, administrator=False)
    administrators.update_user(boss, reader, allowed_tags=["LYON"], address="192.0.2.5")
    entry = AuditEntry.objects.get(action="user.update")
    assert (entry.username, entry.target, entry.address) == ("boss", "reader", "192.0.2.5")
    with pytest.raises(administrators.AccountError):
        administrators.update_user(boss, boss, administrator=False)
    with pytest.raises(administrators.AccountError):
        administrators.delete_user(boss, boss)


def test_weak_passwords_are_refused() -> None:
    administrators.create_user("alice", administrator=False)
    alice = get_user_model().objects.get(username="alice")
    alice.set_password("old password 123")
    alice.save()
    with pytest.raises(administrators.AccountError):
        administrators.change_password(alice, "old password 123", "123456")
    with pytest.raises(administrators.AccountError):
        administrators.change_password(alice, "wrong", "a much better passphrase")
    administrators.change_password(alice, "old password 123", "a much better passphrase")
    alice.refresh_from_db()
    assert alice.check_password("a much better passphrase")


def test_duplicate_and_malformed_user_names_are_refused() -> None:
    administrators.create_user("alice", administrator=False)
    for name in ("ALICE", "", "two words", "x" * 151):
        with pytest.raises(administrators.AccountError):
            administrators.create_user(name, administrator=False)


def test_tokens_authenticate_their_user_and_only_the_hash_is_kept() -> None:
    administrators.create_user("alice", administrator=False)
    alice = get_user_model().objects.get(username="alice")
    row, raw = tokens.create_token(alice, "script")
    assert raw not in row.key_hash
    assert tokens.authenticate_token(raw) == alice
    assert tokens.authenticate_token(raw + "x") is None
    assert tokens.authenticate_token("") is None
    alice.is_active = False
    alice.save()
    assert tokens.authenticate_token(raw) is None
