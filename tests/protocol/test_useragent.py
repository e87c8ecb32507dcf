"""The User-Agent gate: every real agent family, any version; nothing else (protocol.md §1.2, §1.7)."""

from __future__ import annotations

import pytest

from ocelot.protocol.useragent import is_agent, split_user_agent


@pytest.mark.parametrize(
    "user_agent",
    [
        "OCS-NG_unified_unix_agent_v2.10.0",
        # A real 2.8.1 server refuses 2.9 (it compares "2.9" > "2.8"); we do not.
        "OCS-NG_unified_unix_agent_v2.9.2",
        "OCS-NG_WINDOWS_AGENT_v2.11.0.1",
        "OCS-NG_windows_client_v4061",
        "FusionInventory-Agent_v2.6-3",
        "OCS-NG_INJECTOR_PL_v3",
        "OCS-NG_Android_agent_v2.x",
        "OCS-NG_Android_agent_v2.8.4",
        "OCS-NG_iOS_agent_v1.0.1",
        "OCS-NG_windows_mobile_agent_v2.1",
        "GLPI-Agent_v1.7",
        "GLPI-Agent_v1.7-1",
    ],
)
def test_real_agents_are_admitted(user_agent):
    assert is_agent(user_agent)


@pytest.mark.parametrize(
    "user_agent",
    [
        "",
        None,
        "curl/8.5.0",
        "curl/8",
        "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
        "python-requests/2.31.0",
        "OCS-NG_unified_unix_agent",
        "OCS-NG_unified_unix_agent_v",
        "OCS-NG_unified_unix_agent_vX",
        "FusionInventory-Agent",
        "Evil-Agent_v2.10.0",
        "OCS-NG_unified_unix_agent_v2.10.0; DROP TABLE hardware",
        "OCS-NG_unified_unix_agent_v" + "1" * 100,
    ],
)
def test_other_clients_are_refused(user_agent):
    assert not is_agent(user_agent)


def test_the_name_and_version_split_at_the_last_v_marker():
    assert split_user_agent("OCS-NG_unified_unix_agent_v2.10.0") == ("OCS-NG_unified_unix_agent", "2.10.0")
    assert split_user_agent("curl/8") is None
