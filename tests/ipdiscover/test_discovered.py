"""Storing scan results: one row per MAC, first and last seen, linked to inventoried computers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ocelot.inventory.models import NetworkInterface
from ocelot.ipdiscover.discovered import store_scan
from ocelot.ipdiscover.election import after_inventory
from ocelot.ipdiscover.models import DiscoveredDevice, Scanner
from ocelot.protocol.messages import DiscoveredHost
from tests.ipdiscover.factories import computer, inventory, settings

pytestmark = pytest.mark.django_db


def test_a_scanner_inventory_stores_its_hosts_on_its_subnet() -> None:
    scanner = computer(ip="192.168.10.20")
    after_inventory(scanner, inventory(scanner), settings(), False)
    hosts = [
        DiscoveredHost("192.168.10.1", "AA:BB:CC:00:00:01", "router"),
        DiscoveredHost("192.168.10.2", "aa:bb:cc:00:00:02", "-"),
    ]
    after_inventory(scanner, inventory(scanner, hosts), settings(), False)
    rows = {d.mac: d for d in DiscoveredDevice.objects.all()}
    assert set(rows) == {"aa:bb:cc:00:00:01", "aa:bb:cc:00:00:02"}
    assert rows["aa:bb:cc:00:00:01"].ip_address == "192.168.10.1"
    assert rows["aa:bb:cc:00:00:01"].subnet == "192.168.10.0"
    assert rows["aa:bb:cc:00:00:01"].name == "router"
    assert Scanner.objects.filter(computer=scanner).exists()  # results keep the role


def test_malformed_hosts_and_addresses_outside_the_subnet_are_dropped() -> None:
    hosts = [
        DiscoveredHost("192.168.10.300", "aa:bb:cc:00:00:01", ""),
        DiscoveredHost("192.168.10.3", "not a mac", ""),
        DiscoveredHost("10.0.0.1", "aa:bb:cc:00:00:03", "elsewhere"),
        DiscoveredHost("192.168.10.4", "aa:bb:cc:00:00:04", "<b>ok</b>"),
    ]
    written = store_scan(hosts, subnet="192.168.10.0", netmask="255.255.255.0", now=timezone.now())
    assert written == 1
    assert list(DiscoveredDevice.objects.values_list("mac", "name")) == [("aa:bb:cc:00:00:04", "<b>ok</b>")]


def test_a_second_scan_keeps_first_seen_and_moves_last_seen_and_the_address() -> None:
    first = timezone.now() - timedelta(days=3)
    store_scan(
        [DiscoveredHost("192.168.10.5", "aa:bb:cc:00:00:05", "a")],
        subnet="192.168.10.0",
        netmask="255.255.255.0",
        now=first,
    )
    later = timezone.now()
    store_scan(
        [DiscoveredHost("192.168.10.6", "aa:bb:cc:00:00:05", "b")],
        subnet="192.168.10.0",
        netmask="255.255.255.0",
        now=later,
    )
    device = DiscoveredDevice.objects.get()
    assert device.first_seen_at == first
    assert device.last_seen_at == later
    assert (device.ip_address, device.name) == ("192.168.10.6", "b")


def test_a_mac_of_an_inventoried_computer_is_linked_to_it_either_way_round() -> None:
    known = computer(ip="192.168.10.7")
    mac = NetworkInterface.objects.get(computer=known).mac
    store_scan(
        [DiscoveredHost("192.168.10.7", mac.upper(), "")],
        subnet="192.168.10.0",
        netmask="255.255.255.0",
        now=timezone.now(),
    )
    assert DiscoveredDevice.objects.get().computer == known
    # A device seen first, inventoried later: its inventory links it.
    store_scan(
        [DiscoveredHost("192.168.10.8", "aa:bb:cc:00:00:08", "")],
        subnet="192.168.10.0",
        netmask="255.255.255.0",
        now=timezone.now(),
    )
    later = computer(ip="192.168.10.8")
    NetworkInterface.objects.filter(computer=later).update(mac="AA:BB:CC:00:00:08")
    inv = inventory(later)
    inv.sections["networks"] = [{"mac": "AA:BB:CC:00:00:08"}]
    after_inventory(later, inv, settings(), False)
    assert DiscoveredDevice.objects.get(mac="aa:bb:cc:00:00:08").computer == later
