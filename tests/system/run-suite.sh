#!/usr/bin/env bash
# The whole pytest suite, once per database: SQLite, PostgreSQL, MariaDB (`make test`).
#
#   tests/system/run-suite.sh [PYTEST ARGS...]
#
# PostgreSQL and MariaDB are throwaway servers from Debian's packages, in a temporary
# directory, listening on 127.0.0.1 only on free ports (plus a unix socket in that
# directory), with trust / password-less root access and durability switched off for
# speed. Each run gets its own temporary OCELOT_HOME; pytest-django creates test_<name>
# databases itself (one per xdist worker). Everything is stopped and deleted at the end.
#
# Knobs (environment):
#   OCELOT_SUITE_DATABASES="sqlite postgresql mariadb"   the runs, in this order
#   OCELOT_SUITE_WORKERS=2                                pytest-xdist workers (0: no xdist)
#   OCELOT_SUITE_TIMEOUT=900                              seconds one run may take (a hang fails)
#   VENV=.venv                                            the virtualenv with the test extra
#
# Exit status: 0 only if every run passed; pytest's "no tests collected" (5) is a failure.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV=${VENV:-$ROOT/.venv}
case "$VENV" in /*) ;; *) VENV=$ROOT/$VENV ;; esac
PYTHON=$VENV/bin/python
DATABASES=${OCELOT_SUITE_DATABASES:-sqlite postgresql mariadb}
WORKERS=${OCELOT_SUITE_WORKERS:-2}
RUN_TIMEOUT=${OCELOT_SUITE_TIMEOUT:-900}

log() { echo "[run-suite $(date +%H:%M:%S)] $*"; }
die() { echo "run-suite: $*" >&2; exit 1; }

[ -x "$PYTHON" ] || die "$PYTHON is missing: run 'make install-test' first"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ocelot-suite.XXXXXX") || die "cannot create a temporary directory"
chmod 755 "$WORK"  # the postgres user must reach its data directory below
PG_BIN=""
PG_DATA=""
PG_STARTED=0
MARIADB_PID=""
PYTEST_PID=""

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  trap '' PIPE  # the terminal or pipe we report to may be gone already
  stop_pytest
  if [ "$PG_STARTED" = 1 ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  if [ -n "$MARIADB_PID" ] && kill -0 "$MARIADB_PID" 2>/dev/null; then
    kill "$MARIADB_PID" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$MARIADB_PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$MARIADB_PID" 2>/dev/null || true
    wait "$MARIADB_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$status"
}
# pytest runs under `timeout`, which keeps pytest and its xdist workers in a process group
# of its own and passes SIGTERM on to it; pytest then tears its fixtures down (conftest.py),
# which stops the servers they started.
stop_pytest() {
  if [ -n "$PYTEST_PID" ] && kill -0 "$PYTEST_PID" 2>/dev/null; then
    kill -TERM "$PYTEST_PID" 2>/dev/null || true
    wait "$PYTEST_PID" 2>/dev/null || true
  fi
  PYTEST_PID=""
}
trap cleanup EXIT
trap 'echo "run-suite: interrupted, stopping" >&2; exit 130' INT
trap 'echo "run-suite: terminated, stopping" >&2; exit 143' TERM

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# PostgreSQL refuses to run as root: as root its files belong to the postgres user.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

start_postgresql() {
  PG_BIN=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
  [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] \
    || { echo "PostgreSQL binaries not found under /usr/lib/postgresql: run 'make deps'" >&2; return 1; }
  local dir=$WORK/postgresql port
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  PG_DATA=$dir/data
  port=$(free_port)
  as_postgres "$PG_BIN/initdb" -D "$PG_DATA" --auth=trust -U postgres -E UTF8 --no-locale --no-sync \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$dir/server.log" -w -t 60 -o \
    "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
  PG_STARTED=1
  as_postgres "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -c "CREATE DATABASE ocelot" >/dev/null || return 1
  log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
  DATABASE_URL="postgresql://postgres@127.0.0.1:$port/ocelot"
}

start_mariadb() {
  local dir=$WORK/mariadb port user=()
  command -v mariadb-install-db >/dev/null && command -v mariadbd >/dev/null && command -v mariadb-admin >/dev/null \
    || { echo "MariaDB server binaries not found: run 'make deps'" >&2; return 1; }
  mkdir -p "$dir/data"
  [ "$(id -u)" = 0 ] && user=(--user=root)
  port=$(free_port)
  mariadb-install-db --no-defaults --datadir="$dir/data" "${user[@]}" --auth-root-authentication-method=normal \
    --skip-test-db >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; return 1; }
  # Debian's defaults (utf8mb4), no binary log, no durability: a throwaway server.
  mariadbd --no-defaults --datadir="$dir/data" "${user[@]}" --skip-networking=0 --bind-address=127.0.0.1 \
    --port="$port" --socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" --log-error="$dir/error.log" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci --skip-log-bin --skip-name-resolve \
    --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --innodb-buffer-pool-size=256M \
    --max-connections=300 >"$dir/stdout.log" 2>&1 &
  MARIADB_PID=$!
  local alive=0
  for _ in $(seq 1 300); do
    if mariadb-admin --no-defaults --protocol=tcp -h 127.0.0.1 -P "$port" -u root ping >/dev/null 2>&1; then
      alive=1
      break
    fi
    kill -0 "$MARIADB_PID" 2>/dev/null || break
    sleep 0.2
  done
  [ "$alive" = 1 ] || { cat "$dir/error.log" >&2; return 1; }
  mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$port" -u root \
    -e "CREATE DATABASE ocelot CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci" || return 1
  log "MariaDB $(mariadbd --version | awk '{print $3}') on 127.0.0.1:$port"
  DATABASE_URL="mysql://root@127.0.0.1:$port/ocelot"
}

xdist=()
if [ "$WORKERS" != 0 ]; then
  # loadgroup: tests marked with one xdist_group run on one worker, one after the other
  # (tests/conftest.py: the browser and the network-namespace tests).
  xdist=(-n "$WORKERS" --dist loadgroup)
fi

declare -A RESULT SECONDS_TAKEN
failed=()
for database in $DATABASES; do
  home=$WORK/home-$database
  mkdir -p "$home"
  DATABASE_URL=""
  case "$database" in
    sqlite) DATABASE_URL="sqlite:///$home/ocelot.sqlite3" ;;
    postgresql) start_postgresql || DATABASE_URL="" ;;
    mariadb) start_mariadb || DATABASE_URL="" ;;
    *) die "unknown database '$database' in OCELOT_SUITE_DATABASES (sqlite, postgresql, mariadb)" ;;
  esac
  if [ -z "$DATABASE_URL" ]; then
    log "$database: could not start the database server"
    RESULT[$database]="FAILED (database server did not start)"
    SECONDS_TAKEN[$database]=0
    failed+=("$database")
    continue
  fi
  # The real OCS server (tests/agent/test_reference_ocs.py) does not use Ocelot's database:
  # it runs in the SQLite pass only, and is deselected (not skipped) in the others.
  only=()
  [ "$database" = sqlite ] || only=(-m "not reference_ocs")
  log "$database: pytest ${xdist[*]} ${only[*]} $*"
  started=$(date +%s)
  # In the background, so that Ctrl-C and SIGTERM reach this script at once (see stop_pytest).
  (
    cd "$ROOT" \
      && OCELOT_HOME=$home OCELOT_DATABASE_URL=$DATABASE_URL exec timeout --kill-after=30 "$RUN_TIMEOUT" \
        "$PYTHON" -m pytest -q "${xdist[@]}" "${only[@]}" "$@"
  ) &
  PYTEST_PID=$!
  wait "$PYTEST_PID"
  status=$?
  PYTEST_PID=""
  SECONDS_TAKEN[$database]=$(($(date +%s) - started))
  case "$status" in
    0) RESULT[$database]="passed" ;;
    5) RESULT[$database]="FAILED (no tests were collected)" ;;
    124 | 137) RESULT[$database]="FAILED (timed out after $RUN_TIMEOUT s)" ;;
    *) RESULT[$database]="FAILED (pytest exit status $status)" ;;
  esac
  [ "$status" = 0 ] || failed+=("$database")
  log "$database: ${RESULT[$database]} in ${SECONDS_TAKEN[$database]} s"
done

echo
echo "================ test suite per database ================"
for database in $DATABASES; do
  printf '  %-11s %-36s %5s s\n' "$database" "${RESULT[$database]}" "${SECONDS_TAKEN[$database]}"
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "FAILED on: ${failed[*]}"
  exit 1
fi
echo "passed on: $DATABASES"
