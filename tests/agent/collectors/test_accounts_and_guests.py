"""LOCAL_USERS, LOCAL_GROUPS, USERS and VIRTUALMACHINES."""

from __future__ import annotations

from tests.agent.conftest import inventory_of


def test_local_users_come_from_passwd_with_the_gecos_name() -> None:
    users = inventory_of("fedora40-laptop").sections["LOCAL_USERS"]
    alice = users[2]
    assert alice == {
        "GID": "1000",
        "HOME": "/home/alice",
        "ID_USER": "1000",
        "LOGIN": "alice",
        "NAME": "Alice Martin",
        "SHELL": "/bin/bash",
    }
    assert users[0]["ID_USER"] == "0"  # root's 0 is sent (the Unix agent drops it)


def test_groups_list_explicit_members_and_primary_users() -> None:
    groups = {group["NAME"]: group for group in inventory_of("debian12-server").sections["LOCAL_GROUPS"]}
    assert groups["root"]["MEMBER"] == "root"  # as in the Unix agent's sample
    assert groups["kvm"]["MEMBER"] == "libvirt-qemu"
    assert groups["libvirt"]["MEMBER"] == "ops"
    assert groups["docker"]["ID_GROUP"] == "110"


def test_libvirt_guests_and_docker_containers_are_virtual_machines() -> None:
    guests = inventory_of("debian12-server").sections["VIRTUALMACHINES"]
    assert [(guest["NAME"], guest["STATUS"], guest["SUBSYSTEM"]) for guest in guests] == [
        ("web-01", "running", "libvirt"),
        ("db-01", "running", "libvirt"),
        ("test-win11", "shut off", "libvirt"),
        ("nginx-proxy", "running", "docker"),
        ("backup-job", "exited", "docker"),
    ]
    assert guests[0]["UUID"] == "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    assert guests[0]["VMID"] == "1"
    assert guests[2]["VMID"] == ""
    assert guests[3]["VMID"] == "3f4e5d6c7b8a"


def test_logged_in_users_are_listed_once_each() -> None:
    assert inventory_of("fedora40-laptop").sections["USERS"] == [{"LOGIN": "alice"}]
    assert "USERS" not in inventory_of("debian12-vm").sections  # nobody logged in
