"""Our agent against the real OCS Inventory NG 2.8.1 communication server (issue 5).

The reference is Debian's package run by ``../shared/reference-ocs/setup.sh`` (Apache
mod_perl + MariaDB ``ocsweb`` on 127.0.0.1:8880 and :3306), started once for this module
with a fresh database and stopped at the end. What it stored is read from MariaDB itself.

Two things the administrator of a real OCS server does, done here by the test:

* OCS 2.8.1 admits at PROLOG only the user agents it knows by name (``Useragent.pm``:
  ``OCS-NG_unified_unix_agent`` and the Windows/mobile ones) plus the full user agents
  listed in ``OCS_OPT_EXT_USERAGENTS_FILE_PATH`` (Debian: ``/etc/ocsinventory/extra_useragents``,
  read at every PROLOG). ``Ocelot-Agent_v<version>`` is not a known name, so it is refused
  with HTTP 400 until that line is added (measured: 400 without it). The file is restored.
* Packages are published the ocsreports way (protocol.md §8): the tar.gz is cut into
  fragments under ``/var/lib/ocsinventory-reports/download/<ID>/`` beside a one-line
  ``info`` file, and rows go into ``download_available``, ``download_enable`` and
  ``devices``. ocsreports' own Apache file aliases ``/download`` to that directory; the
  reference installs no ocsreports (no PHP), so the test adds that alias, as written in
  the ocsinventory-reports package, in an Apache file of its own, plus a TLS virtual host
  on a second loopback port with a throwaway self-signed certificate, because agents
  fetch ``info`` over HTTPS only (``https://<INFO_LOC>/<ID>/info``). Fragments are served
  over plain HTTP by the same Apache (``PROTO="HTTP"``, PACK_LOC on port 8880). The agent
  trusts the certificate through ``--ca``. The module's Apache file and mod_ssl are
  removed again before the reference is stopped.

Only the SQLite pass of tests/system/run-suite.sh runs it (marker ``reference_ocs``): the
reference does not depend on Ocelot's database, and starting it once is enough.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import socket
import ssl
import subprocess
import tarfile
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ocelot.agent.client import USER_AGENT
from tests.server_process import ocelot_command

pytestmark = pytest.mark.reference_ocs


def _reference_dir() -> Path:
    """``$OCELOT_REFERENCE_OCS``, else ``shared/reference-ocs`` beside the checkout, else the
    workplace's ``/work/shared`` (CI runs on a clone somewhere else)."""
    if os.environ.get("OCELOT_REFERENCE_OCS"):
        return Path(os.environ["OCELOT_REFERENCE_OCS"])
    beside = Path(__file__).resolve().parents[3] / "shared" / "reference-ocs"
    return beside if beside.is_dir() else Path("/work/shared/reference-ocs")


REFERENCE = _reference_dir()
OCS_URL = "http://127.0.0.1:8880/ocsinventory"
PACKAGES = ("apache2", "libapache2-mod-perl2", "mariadb-server", "ocsinventory-server", "libxml-parser-perl")
EXTRA_USERAGENTS = Path("/etc/ocsinventory/extra_useragents")
DOWNLOAD_DIR = Path("/var/lib/ocsinventory-reports/download")  # DOWNLOAD_PACK_DIR's default + /download
APACHE_CONF = Path("/etc/apache2/conf-available/ocelot-reference-test.conf")
_SENT = re.compile(r"sending INVENTORY \(CHECKSUM \d+\):\n(<\?xml.*?</REQUEST>)", re.DOTALL)


def sql(query: str) -> list[list[str]]:
    """Rows of a query on the reference's database (root over the unix socket, as setup.sh)."""
    done = subprocess.run(
        ["mysql", "--default-character-set=utf8", "-N", "-B", "ocsweb", "-e", query],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [line.split("\t") for line in done.stdout.splitlines()]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Reference:
    tls_port: int
    ca_file: Path


def _installed(package: str) -> bool:
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() == "install ok installed"


def _tls_vhost(port: int, certificate: Path, key: Path) -> str:
    return f"""# written by tests/agent/test_reference_ocs.py, removed at the end of the test
# ocsinventory-reports' own lines (etc/apache2/conf-available/ocsinventory-reports.conf):
<Directory {DOWNLOAD_DIR}>
  Require all granted
</Directory>
Alias /download {DOWNLOAD_DIR}
# agents fetch info over https only (protocol.md §8.1)
Listen 127.0.0.1:{port}
<VirtualHost 127.0.0.1:{port}>
  SSLEngine on
  SSLCertificateFile {certificate}
  SSLCertificateKeyFile {key}
</VirtualHost>
"""


def _wait_for_tls(port: int, ca_file: Path) -> None:
    context = ssl.create_default_context(cafile=str(ca_file))
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"https://127.0.0.1:{port}/download/", context=context, timeout=5):
                return
        except urllib.error.HTTPError:
            return  # Apache answered over TLS (no index: 403/404)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _remove_apache_conf() -> None:
    subprocess.run(["a2disconf", "-q", APACHE_CONF.stem], capture_output=True, check=False)
    APACHE_CONF.unlink(missing_ok=True)
    subprocess.run(["a2dismod", "-q", "ssl"], capture_output=True, check=False)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    """The real OCS server, fresh database, our user agent admitted, /download over HTTP and HTTPS."""
    assert os.geteuid() == 0, "the real OCS server is installed and started as root (setup.sh)"
    assert (REFERENCE / "setup.sh").is_file(), f"{REFERENCE}/setup.sh is missing"
    env = dict(os.environ)
    if all(_installed(package) for package in PACKAGES):
        env["SKIP_APT"] = "1"  # about 11 s instead of an apt-get update and install
    work = tmp_path_factory.mktemp("reference")
    saved_useragents = EXTRA_USERAGENTS.read_bytes() if EXTRA_USERAGENTS.exists() else None
    if saved_useragents is not None and USER_AGENT.encode() in saved_useragents:
        saved_useragents = saved_useragents.replace(f"\n{USER_AGENT}\n".encode(), b"")  # a killed run's line
    if APACHE_CONF.exists():  # a killed run's: it would point Apache at a certificate that is gone
        _remove_apache_conf()
    try:
        done = subprocess.run(
            ["bash", str(REFERENCE / "setup.sh"), "--reset-db"],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        EXTRA_USERAGENTS.write_bytes((saved_useragents or b"") + f"\n{USER_AGENT}\n".encode())

        certificate, key = work / "cert.pem", work / "key.pem"
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", str(key), "-out", str(certificate),
            ],
            capture_output=True,
            check=True,
        )  # fmt: skip
        port = free_port()
        DOWNLOAD_DIR.mkdir(parents=True, exist_ok=True)
        for directory in (DOWNLOAD_DIR, DOWNLOAD_DIR.parent):
            directory.chmod(0o755)
        APACHE_CONF.write_text(_tls_vhost(port, certificate, key), encoding="utf-8")
        for command in (
            ["a2enmod", "-q", "ssl"],
            ["a2enconf", "-q", APACHE_CONF.stem],
            ["apache2ctl", "graceful"],
        ):
            subprocess.run(command, capture_output=True, check=True, timeout=60)
        _wait_for_tls(port, certificate)
        yield Reference(tls_port=port, ca_file=certificate)
    finally:
        if saved_useragents is not None:
            EXTRA_USERAGENTS.write_bytes(saved_useragents)
        _remove_apache_conf()
        shutil.rmtree(DOWNLOAD_DIR.parent, ignore_errors=True)
        subprocess.run(["bash", str(REFERENCE / "stop.sh")], capture_output=True, timeout=120, check=False)


def run_agent(work: Path, name: str, *extra: str) -> str:
    """One ``ocelot agent --server`` run against the reference; its --debug log."""
    log = work / f"{name}.log"
    done = subprocess.run(
        ocelot_command(
            "agent",
            f"--server={OCS_URL}",
            f"--basevardir={work / 'var'}",
            "--debug",
            f"--logfile={log}",
            *extra,
        ),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    text = log.read_text(encoding="utf-8") if log.exists() else ""
    assert done.returncode == 0, f"{done.stderr}\n{text[-3000:]}"
    return text


def device_id_of(work: Path) -> str:
    (vardir,) = (work / "var").iterdir()
    return ET.parse(vardir / "ocsinv.conf").getroot().findtext("DEVICEID") or ""


@dataclass
class Published:
    fileid: str
    enable_id: str


def publish(hardware_id: str, ca_port: int, marker: Path) -> Published:
    """A 3-fragment EXECUTE package as ocsreports 2.8 writes it (protocol.md §8), assigned to the computer."""
    fileid = str(int(time.time()))  # PackageBuilder: ID = time()
    script = f"#!/bin/sh\nprintf 'installed %s' \"$(cat payload.txt)\" > {marker}\n".encode()
    payload = os.urandom(300_000).hex().encode()  # big enough for 3 real fragments
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, data in (("install.sh", script), ("payload.txt", payload)):
            entry = tarfile.TarInfo(name)
            entry.size, entry.mode = len(data), 0o644
            tar.addfile(entry, io.BytesIO(data))
    data = archive.getvalue()
    frags = 3
    size = len(data) // frags  # parts 1..n-1 truncated, the last holds the rest (§8.1)
    parts = [data[i * size : (i + 1) * size] for i in range(frags - 1)] + [data[(frags - 1) * size :]]
    directory = DOWNLOAD_DIR / fileid
    directory.mkdir(mode=0o755)
    for number, part in enumerate(parts, start=1):
        (directory / f"{fileid}-{number}").write_bytes(part)
    (directory / "info").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<DOWNLOAD ID="{fileid}" PRI="5" ACT="EXECUTE" DIGEST="{hashlib.md5(data).hexdigest()}" '
        f'PROTO="HTTP" FRAGS="{frags}" DIGEST_ALGO="MD5" DIGEST_ENCODE="Hexa" COMMAND="sh install.sh" '
        'NOTIFY_USER="0" NOTIFY_TEXT="" NOTIFY_COUNTDOWN="" NOTIFY_CAN_ABORT="0" NOTIFY_CAN_DELAY="0" '
        'NEED_DONE_ACTION="0" NEED_DONE_ACTION_TEXT="" GARDEFOU="rien" />\n',
        encoding="utf-8",
    )
    for path in directory.iterdir():
        path.chmod(0o644)
    # What ocsreports writes: the catalogue, an activation, the affectation; DOWNLOAD on,
    # latencies 0 so the run takes seconds (the server sends them in the PROLOG reply).
    sql(
        "UPDATE config SET IVALUE=1 WHERE NAME='DOWNLOAD';"
        "UPDATE config SET IVALUE=0 WHERE NAME IN"
        " ('DOWNLOAD_FRAG_LATENCY','DOWNLOAD_CYCLE_LATENCY','DOWNLOAD_PERIOD_LATENCY');"
        "INSERT INTO download_available(FILEID,NAME,PRIORITY,FRAGMENTS,SIZE,OSNAME,COMMENT)"
        f" VALUES('{fileid}','ocelot-reference-test',5,{frags},{len(data)},'LINUX','');"
        "INSERT INTO download_enable(FILEID,INFO_LOC,PACK_LOC,CERT_PATH,CERT_FILE)"
        f" VALUES('{fileid}','127.0.0.1:{ca_port}/download','127.0.0.1:8880/download',"
        "'INSTALL_PATH','INSTALL_PATH/cacert.pem');"
    )
    ((enable_id,),) = sql(f"SELECT ID FROM download_enable WHERE FILEID='{fileid}'")
    sql(
        "INSERT INTO devices(HARDWARE_ID,NAME,IVALUE,TVALUE)"
        f" VALUES({hardware_id},'DOWNLOAD',{enable_id},NULL)"
    )
    return Published(fileid=fileid, enable_id=enable_id)


def test_the_real_ocs_server_stores_our_inventory_then_our_agent_deploys_a_package_published_there(
    reference: Reference, tmp_path: Path
) -> None:
    log = run_agent(tmp_path, "inventory")
    (sent_text,) = _SENT.findall(log)
    sent = ET.fromstring(sent_text.encode("utf-8"))
    device_id = device_id_of(tmp_path)

    rows = sql(f"SELECT ID, NAME, MEMORY, OSNAME FROM hardware WHERE DEVICEID='{device_id}'")
    assert len(rows) == 1, rows
    ((hardware_id, name, memory, osname),) = rows
    assert name == sent.findtext("CONTENT/HARDWARE/NAME")
    assert memory == sent.findtext("CONTENT/HARDWARE/MEMORY")
    assert osname == sent.findtext("CONTENT/HARDWARE/OSNAME")
    # Every software entry we sent is there under its name and version (OCS 2.8.1 stores
    # them normalised: software -> software_name / software_version).
    sent_software = {
        (entry.findtext("NAME", ""), entry.findtext("VERSION", ""))
        for entry in sent.iterfind("CONTENT/SOFTWARES")
    }
    assert len(sent_software) > 50
    stored_software = {
        (row[0], row[1])
        for row in sql(
            "SELECT n.NAME, v.VERSION FROM software s JOIN software_name n ON n.ID = s.NAME_ID"
            f" JOIN software_version v ON v.ID = s.VERSION_ID WHERE s.HARDWARE_ID={hardware_id}"
        )
    }
    assert stored_software == sent_software
    for table, tag in (
        ("cpus", "CPUS"),
        ("drives", "DRIVES"),
        ("networks", "NETWORKS"),
        ("storages", "STORAGES"),
    ):
        ((count,),) = sql(f"SELECT COUNT(*) FROM {table} WHERE HARDWARE_ID={hardware_id}")
        assert int(count) == len(sent.findall(f"CONTENT/{tag}")) > 0, table

    marker = tmp_path / "installed.txt"
    published = publish(hardware_id, reference.tls_port, marker)
    log = run_agent(tmp_path, "deploy", f"--ca={reference.ca_file}")

    assert marker.read_text(encoding="utf-8").startswith("installed "), log[-3000:]
    status = sql(
        f"SELECT TVALUE FROM devices WHERE HARDWARE_ID={hardware_id} AND NAME='DOWNLOAD'"
        f" AND IVALUE={published.enable_id}"
    )
    assert status == [["SUCCESS"]], log[-3000:]
