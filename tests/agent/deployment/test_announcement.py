"""Reading the PROLOG reply's DOWNLOAD option (protocol.md §4.4)."""

from __future__ import annotations

from ocelot.agent.deployment.announcement import DownloadConf, PackOrder, read_announcement
from ocelot.protocol.xmltree import Node, parse_xml
from tests.agent.deployment.site import prolog_reply


def option(*params: dict[str, str]) -> list[Node]:
    node = Node(
        "OPTION", children=[Node("NAME", text="DOWNLOAD")] + [Node("PARAM", attrib=p) for p in params]
    )
    return parse_xml(prolog_reply(node)).find_all("OPTION")


def test_conf_values_are_read_and_a_missing_on_means_off() -> None:
    announced = read_announcement(
        option(
            {
                "TYPE": "CONF",
                "ON": "1",
                "FRAG_LATENCY": "1",
                "CYCLE_LATENCY": "2",
                "PERIOD_LATENCY": "3",
                "PERIOD_LENGTH": "4",
                "TIMEOUT": "5",
                "EXECUTION_TIMEOUT": "6",
            }
        )
    )
    assert announced is not None
    assert announced.conf == DownloadConf(True, 1, 2, 3, 4, 5, 6)
    missing = read_announcement(option({"TYPE": "CONF", "FRAG_LATENCY": "1"}))
    assert missing is not None and missing.conf.on is False
    # Defaults where values are missing or not numbers: Windows' (protocol.md §9.3), TIMEOUT 30 days.
    odd = read_announcement(option({"TYPE": "CONF", "ON": "1", "TIMEOUT": "", "PERIOD_LENGTH": "x"}))
    assert odd is not None and (odd.conf.timeout_days, odd.conf.period_length) == (30, 10)


def test_pack_params_with_unusable_ids_or_locations_are_ignored() -> None:
    announced = read_announcement(
        option(
            {"TYPE": "CONF", "ON": "1"},
            {
                "TYPE": "PACK",
                "ID": "1700000001",
                "INFO_LOC": "srv:443/download",
                "PACK_LOC": "srv/download/",
                "FORCE": "1",
            },
            {"TYPE": "PACK", "ID": "1700000001", "INFO_LOC": "other/download", "PACK_LOC": "other/download"},
            {"TYPE": "PACK", "ID": "../1", "INFO_LOC": "srv/download", "PACK_LOC": "srv/download"},
            {"TYPE": "PACK", "ID": "1700000002", "INFO_LOC": "srv/x?y#z", "PACK_LOC": "srv/download"},
            {"TYPE": "PACK", "ID": "1700000003", "INFO_LOC": "user@evil/x", "PACK_LOC": "srv/download"},
        )
    )
    assert announced is not None
    assert announced.packs == (PackOrder("1700000001", "srv:443/download", "srv/download", force=True),)
    assert announced.refused == ("../1", "1700000002", "1700000003")


def test_a_reply_without_download_option_announces_nothing() -> None:
    reply = parse_xml(prolog_reply(Node("OPTION", children=[Node("NAME", text="IPDISCOVER")])))
    assert read_announcement(reply.find_all("OPTION")) is None
