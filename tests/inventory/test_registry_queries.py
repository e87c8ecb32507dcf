"""Registry queries (seed "Utiliser les fonctionnalités de requêtes sur le Registre")."""

from __future__ import annotations

import pytest

from ocelot.inventory import registry_queries
from ocelot.inventory.contact import answer_contact
from ocelot.inventory.models import RegistryQuery
from ocelot.inventory.registry_queries import RegistryQueryError, create_query, delete_query, update_query
from ocelot.inventory.setting_values import set_global

pytestmark = pytest.mark.django_db

OFFICE_KEY = r"SOFTWARE\Microsoft\Office\10.0\Registration\{9011040C-6000-11D3-8CFE-0050048383C9}"


def test_the_seed_example_is_stored_as_given() -> None:
    query = create_query("MS Office XP", "2", OFFICE_KEY, "ProductID")
    assert (query.name, query.hive, query.key, query.value_name) == (
        "MS Office XP",
        2,
        OFFICE_KEY,
        "ProductID",
    )
    assert query.get_hive_display() == "HKEY_LOCAL_MACHINE"


def test_a_star_reads_every_value_of_the_key() -> None:
    query = create_query("Run", 2, r"Software\Microsoft\Windows\CurrentVersion\Run", "*")
    assert query.value_name == registry_queries.ALL_VALUES


@pytest.mark.parametrize("hive", ["6", "-1", "HKLM", "", "2.5"])
def test_only_the_six_hives_are_accepted(hive: str) -> None:
    with pytest.raises(RegistryQueryError):
        create_query("Q", hive, "SOFTWARE", "X")


@pytest.mark.parametrize(
    ("name", "key", "value_name"),
    [
        ("", "SOFTWARE", "X"),
        ("Q", "", "X"),
        ("Q", "\\\\", "X"),
        ("Q", "SOFTWARE", ""),
        ("Q\x00", "SOFTWARE", "X"),
        ("Q", "SOFT\x1fWARE", "X"),
        ("x" * 256, "SOFTWARE", "X"),
        ("Q", "K" * 1025, "X"),
        ("Q", "SOFTWARE", "v" * 256),
    ],
)
def test_empty_oversized_and_control_character_fields_are_refused(
    name: str, key: str, value_name: str
) -> None:
    with pytest.raises(RegistryQueryError):
        create_query(name, 2, key, value_name)
    assert not RegistryQuery.objects.exists()


def test_surrounding_backslashes_of_the_key_are_dropped() -> None:
    assert create_query("Q", 2, "\\SOFTWARE\\Vendor\\", "X").key == "SOFTWARE\\Vendor"


def test_names_are_unique_without_regard_to_case() -> None:
    create_query("Office", 2, "SOFTWARE", "X")
    with pytest.raises(RegistryQueryError):
        create_query("OFFICE", 1, "SOFTWARE", "Y")


def test_the_number_of_queries_is_bounded() -> None:
    RegistryQuery.objects.bulk_create(
        RegistryQuery(name=f"Q{i}", hive=2, key="K", value_name="V")
        for i in range(registry_queries.MAX_QUERIES)
    )
    with pytest.raises(RegistryQueryError):
        create_query("One more", 2, "K", "V")


def test_a_query_can_be_changed_but_not_to_another_query_s_name() -> None:
    first = create_query("First", 2, "K", "V")
    create_query("Second", 2, "K", "V")
    changed = update_query(first.pk, "First", "0", "CLSID", "*")
    assert (changed.hive, changed.key, changed.value_name) == (0, "CLSID", "*")
    with pytest.raises(RegistryQueryError):
        update_query(first.pk, "second", "2", "K", "V")


def test_deleting_returns_the_name_and_a_missing_query_is_an_error() -> None:
    query = create_query("Q", 2, "K", "V")
    assert delete_query(query.pk) == "Q"
    with pytest.raises(RegistryQueryError):
        delete_query(query.pk)


def test_agents_get_the_queries_only_while_registry_is_on() -> None:
    create_query("MS Office XP", 2, OFFICE_KEY, "ProductID")
    reply = answer_contact("pc-2025-01-01-00-00-00", user_agent="OCS-NG_WINDOWS_AGENT_v2.11")
    assert "REGISTRY" not in {option.name for option in reply.options}

    set_global("REGISTRY", "on")
    reply = answer_contact("pc-2025-01-01-00-00-00", user_agent="OCS-NG_WINDOWS_AGENT_v2.11")
    (option,) = [option for option in reply.options if option.name == "REGISTRY"]
    (param,) = option.params
    assert param.attributes == {"NAME": "MS Office XP", "REGTREE": "2", "REGKEY": OFFICE_KEY}
    assert param.text == "ProductID"
