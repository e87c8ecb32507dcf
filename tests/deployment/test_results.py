"""Results bind to the assignment of that computer and package; anything else changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from ocelot.deployment.activation import activate
from ocelot.deployment.assignment import assign
from ocelot.deployment.build import PackageRequest, build_package
from ocelot.deployment.models import Activation, Assignment, ReportedResult
from ocelot.deployment.results import UNBOUND_KEPT, record_result
from ocelot.inventory.models import Computer

pytestmark = pytest.mark.django_db


@pytest.fixture
def activation(settings: Any, tmp_path: Any) -> Activation:
    import dataclasses

    settings.CONFIG = dataclasses.replace(settings.CONFIG, home=tmp_path / "home")
    package = build_package(PackageRequest(name="cmd", os="linux", action="EXECUTE", command="true"), None)
    return activate(package, "ocs.example.org/download", "ocs.example.org/download", check=False).activation


def test_a_result_sets_the_status_of_its_notified_assignment_verbatim(activation: Activation) -> None:
    computer = Computer.objects.create(device_id="pc")
    assign(activation, [computer.pk])
    Assignment.objects.update(status="NOTIFIED")
    assert record_result("pc", activation.package.package_id, "ERR_EXECUTE_TOO_MANY_TRY")
    assignment = Assignment.objects.get()
    assert assignment.status == "ERR_EXECUTE_TOO_MANY_TRY" and assignment.result_at is not None
    assert ReportedResult.objects.get().bound


def test_a_result_for_another_computer_or_package_changes_nothing(activation: Activation) -> None:
    mine, other = Computer.objects.create(device_id="pc"), Computer.objects.create(device_id="other")
    assign(activation, [mine.pk])
    Assignment.objects.update(status="NOTIFIED")
    pid = activation.package.package_id

    assert not record_result("other", pid, "SUCCESS")  # not assigned to that computer
    assert not record_result("pc", pid + 1, "SUCCESS")  # no such package
    assert not record_result("nobody", pid, "SUCCESS")  # no such computer

    assert Assignment.objects.get(computer=mine).status == "NOTIFIED"
    assert not Assignment.objects.filter(computer=other).exists()
    assert list(ReportedResult.objects.values_list("bound", flat=True)) == [False, False]


def test_a_replayed_result_does_not_overwrite_the_first_one(activation: Activation) -> None:
    computer = Computer.objects.create(device_id="pc")
    assign(activation, [computer.pk])
    Assignment.objects.update(status="NOTIFIED")
    pid = activation.package.package_id
    assert record_result("pc", pid, "ERR_BAD_DIGEST")
    assert not record_result("pc", pid, "SUCCESS")
    assert Assignment.objects.get().status == "ERR_BAD_DIGEST"


def test_a_hostile_code_is_cut_to_the_column_and_stored_as_text(activation: Activation) -> None:
    computer = Computer.objects.create(device_id="pc")
    assign(activation, [computer.pk])
    code = "ERR_<script>" + "x" * 200
    assert record_result("pc", activation.package.package_id, code)
    assert Assignment.objects.get().status == code[:64]


def test_repeated_reports_that_match_nothing_keep_only_the_last_ones(activation: Activation) -> None:
    computer = Computer.objects.create(device_id="pc")
    assign(activation, [computer.pk])
    Assignment.objects.update(status="NOTIFIED")
    assert record_result("pc", activation.package.package_id, "SUCCESS")
    for number in range(UNBOUND_KEPT + 15):
        assert not record_result("pc", 1_700_000_000 + number, "SUCCESS")
    unbound = ReportedResult.objects.filter(computer=computer, bound=False)
    assert unbound.count() == UNBOUND_KEPT
    assert min(unbound.values_list("package_id", flat=True)) == 1_700_000_015
    # The one that meant something stays.
    assert ReportedResult.objects.filter(computer=computer, bound=True).count() == 1
