"""The deployment engine against real HTTP(S) servers: the life of a package, issue 5's list.

Each test announces packages the way a PROLOG reply does, lets the engine work with a
fake clock (latencies are recorded, never slept) and checks what the server received.
"""

from __future__ import annotations

import hashlib
import subprocess
import tarfile
from pathlib import Path

from ocelot.agent.deployment.store import DownloadStore
from tests.agent.deployment.conftest import FakeClock
from tests.agent.deployment.helpers import deploy, engine, installer
from tests.agent.deployment.site import Pki, Site, b64, build, dropping_proxy
from tests.deployment.archives import tar_entry, tar_gz


def test_an_execute_package_in_three_fragments_runs_once_and_reports_success(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    marker = tmp_path / "installs"
    site.publish(build("1700000001", installer(marker), fragments=3, priority=1, signer=pki.signing_key))
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000001"))

    assert site.results == [("1700000001", "SUCCESS")]
    assert marker.read_text() == "installed\n"  # run in the extracted directory
    assert site.fragment_requests() == ["1700000001-1", "1700000001-2", "1700000001-3"]
    store = DownloadStore(vardir)
    assert store.history() == ["1700000001"]
    assert not (vardir / "download" / "1700000001").exists()
    assert store.pending_results() == []


def test_launch_exit_codes_and_store(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    launch = tar_gz(("run.sh", b"#!/bin/sh\nexit 3\n"))
    site.publish(
        build("1700000002", launch, action="LAUNCH", argument="run.sh --quiet", signer=pki.signing_key)
    )
    stored = tar_gz(("etc/app.conf", b"key=value\n"))
    site.publish(
        build("1700000003", stored, action="STORE", argument="INSTALL_PATH/stored", signer=pki.signing_key)
    )
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000002"), site.pack_param("1700000003"))

    # The seeds' status table: exit n is ERR_EXIT_CODE_n; STORE copies into PATH.
    assert sorted(site.results) == [("1700000002", "ERR_EXIT_CODE_3"), ("1700000003", "SUCCESS")]
    assert (vardir / "stored" / "etc" / "app.conf").read_text() == "key=value\n"
    assert sorted(DownloadStore(vardir).history()) == ["1700000002", "1700000003"]


def test_a_command_package_without_archive_runs_its_command(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    site.publish(build("1700000004", b"", argument=f"touch {marker}", fragments=0, signer=pki.signing_key))
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000004"))
    assert site.results == [("1700000004", "SUCCESS")]
    assert marker.exists()


def test_priority_zero_goes_first_and_alone_then_every_nth_cycle(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    for package_id, priority in (("1700000015", 5), ("1700000012", 2), ("1700000010", 0)):
        archive = installer(tmp_path / package_id)
        site.publish(build(package_id, archive, fragments=2, priority=priority, signer=pki.signing_key))
    packs = [site.pack_param(i) for i in ("1700000015", "1700000012", "1700000010")]
    deploy(
        engine(site, vardir, pki, clock),
        *packs,
        FRAG_LATENCY="3",
        CYCLE_LATENCY="7",
        PERIOD_LATENCY="100",
        PERIOD_LENGTH="10",
    )

    # Priority 0: its 2 fragments and its install, alone, in cycles 1-3 (no cycle latency).
    # Then priority 2 in cycles 6, 8, 10 (i mod 2 = 0 from cycle 4 on: 4, 6 fetch, 8 installs)
    # and priority 5 in cycles 5 and 10, then its install in the next period's cycle 5.
    assert site.fragment_requests() == [
        "1700000010-1",
        "1700000010-2",
        "1700000012-1",
        "1700000015-1",
        "1700000012-2",
        "1700000015-2",
    ]
    assert [code for _, code in site.results] == ["SUCCESS"] * 3
    assert [package_id for package_id, _ in site.results] == ["1700000010", "1700000012", "1700000015"]
    # Period 1: priority 0 alone in cycles 1-3 (FRAG only); cycles 4-10 end with CYCLE, and
    # each step (4, 6, 8 for priority 2; 5, 10 for priority 5) with FRAG; then PERIOD.
    # Period 2: priority 5 installs in cycle 5; nothing is left, so no latency follows.
    period_one = [3, 3, 3, 3, 7, 3, 7, 3, 7, 7, 3, 7, 7, 3, 7, 100]
    period_two = [7, 7, 7, 7]
    assert clock.sleeps == [*period_one, *period_two]


def test_a_fragment_already_on_disk_is_never_fetched_again(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    package = build("1700000020", installer(tmp_path / "m"), fragments=4, priority=1, signer=pki.signing_key)
    site.publish(package)
    missing = "/download/1700000020/1700000020-3"
    third = site.files.pop(missing)
    run = engine(site, vardir, pki, clock)
    deploy(run, site.pack_param("1700000020"))
    # Fragment 3 fails in every cycle of the period: no progress, the run ends, nothing reported.
    assert site.results == []
    assert site.fragment_requests()[:2] == ["1700000020-1", "1700000020-2"]
    assert set(site.fragment_requests()[2:]) == {"1700000020-3"}

    site.files[missing] = third
    site.requests.clear()
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000020"))
    assert site.fragment_requests() == ["1700000020-3", "1700000020-4"]
    assert "/download/1700000020/info" not in site.requests  # the verified info file is kept
    assert site.results == [("1700000020", "SUCCESS")]


def test_a_fragment_a_power_cut_spoiled_after_its_rename_is_checked_again_and_fetched_again(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    marker = tmp_path / "installs"
    site.publish(build("1700000021", installer(marker), fragments=3, priority=1, signer=pki.signing_key))
    missing = "/download/1700000021/1700000021-3"
    third = site.files.pop(missing)
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000021"))
    # Fragments with a SHA-256 are renamed into place without an fsync: a power cut can
    # leave one with its size but zeros, which the next run must not trust.
    spoiled = vardir / "download" / "1700000021" / "1700000021-2"
    spoiled.write_bytes(bytes(spoiled.stat().st_size))
    site.files[missing] = third
    site.requests.clear()
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000021"))
    assert site.fragment_requests() == ["1700000021-2", "1700000021-3"]
    assert site.results == [("1700000021", "SUCCESS")]
    assert marker.read_text() == "installed\n"


def test_an_ocs_fragment_changed_on_disk_between_two_runs_gives_bad_digest(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    marker = tmp_path / "installs"
    site.publish(build("1700000022", installer(marker), fragments=2, priority=1, ocs=True))
    missing = "/download/1700000022/1700000022-2"
    second = site.files.pop(missing)
    deploy(engine(site, vardir, pki, clock, signed=False), site.pack_param("1700000022"))
    # No SHA-256 per fragment from an OCS server: the archive's MD5, computed from disk for
    # what an earlier run fetched, is what catches it.
    first = vardir / "download" / "1700000022" / "1700000022-1"
    data = first.read_bytes()
    first.write_bytes(bytes([data[0] ^ 1]) + data[1:])
    site.files[missing] = second
    deploy(engine(site, vardir, pki, clock, signed=False), site.pack_param("1700000022"))
    assert site.results == [("1700000022", "ERR_BAD_DIGEST")]
    assert not marker.exists()


def test_a_fragment_failing_for_a_day_gives_download_pack_and_a_short_outage_does_not(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    marker = tmp_path / "installs"
    site.publish(build("1700000023", installer(marker), fragments=3, priority=1, signer=pki.signing_key))
    second = site.files.pop("/download/1700000023/1700000023-2")
    site.files.pop("/download/1700000023/1700000023-3")
    pack = site.pack_param("1700000023")
    deploy(engine(site, vardir, pki, clock), pack)
    assert site.results == []  # ten attempts in a second are an outage, not a missing fragment
    clock.current += 2 * 86400
    site.files["/download/1700000023/1700000023-2"] = second
    deploy(engine(site, vardir, pki, clock), pack)
    assert site.results == []  # fragment 2 came: fragment 3 only starts failing now
    clock.current += 2 * 86400
    deploy(engine(site, vardir, pki, clock), pack)
    # Fragment 3 failed more than FETCH_ATTEMPTS times over more than a day.
    assert site.results == [("1700000023", "ERR_DOWNLOAD_PACK")]
    assert site.fragment_requests()[-1] == "1700000023-3"
    assert not (vardir / "download" / "1700000023").exists()
    assert not marker.exists()
    assert DownloadStore(vardir).history() == []


def test_a_package_directory_that_cannot_be_removed_reports_clean_after_its_result(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    marker = tmp_path / "installs"
    # The install leaves an immutable file behind (root only, as the agent runs).
    command = "sh install.sh && chattr +i payload.txt"
    site.publish(build("1700000024", installer(marker), argument=command, signer=pki.signing_key))
    try:
        deploy(engine(site, vardir, pki, clock), site.pack_param("1700000024"))
        assert site.results == [("1700000024", "SUCCESS"), ("1700000024", "ERR_CLEAN")]
        store = DownloadStore(vardir)
        assert store.history() == ["1700000024"]
        assert store.pending_results() == []
        # Out of the package space: never taken for a package (nor reported INTERRUPTED) again.
        assert not (vardir / "download" / "1700000024").exists()
        assert list((vardir / "download").glob(".removing-1700000024-*"))
    finally:
        for path in vardir.rglob("payload.txt"):
            subprocess.run(["chattr", "-i", str(path)], check=True)
    site.results.clear()
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000024"))
    assert not list((vardir / "download").glob(".removing-*"))  # removed at the next run
    assert site.results == [("1700000024", "SUCCESS_ALREADY_SETUP")]
    assert marker.read_text() == "installed\n"  # ran once


def test_a_proxy_dropping_connections_mid_fragment_is_retried_and_resumed(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    marker = tmp_path / "installs"
    big = installer(marker, extra=hashlib.sha256(b"x").digest() * 20000)
    package = build("1700000030", big, fragments=3, priority=1, signer=pki.signing_key)
    site.publish(package)
    with dropping_proxy(site.pack_host, drops=2, after=len(package.fragments[0]) // 2) as proxy:
        pack = site.pack_param("1700000030", PACK_LOC=f"{proxy}/download")
        deploy(engine(site, vardir, pki, clock), pack)
    # Two cut fragment downloads, retried in the next cycles, each continuing where the
    # last one stopped (HTTP ranges: the fragment's SHA-256 is known).
    assert site.fragment_requests()[:3] == ["1700000030-1"] * 3
    assert site.fragment_requests()[3:] == ["1700000030-2", "1700000030-3"]
    offsets = [int(r.removeprefix("bytes=").removesuffix("-")) for r in site.ranges]
    assert len(offsets) == 2 and 0 < offsets[0] < offsets[1] < len(package.fragments[0])
    assert site.results == [("1700000030", "SUCCESS")]
    assert marker.read_bytes().startswith(b"installed\n")


def test_a_server_ignoring_ranges_or_a_bad_kept_part_gives_a_whole_fragment_again(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    package = build("1700000031", installer(tmp_path / "m"), fragments=1, priority=1, signer=pki.signing_key)
    site.publish(package)
    whole = site.files.pop("/download/1700000031/1700000031-1")
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000031"))
    # What a crash mid-write could leave: a part whose bytes are not the fragment's.
    (vardir / "download" / "1700000031" / ".1700000031-1.part").write_bytes(b"x" * 10)
    site.files["/download/1700000031/1700000031-1"] = whole
    site.requests.clear()
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000031"))
    assert site.ranges == ["bytes=10-"]  # continued, found wrong, then fetched whole
    assert site.fragment_requests() == ["1700000031-1", "1700000031-1"]
    assert site.results == [("1700000031", "SUCCESS")]

    # A server that answers a range request with the whole file (200): taken whole.
    site.results.clear()
    site.ranges.clear()
    site.honour_ranges = False
    other = tmp_path / "other"
    other.mkdir()
    site.files.pop("/download/1700000031/1700000031-1")
    deploy(engine(site, other, pki, clock), site.pack_param("1700000031"))
    (other / "download" / "1700000031" / ".1700000031-1.part").write_bytes(whole[:10])
    site.files["/download/1700000031/1700000031-1"] = whole
    deploy(engine(site, other, pki, clock), site.pack_param("1700000031"))
    assert site.ranges == ["bytes=10-"]
    assert site.results == [("1700000031", "SUCCESS")]


def test_a_tampered_fragment_gives_bad_digest_and_nothing_runs(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    marker = tmp_path / "installs"
    site.publish(build("1700000040", installer(marker), fragments=2, priority=1, signer=pki.signing_key))
    path = "/download/1700000040/1700000040-2"
    site.files[path] = bytes([site.files[path][0] ^ 1]) + site.files[path][1:]
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000040"))
    assert site.results == [("1700000040", "ERR_BAD_DIGEST")]
    assert not marker.exists()
    assert DownloadStore(vardir).history() == []
    assert not (vardir / "download" / "1700000040").exists()


def test_an_ocs_package_is_checked_by_its_md5_and_a_tampered_one_never_runs(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    marker = tmp_path / "installs"
    site.publish(build("1700000041", installer(marker), fragments=2, priority=1, ocs=True))
    site.publish(build("1700000042", installer(marker), fragments=2, priority=1, ocs=True))
    path = "/download/1700000042/1700000042-1"
    site.files[path] = site.files[path][:-1] + bytes([site.files[path][-1] ^ 1])
    # No signing key known: an OCS server's unsigned info files are taken as TLS gave them.
    deploy(
        engine(site, vardir, pki, clock, signed=False),
        site.pack_param("1700000041"),
        site.pack_param("1700000042"),
    )
    assert sorted(site.results) == [("1700000041", "SUCCESS"), ("1700000042", "ERR_BAD_DIGEST")]
    assert marker.read_text() == "installed\n"


def test_legacy_digests_sha1_base64_without_padding_are_accepted(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    archive = installer(tmp_path / "m")
    package = build("1700000043", archive, fragments=1, priority=1, ocs=True)
    digest = b64(hashlib.sha1(archive).digest()).rstrip("=")  # Perl b64digest: no padding
    package.info = (
        package.info.replace(hashlib.md5(archive).hexdigest().encode(), digest.encode())
        .replace(b'DIGEST_ALGO="MD5"', b'DIGEST_ALGO="SHA1"')
        .replace(b'DIGEST_ENCODE="Hexa"', b'DIGEST_ENCODE="Base64"')
    )
    site.publish(package)
    deploy(engine(site, vardir, pki, clock, signed=False), site.pack_param("1700000043"))
    assert site.results == [("1700000043", "SUCCESS")]


def test_a_bad_or_missing_signature_is_refused_before_any_fragment(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    marker = tmp_path / "installs"
    forged = build("1700000050", installer(marker), fragments=1, priority=1, signer=pki.signing_key)
    forged.info = forged.info.replace(b'COMMAND="sh install.sh"', b'COMMAND="sh -c id"')
    site.publish(forged)
    site.publish(build("1700000051", installer(marker), fragments=1, priority=1))  # unsigned
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000050"), site.pack_param("1700000051"))
    assert site.results == [("1700000050", "ERR_BAD_SIGNATURE"), ("1700000051", "ERR_BAD_SIGNATURE")]
    assert site.fragment_requests() == []
    assert not marker.exists()


def test_info_file_problems(site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path) -> None:
    wrong = build("1700000061", installer(tmp_path / "m"), signer=pki.signing_key)
    site.files["/download/1700000060/info"] = wrong.info  # the info of another package
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000060"), site.pack_param("1700000062"))
    assert site.results == [("1700000060", "ERR_BAD_ID"), ("1700000062", "ERR_DOWNLOAD_INFO")]
    assert [p.name for p in (vardir / "download").iterdir() if p.name.isdigit()] == []


def test_an_info_file_from_a_server_the_ca_does_not_vouch_for_is_not_used(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    from ocelot.agent.client import tls_context
    from ocelot.agent.deployment.fetch import Fetcher
    from tests.agent.deployment.site import make_pki

    other = make_pki(tmp_path / "other")
    site.publish(build("1700000063", installer(tmp_path / "m"), signer=pki.signing_key))
    run = engine(site, vardir, pki, clock)
    run.fetcher = Fetcher(tls_context(verify=True, ca_file=other.ca_file), timeout=5)
    deploy(run, site.pack_param("1700000063"))
    assert site.results == [("1700000063", "ERR_DOWNLOAD_INFO")]
    assert site.requests == []  # the TLS handshake failed: no request was made


def test_members_escaping_the_package_are_refused_and_nothing_runs(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    marker = tmp_path / "installs"
    hostile = [
        tar_gz(("install.sh", b"touch ran\n"), ("../escaped", b"x")),
        tar_gz(("install.sh", b"touch ran\n"), (str(tmp_path / "absolute"), b"x")),
        tar_gz(("install.sh", b"touch ran\n"), tar_entry("link", tarfile.SYMTYPE, link="../../..")),
        tar_gz(("install.sh", b"touch ran\n"), tar_entry("dev", tarfile.CHRTYPE)),
    ]
    ids = [f"170000007{n}" for n in range(len(hostile))]
    for package_id, archive in zip(ids, hostile, strict=True):
        site.publish(
            build(package_id, archive, argument=f"sh install.sh; touch {marker}", signer=pki.signing_key)
        )
    deploy(engine(site, vardir, pki, clock), *[site.pack_param(i) for i in ids], PERIOD_LENGTH="5")
    assert sorted(site.results) == [(i, "ERR_BUILD") for i in ids]
    assert not marker.exists()
    assert not (tmp_path / "absolute").exists()
    assert not list(vardir.rglob("escaped"))
    assert not list(tmp_path.rglob("escaped"))


def test_a_command_running_past_execution_timeout_is_killed(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    marker = tmp_path / "after"
    site.publish(
        build("1700000080", b"", argument=f"sleep 30; touch {marker}", fragments=0, signer=pki.signing_key)
    )
    deploy(engine(site, vardir, pki, clock, command_timeout=0.5), site.pack_param("1700000080"))
    assert site.results == [("1700000080", "ERR_EXECUTE_TIMEOUT")]
    assert not marker.exists()
    assert DownloadStore(vardir).history() == ["1700000080"]  # it ran: never again


def test_a_package_in_the_history_is_already_setup_unless_forced(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    marker = tmp_path / "installs"
    site.publish(build("1700000090", installer(marker), priority=1, signer=pki.signing_key))
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000090"))
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000090"))
    assert site.results == [("1700000090", "SUCCESS"), ("1700000090", "SUCCESS_ALREADY_SETUP")]
    assert marker.read_text() == "installed\n"
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000090", FORCE="1"))
    assert site.results[-1] == ("1700000090", "SUCCESS")
    assert marker.read_text() == "installed\n" * 2


def test_a_package_older_than_timeout_days_expires(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    site.publish(
        build("1700000100", installer(tmp_path / "m"), fragments=2, priority=1, signer=pki.signing_key)
    )
    fragment = site.files.pop("/download/1700000100/1700000100-2")
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000100"), TIMEOUT="3")
    assert site.results == []
    site.files["/download/1700000100/1700000100-2"] = fragment
    clock.current += 3 * 86400 + 1
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000100"), TIMEOUT="3")
    assert site.results == [("1700000100", "ERR_TIMEOUT")]
    assert not (vardir / "download" / "1700000100").exists()


def test_on_zero_stops_and_a_result_is_resent_until_accepted(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    site.publish(build("1700000110", installer(tmp_path / "m"), priority=1, signer=pki.signing_key))
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000110"), ON="0")
    assert site.requests == []
    site.result_status = [500]
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000110"))
    assert site.results == []
    assert DownloadStore(vardir).pending_results() == [("1700000110", "SUCCESS", True)]
    # The next contact still announces it (no result arrived): the result goes, nothing reruns.
    site.requests.clear()
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000110"))
    assert site.results == [("1700000110", "SUCCESS")]
    assert site.requests == []
    assert DownloadStore(vardir).pending_results() == []


def test_an_install_a_crash_interrupted_reports_interrupted_and_never_runs_again(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    marker = tmp_path / "installs"
    site.publish(build("1700000120", installer(marker), fragments=2, priority=1, signer=pki.signing_key))
    second = site.files.pop("/download/1700000120/1700000120-2")
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000120"))
    # What a crash during the install leaves: the package directory with its "started" mark.
    (vardir / "download" / "1700000120" / "started").write_text("1800000000\n")
    site.files["/download/1700000120/1700000120-2"] = second
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000120"))
    assert site.results == [("1700000120", "ERR_INTERRUPTED")]
    assert not marker.exists()
    assert DownloadStore(vardir).history() == ["1700000120"]
    assert not (vardir / "download" / "1700000120").exists()


def test_resume_without_a_prolog_goes_on_with_the_packages_on_disk(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    marker = tmp_path / "installs"
    site.publish(build("1700000130", installer(marker), fragments=2, priority=1, signer=pki.signing_key))
    second = site.files.pop("/download/1700000130/1700000130-2")
    deploy(engine(site, vardir, pki, clock), site.pack_param("1700000130"), FRAG_LATENCY="2")
    site.files["/download/1700000130/1700000130-2"] = second
    site.requests.clear()
    clock.sleeps.clear()
    engine(site, vardir, pki, clock).resume()  # the CONF and PACK params kept on disk
    assert site.requests == ["/download/1700000130/1700000130-2"]
    assert site.results == [("1700000130", "SUCCESS")]
    assert clock.sleeps[0] == 2  # the kept FRAG_LATENCY


def test_a_missing_launch_file_or_an_empty_command_is_an_execution_error(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock
) -> None:
    archive = tar_gz(("other.sh", b"exit 0\n"))
    site.publish(build("1700000140", archive, action="LAUNCH", argument="setup.sh", signer=pki.signing_key))
    site.publish(build("1700000141", archive, argument="", signer=pki.signing_key))
    site.publish(
        build("1700000142", archive, action="LAUNCH", argument="../other.sh", signer=pki.signing_key)
    )
    deploy(engine(site, vardir, pki, clock), *[site.pack_param(f"170000014{n}") for n in range(3)])
    assert sorted(site.results) == [
        ("1700000140", "ERR_EXECUTE"),
        ("1700000141", "ERR_EXECUTE_PACK"),
        ("1700000142", "ERR_EXECUTE"),
    ]


def test_the_unsigned_packages_setting_lets_unsigned_info_through_but_never_a_bad_signature(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    marker = tmp_path / "installs"
    site.publish(build("1700000150", installer(marker), priority=1))  # unsigned
    forged = build("1700000151", installer(marker), priority=1, signer=pki.signing_key)
    forged.info = forged.info.replace(b'PRI="1"', b'PRI="2"')
    site.publish(forged)
    run = engine(site, vardir, pki, clock)
    run.accept_unsigned = True
    deploy(run, site.pack_param("1700000150"), site.pack_param("1700000151"))
    assert sorted(site.results) == [("1700000150", "SUCCESS"), ("1700000151", "ERR_BAD_SIGNATURE")]


def test_on_zero_written_by_a_later_contact_stops_a_running_engine_at_the_next_period(
    site: Site, vardir: Path, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    from ocelot.agent.deployment.announcement import DownloadConf

    site.publish(
        build("1700000160", installer(tmp_path / "m"), fragments=3, priority=1, signer=pki.signing_key)
    )
    store = DownloadStore(vardir)

    class SwitchedOff(FakeClock):
        def sleep(self, seconds: float) -> None:
            super().sleep(seconds)
            if seconds == 100:  # the end of the first period: another contact says ON=0
                store.write_conf(DownloadConf(on=False))

    deploy(
        engine(site, vardir, pki, SwitchedOff()),
        site.pack_param("1700000160"),
        PERIOD_LENGTH="1",
        PERIOD_LATENCY="100",
    )
    assert site.fragment_requests() == ["1700000160-1"]
    assert site.results == []
    assert (vardir / "download" / "1700000160" / "1700000160-1").exists()  # kept for later
