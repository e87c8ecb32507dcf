"""The software dictionary (seed "Utiliser le dictionnaire de logiciels pour l'intégration GLPI")."""

from __future__ import annotations

import pytest

from ocelot.inventory import software_dictionary as dictionary
from ocelot.inventory.ingest import software_key, store_inventory
from ocelot.inventory.models import Software
from ocelot.inventory.software_dictionary import DictionaryError
from tests.inventory.payloads import small_inventory

pytestmark = pytest.mark.django_db


def _software(name: str, version: str = "1", category: str = "") -> Software:
    return Software.objects.create(
        key=software_key(name, "", version), name=name, version=version, category=category
    )


def _categories() -> dict[str, int]:
    return {c.name: c.software for c in dictionary.categories()}


def test_new_software_from_an_inventory_is_in_the_new_category() -> None:
    store_inventory(
        small_inventory("pc-2025-01-01-00-00-00", "<SOFTWARES><NAME>Microsoft Office 2003</NAME></SOFTWARES>")
    )
    assert _categories() == {dictionary.NEW: 1, dictionary.IGNORED: 0, dictionary.UNCHANGED: 0}
    assert [c.key for c in dictionary.categories()] == ["NEW", "IGNORED", "UNCHANGED"]


def test_the_three_built_in_categories_come_first_then_the_administrators_by_name() -> None:
    _software("Zeta", category="zoo")
    _software("Alpha", category="Apps")
    names = [c.name for c in dictionary.categories()]
    assert names == ["", "IGNORED", "UNCHANGED", "Apps", "zoo"]


def test_selected_software_moves_to_a_new_category_named_by_the_administrator() -> None:
    office_97, office_xp, editor = _software("MS Office 97"), _software("MS Office XP"), _software("vim")
    assert dictionary.move([office_97.pk, office_xp.pk], "  Microsoft Office ") == (2, "Microsoft Office")
    assert set(dictionary.software(category="Microsoft Office")) == {office_97, office_xp}
    assert list(dictionary.software(category=dictionary.NEW)) == [editor]


def test_a_new_category_spelled_like_an_existing_one_joins_it() -> None:
    _software("MS Office 97", category="Microsoft Office")
    other = _software("MS Office XP")
    assert dictionary.move([other.pk], "MICROSOFT OFFICE") == (1, "Microsoft Office")
    other.refresh_from_db()
    assert other.category == "Microsoft Office"


@pytest.mark.parametrize(
    ("given", "stored"), [("new", ""), ("Ignored", "IGNORED"), ("UNCHANGED", "UNCHANGED")]
)
def test_the_built_in_categories_are_named_in_any_case(given: str, stored: str) -> None:
    software = _software("Thing", category="Apps")
    dictionary.move([software.pk], given)
    software.refresh_from_db()
    assert software.category == stored


@pytest.mark.parametrize("name", ["", "   ", "x" * 256, "bad\x00name", "tab\there"])
def test_invalid_category_names_are_refused(name: str) -> None:
    software = _software("Thing")
    with pytest.raises(DictionaryError):
        dictionary.move([software.pk], name)


def test_moving_nothing_or_too_much_is_refused() -> None:
    with pytest.raises(DictionaryError):
        dictionary.move([], "Apps")
    with pytest.raises(DictionaryError):
        dictionary.move(range(1, dictionary.MAX_SELECTION + 2), "Apps")


def test_software_is_searched_everywhere_by_a_part_of_its_name() -> None:
    ignored = _software("Mozilla Firefox", category=dictionary.IGNORED)
    new = _software("firefox-esr")
    _software("Thunderbird")
    assert set(dictionary.software(search="FireFox")) == {ignored, new}
    assert list(dictionary.software(category=dictionary.IGNORED, search="fire")) == [ignored]


def test_search_wildcards_are_plain_characters() -> None:
    _software("50% off")
    _software("500 off")
    assert [s.name for s in dictionary.software(search="0%")] == ["50% off"]
    assert [s.name for s in dictionary.software(search="_")] == []


def test_categories_are_searched_by_a_part_of_their_name() -> None:
    _software("Word", category="Microsoft Office")
    _software("Gimp", category="Graphics")
    assert [c.name for c in dictionary.categories("OFFICE")] == ["Microsoft Office"]
    assert [c.name for c in dictionary.categories("ign")] == [dictionary.IGNORED]
    assert [c.name for c in dictionary.categories("new")] == [dictionary.NEW]


def test_move_all_moves_every_matching_software_not_only_one_page() -> None:
    for number in range(120):
        _software(f"KB{number:04d} update")
    _software("vim")
    moved = dictionary.move_all("ignored", category=dictionary.NEW, search="update")
    assert moved == (120, dictionary.IGNORED)
    assert _categories()[dictionary.IGNORED] == 120
    assert [s.name for s in dictionary.software(category=dictionary.NEW)] == ["vim"]


def test_move_all_needs_a_category_or_a_search() -> None:
    _software("vim")
    with pytest.raises(DictionaryError):
        dictionary.move_all("Apps")


def test_installation_counts_count_computers() -> None:
    body = "<SOFTWARES><NAME>vim</NAME><VERSION>9</VERSION></SOFTWARES>"
    store_inventory(small_inventory("a-2025-01-01-00-00-00", body))
    store_inventory(small_inventory("b-2025-01-01-00-00-00", body))
    vim = Software.objects.get()
    assert dictionary.installation_counts([vim.pk]) == {vim.pk: 2}
    assert dictionary.installation_counts([]) == {}
