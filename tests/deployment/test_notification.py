"""PROLOG announces assigned packages (protocol.md §4.4), byte for byte, and statuses move on."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ocelot.deployment.activation import activate
from ocelot.deployment.assignment import AssignmentOptions, assign
from ocelot.deployment.build import PackageRequest, build_package
from ocelot.deployment.models import Activation, Assignment, Package
from ocelot.deployment.notification import ALREADY_IN_HISTORY
from ocelot.deployment.results import record_result
from ocelot.inventory.contact import answer_contact, download_package_providers
from ocelot.inventory.models import Computer, GroupMember, PackageHistoryEntry
from ocelot.inventory.setting_values import set_global

pytestmark = pytest.mark.django_db

UA = "OCS-NG_unified_unix_agent_v2.10.0"
DEVICE = "pc-2026-01-01-00-00-00"


@pytest.fixture(autouse=True)
def _deployment_on(settings, tmp_path):  # type: ignore[no-untyped-def]
    import dataclasses

    settings.CONFIG = dataclasses.replace(settings.CONFIG, home=tmp_path / "home")
    set_global("DOWNLOAD", 1)


def command_package(name: str = "cmd") -> Package:
    return build_package(PackageRequest(name=name, os="linux", action="EXECUTE", command="true"), None)


def activated(
    name: str = "cmd", info: str = "ocs.example.org/download", frags: str = "ocs.example.org/download"
) -> Activation:
    return activate(command_package(name), info, frags, check=False).activation


def prolog() -> bytes:
    return answer_contact(DEVICE, user_agent=UA).to_xml()


def pack_lines(reply: bytes) -> list[bytes]:
    return [line.strip() for line in reply.splitlines() if b'TYPE="PACK"' in line]


def test_the_deployment_app_registered_its_provider_with_the_contact() -> None:
    assert len(download_package_providers) == 1


def test_a_waiting_assignment_is_announced_exactly_as_ocs_writes_it_then_notified() -> None:
    computer = Computer.objects.create(device_id=DEVICE)
    activation = activate(
        command_package(), "ocs.example.org/download", "site-a.example.org:8080/pkgs", check=False
    ).activation
    assign(activation, [computer.pk])
    pid = activation.package.package_id

    assert pack_lines(prolog()) == [
        f'<PARAM TYPE="PACK" ID="{pid}" INFO_LOC="ocs.example.org/download" '
        f'PACK_LOC="site-a.example.org:8080/pkgs" CERT_PATH="INSTALL_PATH" '
        f'CERT_FILE="INSTALL_PATH/cacert.pem" FORCE="0" SCHEDULE="" POSTCMD="" />'.encode()
    ]
    (assignment,) = Assignment.objects.all()
    assert assignment.status == "NOTIFIED" and assignment.notified_at is not None


def test_the_pack_params_follow_the_conf_param_inside_option_download() -> None:
    computer = Computer.objects.create(device_id=DEVICE)
    assign(activated(), [computer.pk])
    reply = prolog()
    option = reply[reply.index(b"<OPTION>") : reply.index(b"</OPTION>")]
    assert option.index(b'TYPE="CONF"') < option.index(b'TYPE="PACK"')
    assert b"<NAME>DOWNLOAD</NAME>" in option


def test_force_schedule_and_post_command_are_carried_and_escaped() -> None:
    computer = Computer.objects.create(device_id=DEVICE)
    options = AssignmentOptions(force=True, schedule="2026-12-24T18:30", post_command='msg "done" & <ok>')
    assign(activated(), [computer.pk], options)
    (line,) = pack_lines(prolog())
    assert b'FORCE="1" SCHEDULE="2026/12/24 18:30" POSTCMD="msg &quot;done&quot; &amp; &lt;ok&gt;" />' in line


def test_a_notified_package_is_announced_again_until_a_result_comes_then_never() -> None:
    computer = Computer.objects.create(device_id=DEVICE)
    activation = activated()
    assign(activation, [computer.pk])
    pid = activation.package.package_id
    assert len(pack_lines(prolog())) == 1
    assert len(pack_lines(prolog())) == 1  # NOTIFIED: again
    assert record_result(DEVICE, pid, "SUCCESS_3")
    assert pack_lines(prolog()) == []
    assert Assignment.objects.get().status == "SUCCESS_3"


def test_a_package_in_the_history_is_not_sent_unless_forced() -> None:
    computer = Computer.objects.create(device_id=DEVICE)
    done, forced = activated("done"), activated("forced")
    for activation in (done, forced):
        PackageHistoryEntry.objects.create(computer=computer, package_id=activation.package.package_id)
    assign(done, [computer.pk])
    assign(forced, [computer.pk], AssignmentOptions(force=True))

    lines = pack_lines(prolog())

    assert len(lines) == 1 and f'ID="{forced.package.package_id}"'.encode() in lines[0]
    assert Assignment.objects.get(package=done.package).status == ALREADY_IN_HISTORY
    assert Assignment.objects.get(package=forced.package).status == "NOTIFIED"


def test_nothing_is_announced_when_deployment_is_off_and_nothing_changes() -> None:
    computer = Computer.objects.create(device_id=DEVICE)
    assign(activated(), [computer.pk])
    set_global("DOWNLOAD", 0)
    assert pack_lines(prolog()) == []
    assert Assignment.objects.get().status == ""


def test_a_break_carries_no_option_and_notifies_nothing() -> None:
    computer = Computer.objects.create(device_id=DEVICE)
    assign(activated(), [computer.pk])
    set_global("FREQUENCY", -1)
    assert b"<OPTION>" not in prolog()
    assert Assignment.objects.get().status == ""


def test_only_the_computers_own_assignments_are_announced() -> None:
    mine, other = Computer.objects.create(device_id=DEVICE), Computer.objects.create(device_id="other")
    first, second = activated("first"), activated("second")
    assign(first, [mine.pk])
    assign(second, [other.pk])
    (line,) = pack_lines(prolog())
    assert f'ID="{first.package.package_id}"'.encode() in line
    assert Assignment.objects.get(computer=other).status == ""


def test_a_computer_with_nothing_pending_costs_no_deployment_query() -> None:
    computer = Computer.objects.create(device_id=DEVICE)
    activation = activated()
    assign(activation, [computer.pk])
    record_result(DEVICE, activation.package.package_id, "SUCCESS")
    Computer.objects.create(device_id="never-assigned")
    prolog()  # warm the cached statements
    with CaptureQueriesContext(connection) as queries:
        prolog()
    with CaptureQueriesContext(connection) as baseline:
        answer_contact("never-assigned", user_agent=UA)
    assert len(queries) == len(baseline)
    # The only mention of assignments is the EXISTS inside the contact's own SELECT.
    (select,) = [q["sql"] for q in queries if "deployment_assignment" in q["sql"]]
    assert "EXISTS" in select and "device_id" in select


# ---------------------------------------------------------------- group assignments


def test_a_computer_joining_a_group_later_gets_the_groups_package_at_its_next_contact() -> None:
    from ocelot.deployment.assignment import assign_to_group, unassign_group
    from ocelot.deployment.groups import add_to_group, create_static_group

    group = create_static_group("lab")
    activation = activated()
    assert assign_to_group(activation, group, AssignmentOptions(schedule="2026/12/24 18:30")).total == 0
    computer = Computer.objects.create(device_id=DEVICE)
    assert pack_lines(prolog()) == []  # not a member yet

    add_to_group(group, [computer.pk])
    (line,) = pack_lines(prolog())

    assert f'ID="{activation.package.package_id}"'.encode() in line and b'SCHEDULE="2026/12/24 18:30"' in line
    assignment = Assignment.objects.get(computer=computer)
    assert (assignment.status, assignment.activation_id) == ("NOTIFIED", activation.pk)
    # Its status is its own from then on: a result ends it, the group does not restart it.
    record_result(DEVICE, activation.package.package_id, "ERR_BAD_DIGEST")
    assert pack_lines(prolog()) == []
    assert Assignment.objects.get(computer=computer).status == "ERR_BAD_DIGEST"

    other = Computer.objects.create(device_id="other")
    add_to_group(group, [other.pk])
    unassign_group(activation.package, group)
    assert answer_contact("other", user_agent=UA) and not Assignment.objects.filter(computer=other).exists()


def test_the_group_path_skips_excluded_members_and_packages_in_the_history() -> None:
    from ocelot.deployment.assignment import assign_to_group
    from ocelot.deployment.groups import create_static_group

    group = create_static_group("lab")
    done, forced = activated("done"), activated("forced")
    assign_to_group(done, group)
    assign_to_group(forced, group, AssignmentOptions(force=True))
    computer = Computer.objects.create(device_id=DEVICE)
    for activation in (done, forced):
        PackageHistoryEntry.objects.create(computer=computer, package_id=activation.package.package_id)
    member = GroupMember.objects.create(group=group, computer=computer, kind=GroupMember.EXCLUDED)
    assert pack_lines(prolog()) == []
    assert not Assignment.objects.exists()

    member.kind = GroupMember.DYNAMIC
    member.save()
    (line,) = pack_lines(prolog())

    assert f'ID="{forced.package.package_id}" '.encode() in line and b'FORCE="1"' in line
    assert list(Assignment.objects.values_list("package_id", flat=True)) == [forced.package_id]


def test_a_group_assignment_does_not_cost_queries_to_computers_outside_the_group() -> None:
    from ocelot.deployment.assignment import assign_to_group
    from ocelot.deployment.groups import create_static_group

    assign_to_group(activated(), create_static_group("lab"))
    Computer.objects.create(device_id=DEVICE)
    prolog()
    with CaptureQueriesContext(connection) as queries:
        prolog()
    # Only the contact's own SELECT looks at assignments (its EXISTS said no): announce()
    # never ran, and it would have read group memberships.
    (select,) = [q["sql"] for q in queries if "deployment_" in q["sql"] or "groupmember" in q["sql"]]
    assert "device_id" in select
