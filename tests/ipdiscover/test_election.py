"""The scanner election after each inventory, rule by rule (protocol.md §11, seeds 004)."""

from __future__ import annotations

import pytest

from ocelot.ipdiscover.choices import set_choice
from ocelot.ipdiscover.election import after_inventory
from ocelot.ipdiscover.models import Scanner
from tests.ipdiscover.factories import computer, inventory, settings

pytestmark = pytest.mark.django_db


def run(made, **changes: int) -> None:  # type: ignore[no-untyped-def]
    after_inventory(made, inventory(made), settings(**changes), False)


def role(made) -> tuple[str, str] | None:  # type: ignore[no-untyped-def]
    scanner = Scanner.objects.filter(computer=made).first()
    return (scanner.role, scanner.subnet) if scanner else None


def test_a_faithful_linux_computer_on_a_slash_24_is_elected_on_its_subnet() -> None:
    made = computer(ip="192.168.10.20", netmask="255.255.255.0")
    run(made)
    assert role(made) == ("elected", "192.168.10.0")
    assert Scanner.objects.get(computer=made).netmask == "255.255.255.0"


def test_a_windows_computer_is_eligible_and_a_mac_is_not() -> None:
    windows = computer(os_name="Microsoft Windows 10 Pro", user_agent="OCS-NG_WINDOWS_AGENT_v2.9.2.0")
    mac = computer(ip="192.168.20.5", os_name="macOS 14.1")
    run(windows)
    run(mac)
    assert role(windows) == ("elected", "192.168.10.0")
    assert role(mac) is None


def test_a_slash_8_network_is_never_elected() -> None:
    made = computer(ip="10.1.2.3", netmask="255.0.0.0")
    run(made)
    assert role(made) is None


def test_a_slash_16_is_the_widest_network_elected() -> None:
    wide = computer(ip="172.16.4.4", netmask="255.255.0.0")
    wider = computer(ip="172.20.4.4", netmask="255.254.0.0")
    run(wide)
    run(wider)
    assert role(wide) == ("elected", "172.16.0.0")
    assert role(wider) is None


def test_fidelity_2_is_not_elected_and_3_is() -> None:
    two = computer(fidelity=2)
    three = computer(ip="192.168.30.1", fidelity=3)
    run(two)
    run(three)
    assert role(two) is None
    assert role(three) == ("elected", "192.168.30.0")


def test_no_postpone_elects_without_fidelity() -> None:
    made = computer(fidelity=1, quality=0)
    run(made, IPDISCOVER_NO_POSTPONE=1)
    assert role(made) == ("elected", "192.168.10.0")


def test_a_quality_of_zero_is_not_elected() -> None:
    made = computer(quality=0)
    run(made)
    assert role(made) is None


def test_ppp_and_down_interfaces_are_not_scanned() -> None:
    ppp = computer(description="ppp0")
    down = computer(ip="192.168.40.2", status="Down")
    run(ppp)
    run(down)
    assert role(ppp) is None and role(down) is None


def test_ipdiscover_0_switches_the_election_off_and_drops_elected_scanners() -> None:
    made = computer()
    run(made, IPDISCOVER=0)
    assert role(made) is None
    run(made)
    assert role(made) == ("elected", "192.168.10.0")
    after_inventory(made, inventory(made, []), settings(IPDISCOVER=0), False)
    assert role(made) is None


def test_a_subnet_gets_as_many_scanners_as_ipdiscover_says() -> None:
    first, second, third = (computer(ip=f"192.168.10.{n}") for n in (1, 2, 3))
    for made in (first, second, third):
        run(made, IPDISCOVER=2)
    assert [role(m) for m in (first, second, third)] == [
        ("elected", "192.168.10.0"),
        ("elected", "192.168.10.0"),
        None,
    ]


def test_a_better_quality_replaces_the_worst_scanner() -> None:
    worse = computer(ip="192.168.10.1", quality=5.0)
    better = computer(ip="192.168.10.2", quality=1.0)
    run(worse, IPDISCOVER=1)
    run(better, IPDISCOVER=1)
    assert role(worse) is None
    assert role(better) == ("elected", "192.168.10.0")


def test_a_quality_within_the_threshold_does_not_replace() -> None:
    scanner = computer(ip="192.168.10.1", quality=2.0)
    candidate = computer(ip="192.168.10.2", quality=1.5)
    run(scanner, IPDISCOVER=1)
    run(candidate, IPDISCOVER=1, IPDISCOVER_BETTER_THRESHOLD=1)
    assert role(scanner) == ("elected", "192.168.10.0")
    assert role(candidate) is None


def test_a_scanner_silent_for_max_alive_days_is_replaced() -> None:
    silent = computer(ip="192.168.10.1", quality=1.0, inventory_days_ago=8)
    fresh = computer(ip="192.168.10.2", quality=1.0)
    run(silent, IPDISCOVER=1, IPDISCOVER_MAX_ALIVE=7)
    run(fresh, IPDISCOVER=1, IPDISCOVER_MAX_ALIVE=7)
    assert role(silent) is None
    assert role(fresh) == ("elected", "192.168.10.0")


def test_a_scanner_within_max_alive_days_is_kept() -> None:
    recent = computer(ip="192.168.10.1", quality=1.0, inventory_days_ago=6)
    other = computer(ip="192.168.10.2", quality=1.0)
    run(recent, IPDISCOVER=1, IPDISCOVER_MAX_ALIVE=7)
    run(other, IPDISCOVER=1, IPDISCOVER_MAX_ALIVE=7)
    assert role(recent) == ("elected", "192.168.10.0")
    assert role(other) is None


def test_never_is_never_undone_by_the_election() -> None:
    made = computer()
    set_choice(made.pk, "never")
    run(made)
    assert role(made) == ("never", "")


def test_a_forced_scanner_is_never_replaced_nor_dropped() -> None:
    forced = computer(ip="192.168.10.1", quality=9.0, inventory_days_ago=30)
    set_choice(forced.pk, "forced", "192.168.10.0")
    better = computer(ip="192.168.10.2", quality=0.5)
    run(better, IPDISCOVER=1)
    # An inventory without scan results does not drop a forced role either.
    run(forced, IPDISCOVER=1)
    assert role(forced) == ("forced", "192.168.10.0")
    assert role(better) is None


def test_an_elected_scanner_that_sends_no_result_loses_its_role() -> None:
    made = computer()
    run(made)
    assert role(made) is not None
    run(made)  # its next inventory carries no CONTENT/IPDISCOVER
    assert role(made) is None


def test_an_imported_inventory_never_elects() -> None:
    made = computer()
    after_inventory(made, inventory(made), settings(), True)
    assert role(made) is None


def test_an_agent_that_cannot_scan_is_not_elected() -> None:
    made = computer(user_agent="FusionInventory-Agent_v2.6")
    run(made)
    assert role(made) is None


def test_storing_an_inventory_runs_the_election() -> None:
    from ocelot.inventory.ingest import store_inventory
    from ocelot.inventory.models import Computer
    from ocelot.inventory.setting_values import set_global
    from ocelot.protocol.messages import Inventory

    set_global("IPDISCOVER_NO_POSTPONE", 1)
    sent = Inventory(
        device_id="fresh-2026-01-01-00-00-00",
        changed_bits=None,
        sections={
            "hardware": [{"name": "fresh", "os_name": "Linux"}],
            "networks": [
                {
                    "ip_address": "192.168.50.9",
                    "netmask": "255.255.255.0",
                    "subnet": "192.168.50.0",
                    "status": "Up",
                    "description": "eth0",
                    "mac": "02:00:00:aa:00:01",
                }
            ],
        },
    )
    store_inventory(sent, user_agent="Ocelot-Agent_v0.1")
    assert role(Computer.objects.get(device_id=sent.device_id)) == ("elected", "192.168.50.0")


def test_a_choice_made_on_the_computer_page_is_kept_by_the_election() -> None:
    from ocelot.inventory.mass_actions import apply_settings
    from ocelot.inventory.models import Computer

    made = computer()
    apply_settings(Computer.objects.filter(pk=made.pk), {"IPDISCOVER": "never"}, audit=lambda *a, **k: None)
    run(made)
    assert role(made) == ("never", "")
    apply_settings(
        Computer.objects.filter(pk=made.pk), {"IPDISCOVER": "automatic"}, audit=lambda *a, **k: None
    )
    run(made)
    assert role(made) == ("elected", "192.168.10.0")


def test_a_first_inventory_costs_the_election_two_statements() -> None:
    # Runs after every inventory: linking the devices seen with the computer's MACs, then
    # its choice by hand and its role in one statement; a computer with FIDELITY 1 is
    # postponed before the groups are read.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    made = computer(fidelity=1)
    with CaptureQueriesContext(connection) as queries:
        run(made)
    assert role(made) is None
    assert len(queries) == 2, [query["sql"] for query in queries]
