"""PROLOG tells a scanner what to scan (protocol.md §4.5), and asks no more of others."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ocelot.inventory.contact import answer_contact
from ocelot.inventory.setting_values import set_global
from ocelot.ipdiscover.choices import set_choice
from ocelot.ipdiscover.election import after_inventory
from ocelot.ipdiscover.models import Scanner
from tests.ipdiscover.factories import UNIX_AGENT, computer, inventory, settings

pytestmark = pytest.mark.django_db


def test_an_elected_computer_gets_the_ipdiscover_option_with_its_latency_and_always_sends() -> None:
    set_global("FREQUENCY", 30)
    made = computer(ip="192.168.10.20")
    after_inventory(made, inventory(made), settings(), False)
    set_global("IPDISCOVER_LATENCY", 250)
    reply = answer_contact(made.device_id, user_agent=UNIX_AGENT).to_xml()
    assert b"<RESPONSE>SEND</RESPONSE>" in reply
    assert b'<NAME>IPDISCOVER</NAME>\n    <PARAM IPDISC_LAT="250">192.168.10.0</PARAM>' in reply


def test_a_computer_not_elected_gets_no_ipdiscover_option_and_stops_when_fresh() -> None:
    set_global("FREQUENCY", 30)
    made = computer()
    reply = answer_contact(made.device_id, user_agent=UNIX_AGENT).to_xml()
    assert b"IPDISCOVER" not in reply
    assert b"<RESPONSE>STOP</RESPONSE>" in reply


def test_never_and_ipdiscover_0_send_no_option() -> None:
    made = computer()
    set_choice(made.pk, "never")
    assert b"IPDISCOVER" not in answer_contact(made.device_id, user_agent=UNIX_AGENT).to_xml()
    set_choice(made.pk, "forced", "192.168.10.0")
    assert b"<NAME>IPDISCOVER</NAME>" in answer_contact(made.device_id, user_agent=UNIX_AGENT).to_xml()
    set_global("IPDISCOVER", 0)
    assert b"IPDISCOVER" not in answer_contact(made.device_id, user_agent=UNIX_AGENT).to_xml()


def test_the_option_costs_no_query_of_its_own() -> None:
    made = computer()
    made.last_inventory_at = timezone.now() - timedelta(hours=1)
    made.save()
    with CaptureQueriesContext(connection) as queries:
        answer_contact(made.device_id, user_agent=UNIX_AGENT)
    scanner_table = Scanner._meta.db_table
    touching = [q["sql"] for q in queries.captured_queries if scanner_table in q["sql"]]
    # Exactly one statement mentions the scanners: the contact's own SELECT of the computer.
    assert len(touching) == 1
    assert "device_id" in touching[0]


def test_a_choice_made_on_the_computer_page_counts_from_the_next_contact() -> None:
    from ocelot.inventory.mass_actions import apply_settings
    from ocelot.inventory.models import Computer

    made = computer()
    after_inventory(made, inventory(made), settings(), False)  # elected
    chosen = Computer.objects.filter(pk=made.pk)
    apply_settings(chosen, {"IPDISCOVER": "never"}, audit=lambda *args, **kwargs: None)
    assert b"IPDISCOVER" not in answer_contact(made.device_id, user_agent=UNIX_AGENT).to_xml()
    apply_settings(chosen, {"IPDISCOVER": "forced:10.1.2.0"}, audit=lambda *args, **kwargs: None)
    reply = answer_contact(made.device_id, user_agent=UNIX_AGENT).to_xml()
    assert b">10.1.2.0</PARAM>" in reply
