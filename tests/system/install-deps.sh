#!/usr/bin/env bash
# Debian packages the test suite runs against (`make deps`, run by `make test`):
#   PostgreSQL and MariaDB servers (throwaway instances, tests/system/run-suite.sh),
#   the MariaDB client library and a compiler for mysqlclient,
#   Debian's ocsinventory-agent 2.10 and what a default install recommends (they shape
#   its inventory), for tests/communication/test_real_agent.py;
#   Chromium for the console's browser tests (tests/browser/, Playwright drives it).
#   systemd-analyze and logrotate, to check the units and the logrotate file in packaging/.
#   nginx in front of two servers (tests/server/test_production_shape.py), rsync for
#   `ocelot package sync` (tests/deployment/test_sync.py).
#   nmap and nmblookup (samba-common-bin) for the server's IP scans, iproute2 for the
#   network namespaces of tests/ipdiscover/test_real_network.py.
#   The real OCS 2.8.1 server (Apache mod_perl, ocsinventory-server, XML::Parser), openssl
#   and curl for tests/agent/test_reference_ocs.py (../shared/reference-ocs/setup.sh).
#
# As root: installs whatever is missing (one `apt-get update`, no recommends) without
# letting the packages start their daemons. Not root: prints what is missing and fails.
# A missing prerequisite is a failure, never a skipped test.
set -euo pipefail

PACKAGES=(
  postgresql
  mariadb-server mariadb-client libmariadb-dev pkg-config build-essential python3-dev
  ocsinventory-agent
  dmidecode pciutils libio-socket-ssl-perl liblwp-protocol-https-perl libnet-netmask-perl
  libparse-edid-perl
  chromium fonts-dejavu-core gettext
  systemd logrotate
  nginx rsync
  nmap samba-common-bin iproute2
  apache2 libapache2-mod-perl2 ocsinventory-server libxml-parser-perl openssl curl
)

missing=()
for package in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: every Debian package the tests need is installed"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing Debian packages: ${missing[*]}" >&2
  echo "install-deps: run as root (make deps), or: apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

# Maintainer scripts must not start PostgreSQL or MariaDB on this machine: the tests
# start their own throwaway servers. policy-rc.d exit code 101 = "action forbidden".
POLICY=/usr/sbin/policy-rc.d
TEMP_POLICY=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$POLICY"
  chmod +x "$POLICY"
  TEMP_POLICY=1
fi
cleanup() { if [ "$TEMP_POLICY" = 1 ]; then rm -f "$POLICY"; fi; }
trap cleanup EXIT

echo "install-deps: installing ${missing[*]}"
apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
  --no-install-recommends "${missing[@]}"

still=()
for package in "${missing[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || still+=("$package")
done
if [ ${#still[@]} -ne 0 ]; then
  echo "install-deps: still missing after apt-get install: ${still[*]}" >&2
  exit 1
fi
echo "install-deps: done"
