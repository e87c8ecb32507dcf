"""TAG and account info: who wins, and when the agent is told (protocol.md §5.4, §6.2)."""

from __future__ import annotations

import datetime

import pytest

from ocelot.inventory import account_info
from ocelot.inventory.ingest import store_inventory
from ocelot.inventory.models import AccountField, AccountInfo, AccountValue, Computer
from ocelot.inventory.setting_values import set_global
from tests.inventory.payloads import small_inventory

pytestmark = pytest.mark.django_db

DEVICE = "pc-2026-01-01-00-00-00"


def _with_tag(tag: str, *extra: tuple[str, str]) -> str:
    pairs = [("TAG", tag), *extra]
    return "".join(
        f"<ACCOUNTINFO><KEYNAME>{k}</KEYNAME><KEYVALUE>{v}</KEYVALUE></ACCOUNTINFO>" for k, v in pairs
    )


def test_a_new_computer_takes_the_agents_tag_and_gets_no_account_update() -> None:
    reply = store_inventory(small_inventory(DEVICE, _with_tag("PARIS")))
    assert reply.account_info is None
    assert Computer.objects.get().account_info.tag == "PARIS"


def test_the_server_tag_wins_and_is_sent_back_when_the_agent_differs() -> None:
    store_inventory(small_inventory(DEVICE, _with_tag("PARIS")))
    account_info.set_tag(Computer.objects.get(), "LYON")

    reply = store_inventory(small_inventory(DEVICE, _with_tag("PARIS")))

    assert reply.account_info == (("TAG", "LYON"),)
    assert Computer.objects.get().account_info.tag == "LYON"
    assert b"<RESPONSE>ACCOUNT_UPDATE</RESPONSE>" in reply.to_xml()
    assert b"<KEYNAME>TAG</KEYNAME>" in reply.to_xml()


def test_an_agent_that_already_agrees_gets_no_account_update() -> None:
    store_inventory(small_inventory(DEVICE, _with_tag("LYON")))
    assert store_inventory(small_inventory(DEVICE, _with_tag("LYON"))).account_info is None


def test_every_defined_field_is_sent_when_the_agent_lacks_one() -> None:
    AccountField.objects.create(name="owner", kind=AccountField.TEXT)
    store_inventory(small_inventory(DEVICE, _with_tag("LYON")))
    reply = store_inventory(small_inventory(DEVICE, _with_tag("LYON")))
    assert reply.account_info == (("TAG", "LYON"), ("owner", ""))


def test_accept_tag_update_from_client_lets_the_agent_change_the_tag() -> None:
    set_global("ACCEPT_TAG_UPDATE_FROM_CLIENT", 1)
    store_inventory(small_inventory(DEVICE, _with_tag("PARIS")))
    reply = store_inventory(small_inventory(DEVICE, _with_tag("NANTES")))
    assert reply.account_info is None
    assert Computer.objects.get().account_info.tag == "NANTES"


def test_a_known_computer_without_account_info_becomes_lost() -> None:
    store_inventory(small_inventory(DEVICE, _with_tag("PARIS")))
    AccountInfo.objects.all().delete()

    reply = store_inventory(small_inventory(DEVICE, _with_tag("PARIS")))

    assert reply.account_info == (("TAG", "LOST"),)
    assert Computer.objects.get().account_info.tag == "LOST"


def test_typed_fields_store_typed_values_and_ignore_bad_agent_values() -> None:
    AccountField.objects.create(name="bought", kind=AccountField.DATE)
    AccountField.objects.create(name="price", kind=AccountField.REAL)
    AccountField.objects.create(name="floor", kind=AccountField.INTEGER)
    store_inventory(
        small_inventory(
            DEVICE, _with_tag("X", ("bought", "2024/05/01"), ("price", "12.5"), ("floor", "three"))
        )
    )
    values = {v.field.name: v for v in AccountValue.objects.select_related("field")}
    assert values["bought"].date == datetime.date(2024, 5, 1)
    assert values["price"].real == 12.5
    assert "floor" not in values


def test_a_value_of_the_wrong_kind_is_refused_when_set_by_hand() -> None:
    field = AccountField.objects.create(name="floor", kind=AccountField.INTEGER)
    store_inventory(small_inventory(DEVICE, ""))
    with pytest.raises(account_info.AccountValueError):
        account_info.set_value(Computer.objects.get(), field, "3rd")
    account_info.set_value(Computer.objects.get(), field, "3")
    assert AccountValue.objects.get().integer == 3
