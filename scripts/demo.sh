#!/usr/bin/env bash
# Runs the leadflow pipeline on a local broker with generated leads:
#   installs what is missing, builds release binaries, starts tansu on 127.0.0.1:9092 with the kept
#   data file .leadflow/broker.db (or uses a broker already answering there), creates the topics,
#   starts every stage service that is built, produces generated leads into leads.raw and shows what
#   reaches the furthest topic. Ctrl-C or the end of the run stops the services and the broker.
#
# Environment:
#   COUNT=200         leads to generate
#   RATE=50           leads per second
#   KEEP_RUNNING=1    leave the broker and services running (stop later with: scripts/demo.sh stop)
#   RESET=1           delete .leadflow/broker.db first (start from empty topics)
#
#   scripts/demo.sh stop   stops what a KEEP_RUNNING=1 demo left running
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "${REPO_ROOT}/scripts/lib.sh"
cd "${REPO_ROOT}"

COUNT="${COUNT:-200}"
RATE="${RATE:-50}"
KEEP_RUNNING="${KEEP_RUNNING:-0}"
RESET="${RESET:-0}"
BROKER_PORT=9092
BOOTSTRAP="127.0.0.1:${BROKER_PORT}"
STATE="${REPO_ROOT}/.leadflow"
LOGS="${STATE}/logs"
PIDS="${STATE}/demo.pids"
BROKER_STATE="${STATE}/broker"
BIN="${REPO_ROOT}/target/release"

# Stages in pipeline order: binary suffix, HTTP port, output topic.
STAGES=(
  "enrich 9101 leads.enriched"
  "score 9102 leads.scored"
  "tier 9103 leads.tiered"
  "route 9104 handoff.packets"
  "notify 9105 handoff.deliveries"
  "sla-watchdog 9106 sla.escalations"
  "recalibrate 9107 model.params"
)

stop_services() {
  [[ -f "${PIDS}" ]] || return 0
  local name pid
  while read -r name pid; do
    kill -TERM "${pid}" 2>/dev/null && info "SIGTERM sent to ${name} (pid ${pid})" || true
  done <"${PIDS}"
  local i alive
  for ((i = 0; i < 150; i++)); do
    alive=0
    while read -r name pid; do
      kill -0 "${pid}" 2>/dev/null && alive=1
    done <"${PIDS}"
    ((alive)) || break
    sleep 0.1
  done
  while read -r name pid; do
    if kill -0 "${pid}" 2>/dev/null; then
      warn "${name} (pid ${pid}) still running 15 s after SIGTERM; killing it"
      kill -KILL "${pid}" 2>/dev/null || true
    fi
  done <"${PIDS}"
  rm -f "${PIDS}"
}

stop_all() {
  stop_services
  if [[ -f "${STATE}/demo.broker-started" ]]; then
    "${REPO_ROOT}/scripts/broker.sh" stop --state-dir "${BROKER_STATE}"
    rm -f "${STATE}/demo.broker-started"
  fi
}

if [[ "${1:-}" == "stop" ]]; then
  stop_all
  exit 0
elif [[ -n "${1:-}" ]]; then
  sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
fi

on_exit() {
  local rc=$?
  if [[ "${KEEP_RUNNING}" == 1 && ${rc} == 0 ]]; then
    step "Still running (KEEP_RUNNING=1); stop with: scripts/demo.sh stop"
  else
    step "Stopping"
    stop_all
  fi
  exit "${rc}"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "${LOGS}"
if [[ -f "${PIDS}" ]]; then
  step "Stopping the services of an earlier demo"
  stop_services
fi

step "Tools"
ensure_rust
ensure_system_packages
ensure_tansu

step "Build (release)"
t="$(now_s)"
# shellcheck disable=SC2046
cargo build --release --workspace --bins $(cargo_lock_flag)
info "built in $(elapsed "${t}")"
[[ -x "${BIN}/leadflow" ]] || fail "target/release/leadflow was not built"

step "Broker on ${BOOTSTRAP}"
if "${REPO_ROOT}/scripts/broker.sh" probe 127.0.0.1 "${BROKER_PORT}"; then
  info "a Kafka broker already answers on ${BOOTSTRAP}; using it"
else
  if [[ "${RESET}" == 1 ]]; then
    info "RESET=1: deleting .leadflow/broker.db"
    rm -f "${STATE}/broker.db" "${STATE}/broker.db-shm" "${STATE}/broker.db-wal"
  fi
  "${REPO_ROOT}/scripts/broker.sh" start --port "${BROKER_PORT}" --data "${STATE}/broker.db" \
    --state-dir "${BROKER_STATE}"
  touch "${STATE}/demo.broker-started"
fi
export LEADFLOW_BOOTSTRAP_SERVERS="${BOOTSTRAP}"

step "Topics"
"${BIN}/leadflow" topics create

step "Services"
last_topic="leads.raw"
started=()
for entry in "${STAGES[@]}"; do
  read -r name port topic <<<"${entry}"
  exe="${BIN}/leadflow-${name}"
  if [[ ! -x "${exe}" ]]; then
    info "leadflow-${name}: not built yet, skipped"
    continue
  fi
  LEADFLOW_HTTP__LISTEN="127.0.0.1:${port}" "${exe}" </dev/null >"${LOGS}/${name}.log" 2>&1 &
  echo "${name} $!" >>"${PIDS}"
  started+=("${name} ${port}")
  last_topic="${topic}"
done
((${#started[@]})) || warn "no stage service is built; the demo only produces and reads leads.raw"

for entry in "${started[@]}"; do
  read -r name port <<<"${entry}"
  pid="$(awk -v n="${name}" '$1 == n {print $2}' "${PIDS}")"
  deadline=$((SECONDS + 30))
  until [[ "$(http_status "${port}" /readyz || true)" == 200 ]]; do
    if ! kill -0 "${pid}" 2>/dev/null; then
      tail -n 20 "${LOGS}/${name}.log" >&2 || true
      fail "leadflow-${name} exited during start-up (log ${LOGS}/${name}.log)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 20 "${LOGS}/${name}.log" >&2 || true
      fail "leadflow-${name} was not ready within 30 s (http://127.0.0.1:${port}/readyz)"
    fi
    sleep 0.2
  done
  info "leadflow-${name} ready (pid ${pid}, http://127.0.0.1:${port}/metrics)"
done

step "Generating ${COUNT} leads at ${RATE}/s into leads.raw"
"${BIN}/leadflow" generate --count "${COUNT}" --rate "${RATE}" --topic leads.raw

step "Output of ${last_topic} (stops after 10 s without new records)"
"${BIN}/leadflow" tail "${last_topic}" --from-beginning --idle-timeout 10

step "Where to look"
info "logs:        ${LOGS}/<stage>.log"
for entry in "${started[@]}"; do
  read -r name port <<<"${entry}"
  info "$(printf '%-13s http://127.0.0.1:%s/metrics  /healthz  /readyz' "${name}:" "${port}")"
done
info "exceptions:  target/release/leadflow tail leads.exceptions --from-beginning"
info "broker data: .leadflow/broker.db (kept between runs; RESET=1 starts empty)"
