"""CONTROLLERS, VIDEOS, SOUNDS (lspci), MONITORS (EDID), USBDEVICES, BATTERIES, PRINTERS."""

from __future__ import annotations

from ocelot.agent.collectors.monitors import parse_edid
from tests.agent.conftest import inventory_of


def test_pci_controllers_read_like_the_unix_agent_sample() -> None:
    controllers = inventory_of("debian12-vm").sections["CONTROLLERS"]
    assert len(controllers) == 6
    assert controllers[3] == {
        "DRIVER": "virtio-pci",
        "MANUFACTURER": "Red Hat, Inc. Virtio 1.0 network device",
        "NAME": "Ethernet controller [0200]",
        "PCIID": "1af4:1041",
        "PCISLOT": "00:03.0",
        "TYPE": "rev 01",
    }


def test_a_laptop_has_a_video_card_a_sound_card_and_two_screens() -> None:
    sections = inventory_of("fedora40-laptop").sections
    (video,) = sections["VIDEOS"]
    assert video["NAME"] == "TigerLake-LP GT2 [Iris Xe Graphics]"
    assert video["CHIPSET"] == "Intel Corporation"
    assert video["RESOLUTION"] == "2560x1440"
    (sound,) = sections["SOUNDS"]
    assert sound["NAME"] == "Tiger Lake-LP Smart Sound Technology Audio Controller"
    screens = {screen["MANUFACTURER"]: screen for screen in sections["MONITORS"]}
    assert screens["DEL"]["CAPTION"] == "DELL U2722D"
    assert screens["DEL"]["SERIAL"] == "7XK1234"
    assert screens["AUO"]["CAPTION"] == "B140HAN06.8"
    assert screens["AUO"]["DESCRIPTION"] == "3/2021"


def test_an_edid_without_the_fixed_header_is_refused() -> None:
    assert parse_edid(b"\x00" * 128) is None
    assert parse_edid(b"") is None


def test_usb_devices_leave_hubs_and_interfaces_out() -> None:
    devices = inventory_of("fedora40-laptop").sections["USBDEVICES"]
    assert [device["TYPE"] for device in devices] == ["046d:c52b", "04f2:b6ea", "06cb:00fc"]
    assert devices[1]["DESCRIPTION"] == "Integrated Camera"
    assert devices[1]["MANUFACTURER"] == "Chicony Electronics Co.,Ltd."


def test_a_battery_reports_its_design_capacity_in_mwh_and_voltage_in_mv() -> None:
    (battery,) = inventory_of("fedora40-laptop").sections["BATTERIES"]
    assert battery == {
        "CHEMISTRY": "Li-poly",
        "DESIGNCAPACITY": "57000",
        "DESIGNVOLTAGE": "11580",
        "MANUFACTURER": "SMP",
        "NAME": "5B10W13975",
        "SERIALNUMBER": "801",
    }


def test_cups_queues_are_printers_with_their_uri_and_ppd() -> None:
    printers = inventory_of("fedora40-laptop").sections["PRINTERS"]
    assert printers[0] == {
        "DESCRIPTION": "HP LaserJet Pro M404dn",
        "DRIVER": "/etc/cups/ppd/HP_LaserJet_M404.ppd",
        "NAME": "HP_LaserJet_M404",
        "PORT": "ipp://192.168.1.20/ipp/print",
    }


def test_a_machine_without_these_devices_sends_none_of_their_sections() -> None:
    sections = inventory_of("debian12-vm").sections
    for absent in ("VIDEOS", "SOUNDS", "MONITORS", "USBDEVICES", "BATTERIES", "PRINTERS", "VIRTUALMACHINES"):
        assert absent not in sections
