"""BATTERIES: power supplies of type Battery under /sys/class/power_supply.

The kernel's power_supply class (Documentation/ABI/testing/sysfs-class-power) gives energy
in µWh (or charge in µAh) and voltage in µV; the Unix agent sends DESIGNCAPACITY in mWh and
DESIGNVOLTAGE in mV, as dmidecode's type 22 does.
"""

from __future__ import annotations

from ocelot.agent.host import Host

SECTION = "BATTERIES"

BASE = "/sys/class/power_supply"


def _micro(host: Host, path: str) -> int:
    value = host.read_value(path)
    return int(value) if value.lstrip("-").isdigit() else 0


def collect(host: Host, found: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    rows = []
    for name in host.list_dir(BASE):
        path = f"{BASE}/{name}"
        if host.read_value(f"{path}/type") != "Battery":
            continue
        voltage = _micro(host, f"{path}/voltage_min_design")
        energy = _micro(host, f"{path}/energy_full_design")
        if not energy and voltage:
            # charge (µAh) x voltage (µV) = energy in 10^-12 Wh; mWh = / 10^9
            energy = _micro(host, f"{path}/charge_full_design") * voltage // 1_000_000
        rows.append(
            {
                "CHEMISTRY": host.read_value(f"{path}/technology"),
                "DESIGNCAPACITY": str(energy // 1000) if energy else "",
                "DESIGNVOLTAGE": str(voltage // 1000) if voltage else "",
                "MANUFACTURER": host.read_value(f"{path}/manufacturer"),
                "NAME": host.read_value(f"{path}/model_name") or name,
                "SERIALNUMBER": host.read_value(f"{path}/serial_number"),
            }
        )
    return rows
