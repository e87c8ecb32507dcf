"""Answering contacts: SEND or STOP, bookkeeping and options (protocol.md §4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ocelot.inventory.contact import answer_contact
from ocelot.inventory.models import Computer, Group, GroupMember, RegistryQuery
from ocelot.inventory.setting_values import global_values, set_global, set_override

pytestmark = pytest.mark.django_db

UA = "OCS-NG_unified_unix_agent_v2.10.0"
DEVICE = "pc-2026-01-01-00-00-00"


def _download_conf(reply) -> dict[str, str]:  # type: ignore[no-untyped-def]
    (option,) = [o for o in reply.options if o.name == "DOWNLOAD"]
    return option.params[0].attributes


def test_an_unknown_computer_is_asked_for_an_inventory_and_not_created() -> None:
    reply = answer_contact(DEVICE, user_agent=UA)
    assert reply.send
    assert not Computer.objects.exists()


def test_the_download_option_always_carries_on_and_timeout() -> None:
    conf = _download_conf(answer_contact(DEVICE, user_agent=UA))
    assert conf["TYPE"] == "CONF"
    assert conf["ON"] == "0"
    assert conf["TIMEOUT"] == "30"

    set_global("DOWNLOAD", 1)
    assert _download_conf(answer_contact(DEVICE, user_agent=UA))["ON"] == "1"


def test_a_computer_or_group_switch_turns_deployment_off_for_it() -> None:
    set_global("DOWNLOAD", 1)
    computer = Computer.objects.create(device_id=DEVICE)
    group = Group.objects.create(name="frozen")
    GroupMember.objects.create(group=group, computer=computer)
    set_override("DOWNLOAD_SWITCH", 0, group=group)
    assert _download_conf(answer_contact(DEVICE, user_agent=UA))["ON"] == "0"
    set_override("DOWNLOAD_SWITCH", 1, computer=computer)
    assert _download_conf(answer_contact(DEVICE, user_agent=UA))["ON"] == "1"


def test_frequency_decides_send_or_stop_from_the_last_inventory() -> None:
    set_global("FREQUENCY", 2)
    Computer.objects.create(device_id=DEVICE, last_inventory_at=timezone.now() - timedelta(days=1))
    reply = answer_contact(DEVICE, user_agent=UA)
    assert not reply.send
    assert reply.options  # options still go with a STOP

    Computer.objects.filter(device_id=DEVICE).update(last_inventory_at=timezone.now() - timedelta(days=3))
    assert answer_contact(DEVICE, user_agent=UA).send


def test_frequency_minus_one_is_a_break_without_options() -> None:
    set_global("FREQUENCY", -1)
    reply = answer_contact(DEVICE, user_agent=UA)
    assert not reply.send
    assert reply.options == ()


def test_a_per_computer_frequency_overrides_the_global_zero() -> None:
    # OCS 2.8.1 lets a global 0 win before reading overrides (protocol.md §4.3); we do not.
    computer = Computer.objects.create(device_id=DEVICE, last_inventory_at=timezone.now())
    set_override("FREQUENCY", 7, computer=computer)
    assert not answer_contact(DEVICE, user_agent=UA).send


def test_prolog_freq_comes_from_the_computers_groups() -> None:
    computer = Computer.objects.create(device_id=DEVICE)
    group = Group.objects.create(name="night")
    GroupMember.objects.create(group=group, computer=computer)
    set_override("PROLOG_FREQ", 4, group=group)
    assert answer_contact(DEVICE, user_agent=UA).prolog_freq == 4
    assert answer_contact("other-2026-01-01-00-00-00", user_agent=UA).prolog_freq == 24


def test_each_contact_updates_fidelity_quality_and_the_last_contact() -> None:
    earlier = timezone.now() - timedelta(days=2)
    Computer.objects.create(device_id=DEVICE, fidelity=3, quality=1.0, last_contact_at=earlier)
    answer_contact(DEVICE, user_agent=UA)
    computer = Computer.objects.get()
    assert computer.fidelity == 4
    assert computer.quality == pytest.approx((2 + 1.0 * 3) / 4, abs=0.01)
    assert computer.last_contact_at is not None and computer.last_contact_at > earlier
    assert computer.user_agent == UA


def test_a_second_contact_sets_quality_to_the_days_since_the_first() -> None:
    # FIDELITY 1: QUALITY is the days since the last contact, not an average (§4.3 2.1).
    Computer.objects.create(
        device_id=DEVICE, fidelity=1, quality=9.0, last_contact_at=timezone.now() - timedelta(days=3)
    )
    answer_contact(DEVICE, user_agent=UA)
    computer = Computer.objects.get()
    assert computer.fidelity == 2
    assert computer.quality == pytest.approx(3.0, abs=0.01)


def test_a_computer_without_a_last_contact_keeps_its_quality() -> None:
    Computer.objects.create(device_id=DEVICE, fidelity=5, quality=0.5, last_contact_at=None)
    answer_contact(DEVICE, user_agent="OCS-NG_WINDOWS_AGENT_v2.11")
    computer = Computer.objects.get()
    assert (computer.fidelity, computer.quality) == (6, 0.5)
    assert computer.last_contact_at is not None
    assert computer.user_agent == "OCS-NG_WINDOWS_AGENT_v2.11"


def test_an_unknown_computer_leaves_known_ones_alone() -> None:
    Computer.objects.create(device_id=DEVICE, fidelity=3, quality=1.0)
    assert answer_contact("stranger-2026-01-01-00-00-00", user_agent=UA).send
    assert Computer.objects.values_list("device_id", "fidelity").get() == (DEVICE, 3)


def test_a_known_computers_contact_is_one_statement_on_postgresql_two_elsewhere() -> None:
    # PostgreSQL: one UPDATE ... RETURNING, one round trip. SQLite and MariaDB: a SELECT of
    # the computer and its flags, then the UPDATE (bench/README.md, "Where the time goes").
    Computer.objects.create(device_id=DEVICE, last_inventory_at=timezone.now())
    base = global_values()
    answer_contact(DEVICE, user_agent=UA, base=base)
    with CaptureQueriesContext(connection) as queries:
        assert answer_contact(DEVICE, user_agent=UA, base=base).send
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2)
    assert Computer.objects.get().fidelity == 3


def test_on_postgresql_the_contact_runs_as_a_prepared_statement() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("statements are prepared on PostgreSQL only")
    Computer.objects.create(device_id=DEVICE)
    runs_sql = (
        "SELECT COALESCE(SUM(generic_plans + custom_plans), 0) FROM pg_prepared_statements"
        " WHERE statement LIKE 'UPDATE inventory_computer SET quality%%'"
    )
    with connection.cursor() as cursor:
        cursor.execute(runs_sql)
        (before,) = cursor.fetchone()
        for _ in range(3):
            answer_contact(DEVICE, user_agent=UA)
        cursor.execute(runs_sql)
        (after,) = cursor.fetchone()
    assert after - before == 3


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_contact_is_its_own_commit_and_changes_no_session_setting() -> None:
    # The agent endpoint runs in autocommit. On PostgreSQL the contact's commit does not
    # wait for the disk (synchronous_commit off for that one statement's transaction).
    Computer.objects.create(device_id=DEVICE, fidelity=3, quality=1.0)
    postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgresql:
            cursor.execute("SET synchronous_commit TO on")
        assert answer_contact(DEVICE, user_agent=UA).send
        assert Computer.objects.get().fidelity == 4
        if postgresql:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone() == ("on",)
            # Inside a caller's transaction the commit is the caller's: left as it is.
            with transaction.atomic():
                answer_contact(DEVICE, user_agent=UA)
                cursor.execute("SHOW synchronous_commit")
                assert cursor.fetchone() == ("on",)
    assert Computer.objects.get().fidelity == (5 if postgresql else 4)


def test_on_postgresql_the_autocommit_statement_switches_synchronous_commit_off_for_its_transaction() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is a PostgreSQL setting")
    from ocelot.inventory import contact

    Computer.objects.create(device_id=DEVICE)
    sql = contact._contact_sql_postgresql((), (), True)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO on")
        cursor.execute(sql, {"device_id": DEVICE, "now": timezone.now(), "user_agent": UA})
        cursor.execute("SHOW synchronous_commit")
        # In the agent endpoint's autocommit, that transaction is the statement itself.
        assert cursor.fetchone() == ("off",)


def test_registry_queries_are_sent_only_when_registry_is_on() -> None:
    RegistryQuery.objects.create(
        name="office", hive=2, key=r"SOFTWARE\Microsoft\Office", value_name="ProductID"
    )
    assert [o.name for o in answer_contact(DEVICE, user_agent=UA).options] == ["DOWNLOAD"]
    set_global("REGISTRY", 1)
    reply = answer_contact(DEVICE, user_agent=UA)
    (registry,) = [o for o in reply.options if o.name == "REGISTRY"]
    assert registry.params[0].attributes == {
        "NAME": "office",
        "REGTREE": "2",
        "REGKEY": r"SOFTWARE\Microsoft\Office",
    }
    assert registry.params[0].text == "ProductID"
    assert b"<NAME>REGISTRY</NAME>" in reply.to_xml()


def test_with_inventory_session_only_an_inventory_must_follow_a_contact() -> None:
    from ocelot.inventory.ingest import IngestError, store_inventory
    from tests.inventory.payloads import small_inventory

    set_global("INVENTORY_SESSION_ONLY", 1)
    with pytest.raises(IngestError) as refused:
        store_inventory(small_inventory(DEVICE, ""))
    assert refused.value.status == 403
    assert not Computer.objects.exists()

    assert answer_contact(DEVICE, user_agent=UA).send
    store_inventory(small_inventory(DEVICE, ""))
    assert Computer.objects.count() == 1
    with pytest.raises(IngestError):  # the session is used up
        store_inventory(small_inventory(DEVICE, ""))
    store_inventory(small_inventory(DEVICE, ""), imported=True)  # local import needs no contact


# ---------------------------------------------------------------- package providers (§4.4)


def _pack_params(reply) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    (option,) = [o for o in reply.options if o.name == "DOWNLOAD"]
    return [param.attributes for param in option.params[1:]]


def test_pack_params_come_from_the_registered_providers_only_when_they_say_something_is_pending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ocelot.inventory import contact

    calls: list[int] = []

    def packages(computer_id: int) -> list[dict[str, str]]:
        calls.append(computer_id)
        return [{"TYPE": "PACK", "ID": "1"}, {"TYPE": "PACK", "ID": "2"}, {"TYPE": "PACK", "ID": "1"}]

    pending = contact.DownloadPackageProvider(
        f"EXISTS(SELECT 1 FROM {Computer._meta.db_table} c WHERE c.id = {{computer}} AND c.name = 'busy')",
        packages,
    )
    monkeypatch.setattr(contact, "download_package_providers", [pending])
    set_global("DOWNLOAD", 1)
    computer = Computer.objects.create(device_id=DEVICE)

    assert _pack_params(answer_contact(DEVICE, user_agent=UA)) == []
    assert calls == []  # nothing pending: the provider is not even asked

    Computer.objects.filter(pk=computer.pk).update(name="busy")
    # After the CONF PARAM, each ID once (§4.4: a FILEID at most once per reply).
    assert _pack_params(answer_contact(DEVICE, user_agent=UA)) == [
        {"TYPE": "PACK", "ID": "1"},
        {"TYPE": "PACK", "ID": "2"},
    ]
    assert calls == [computer.pk]

    set_global("DOWNLOAD", 0)  # deployment off: no PACK, the provider is not asked
    assert _pack_params(answer_contact(DEVICE, user_agent=UA)) == []
    assert calls == [computer.pk]
    # An unknown computer never gets packages.
    assert _pack_params(answer_contact("unknown", user_agent=UA)) == []
