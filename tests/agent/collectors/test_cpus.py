"""CPUS: one row per socket, the fields of the Unix agent's sample."""

from __future__ import annotations

from tests.agent.conftest import inventory_of


def test_the_vm_has_one_socket_with_two_cores() -> None:
    (cpu,) = inventory_of("debian12-vm").sections["CPUS"]
    assert cpu["CORES"] == "2"
    assert cpu["LOGICAL_CPUS"] == "2"
    assert cpu["THREADS"] == "2"
    assert cpu["NBSOCKET"] == "1"
    assert cpu["CPUARCH"] == "x86_64"
    assert cpu["DATA_WIDTH"] == "64"
    assert cpu["MANUFACTURER"] == "Intel"
    assert cpu["L2CACHESIZE"] == "2 MiB (2 instances)"  # lscpu's text, as in the sample
    assert cpu["SPEED"] == "2500"  # no maximum under KVM: the model name's "@ 2.50GHz"


def test_a_hyperthreaded_laptop_counts_threads_and_its_maximum_speed() -> None:
    (cpu,) = inventory_of("fedora40-laptop").sections["CPUS"]
    assert (cpu["CORES"], cpu["THREADS"], cpu["LOGICAL_CPUS"]) == ("4", "8", "8")
    assert cpu["SPEED"] == "4700"  # lscpu's maximum, not the current 1200 MHz
    assert "CURRENT_SPEED" not in cpu


def test_a_two_socket_server_gives_two_rows() -> None:
    cpus = inventory_of("debian12-server").sections["CPUS"]
    assert [cpu["MANUFACTURER"] for cpu in cpus] == ["AMD", "AMD"]
    assert {cpu["NBSOCKET"] for cpu in cpus} == {"2"}
    assert {cpu["LOGICAL_CPUS"] for cpu in cpus} == {"4"}
