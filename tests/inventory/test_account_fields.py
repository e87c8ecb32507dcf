"""Account info field definitions (seed "Éditer les informations administratives")."""

from __future__ import annotations

import pytest

from ocelot.inventory import account_fields
from ocelot.inventory.account_fields import AccountFieldError, create_field, delete_field
from ocelot.inventory.account_info import server_pairs, set_value
from ocelot.inventory.ingest import store_inventory
from ocelot.inventory.models import AccountField, AccountValue, Computer
from tests.inventory.payloads import small_inventory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", ["text", "integer", "real", "date"])
def test_a_field_has_a_name_and_one_of_the_four_kinds(kind: str) -> None:
    field = create_field("PURCHASE_DATE", kind)
    assert (field.name, field.kind) == ("PURCHASE_DATE", kind)


@pytest.mark.parametrize(
    "name",
    ["", "   ", "purchase date", "prix€", "a-b", "1st", "x" * 65, "name;DROP TABLE", "own\ner", "_hidden"],
)
def test_names_with_spaces_or_special_characters_are_refused(name: str) -> None:
    with pytest.raises(AccountFieldError):
        create_field(name, "text")
    assert not AccountField.objects.exists()


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(AccountFieldError):
        create_field("OWNER", "blob")


def test_the_tag_is_built_in_and_cannot_be_defined_again() -> None:
    with pytest.raises(AccountFieldError):
        create_field("tag", "text")


def test_names_are_unique_without_regard_to_case() -> None:
    create_field("Owner", "text")
    with pytest.raises(AccountFieldError):
        create_field("OWNER", "integer")


def test_the_number_of_fields_is_bounded() -> None:
    AccountField.objects.bulk_create(AccountField(name=f"F{i}") for i in range(account_fields.MAX_FIELDS))
    with pytest.raises(AccountFieldError):
        create_field("ONE_MORE", "text")


def test_the_list_counts_the_values_of_each_field() -> None:
    store_inventory(small_inventory("pc-2025-01-01-00-00-00", ""))
    owner = create_field("OWNER", "text")
    create_field("ROOM", "integer")
    set_value(Computer.objects.get(), owner, "Alice")
    summaries = account_fields.account_fields()
    assert [(s.field.name, s.values) for s in summaries] == [("OWNER", 1), ("ROOM", 0)]


def test_deleting_a_field_removes_its_values_and_agents_no_longer_get_it() -> None:
    store_inventory(small_inventory("pc-2025-01-01-00-00-00", ""))
    computer = Computer.objects.get()
    owner = create_field("OWNER", "text")
    set_value(computer, owner, "Alice")

    assert delete_field(owner.pk) == ("OWNER", 1)
    assert not AccountValue.objects.exists()
    assert [key for key, _value in server_pairs(computer)] == ["TAG"]


def test_deleting_a_field_that_does_not_exist_is_an_error() -> None:
    with pytest.raises(AccountFieldError):
        delete_field(12345)
