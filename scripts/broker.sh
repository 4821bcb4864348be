#!/usr/bin/env bash
# The local Kafka-compatible broker for development and tests: tansu 0.6.0 on SQLite storage.
#
#   scripts/broker.sh install                      install tansu with cargo when it is missing
#   scripts/broker.sh start [--port P|auto] [--data FILE] [--state-dir DIR]
#   scripts/broker.sh stop   [--state-dir DIR]
#   scripts/broker.sh status [--state-dir DIR]     exit 0 when running and answering Kafka requests
#
# Defaults: port 9092 on 127.0.0.1, the kept data file .leadflow/broker.db, state (pid file, log, port)
# under .leadflow/broker/. `--port auto` picks a free port; the chosen one is printed and written to
# <state-dir>/port. Production runs Apache Kafka or Redpanda; nothing outside scripts/ and
# crates/testkit depends on tansu.
set -euo pipefail

TANSU_VERSION="0.6.0"
TANSU_FEATURES="dynostore,libsql"
TANSU_INSTALL_CMD="cargo install tansu@${TANSU_VERSION} --locked --features ${TANSU_FEATURES}"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOST="127.0.0.1"
PORT="9092"
DATA_FILE="${REPO_ROOT}/.leadflow/broker.db"
STATE_DIR="${LEADFLOW_BROKER_STATE_DIR:-${REPO_ROOT}/.leadflow/broker}"
READY_TIMEOUT_S="${LEADFLOW_BROKER_READY_TIMEOUT:-30}"

say() { printf 'broker: %s\n' "$*"; }
die() { printf 'broker: error: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

# Prints the tansu executable, or nothing when it is not installed.
find_tansu() {
  if command -v tansu >/dev/null 2>&1; then
    command -v tansu
  elif [[ -x "${CARGO_HOME:-${HOME}/.cargo}/bin/tansu" ]]; then
    echo "${CARGO_HOME:-${HOME}/.cargo}/bin/tansu"
  elif [[ -x "${HOME}/.cargo/bin/tansu" ]]; then
    echo "${HOME}/.cargo/bin/tansu"
  fi
}

cmd_install() {
  local tansu
  tansu="$(find_tansu)"
  if [[ -n "${tansu}" ]]; then
    local version
    version="$("${tansu}" --version 2>/dev/null | awk '{print $2}')"
    if [[ "${version}" != "${TANSU_VERSION}" ]]; then
      say "warning: ${tansu} is version ${version:-unknown}, leadflow is tested with ${TANSU_VERSION}"
    fi
    say "tansu ${version:-?} is installed: ${tansu}"
    return 0
  fi
  command -v cargo >/dev/null 2>&1 || die "cargo is not installed (https://rustup.rs)"
  say "tansu is missing; installing it (about 10-15 minutes on 2 cores): ${TANSU_INSTALL_CMD}"
  local lock_dir="${CARGO_HOME:-${HOME}/.cargo}"
  mkdir -p "${lock_dir}"
  # one install at a time, even when test.sh and demo.sh start together
  (
    if command -v flock >/dev/null 2>&1; then
      flock 9
    fi
    if [[ -z "$(find_tansu)" ]]; then
      # shellcheck disable=SC2086
      ${TANSU_INSTALL_CMD}
    fi
  ) 9>"${lock_dir}/.leadflow-tansu-install.lock"
  tansu="$(find_tansu)"
  [[ -n "${tansu}" ]] || die "cargo install finished but tansu is not in PATH or ~/.cargo/bin"
  say "installed ${tansu}"
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
      --port) PORT="${2:?--port needs a value}"; shift 2 ;;
      --data) DATA_FILE="${2:?--data needs a file}"; shift 2 ;;
      --state-dir) STATE_DIR="${2:?--state-dir needs a directory}"; shift 2 ;;
      *) die "start: unknown option $1 (see scripts/broker.sh help)" ;;
    esac
  done
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
    cd "$(dirname "${DATA_FILE}")"
    exec "${launcher[@]}" "${tansu}" broker \
      --cluster-id leadflow-dev \
      --listener-url "${url}" \
      --advertised-listener-url "${url}" \
      --storage-engine "sqlite://$(basename "${DATA_FILE}")" \
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
      die "tansu exited during start-up"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 20 "${log}" >&2 || true
      kill "${pid}" 2>/dev/null || true
      rm -f "$(pid_file)"
      die "tansu did not answer a Kafka request on ${HOST}:${PORT} within ${READY_TIMEOUT_S}s"
    fi
    sleep 0.1
  done
  local ms=$((($(date +%s%N) - started) / 1000000))
  say "tansu ready on ${HOST}:${PORT} in ${ms} ms (pid ${pid}, data ${DATA_FILE}, log ${log})"
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
    probe) kafka_probe "${1:-${HOST}}" "${2:-${PORT}}" ;;
    help | -h | --help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
