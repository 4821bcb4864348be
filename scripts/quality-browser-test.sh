#!/usr/bin/env bash
# Browser test of the console's /quality page: produces the quality fold's hand-checked fixture
# (crates/cli/tests/fixtures/quality/, its figures worked out in crates/cli/src/quality/tests.rs),
# moved to start 5 days ago, to fresh topics, prints `leadflow quality report --since 6d`, starts
# the console and drives headless Chromium (Debian's `chromium`, installed when missing) through the
# page with scripts/browser/quality_check.py: the tables hold the fixture's figures, the charts are
# there with their marks, the navigation links the page, a bad window is refused.
# Uses target/debug/leadflow and target/debug/leadflow-console, which `leadflow console` runs (build
# first). Uses LEADFLOW_TEST_BOOTSTRAP's broker when it answers,
# else starts its own tansu.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "${REPO_ROOT}/scripts/lib.sh"
cd "${REPO_ROOT}"

BIN="${REPO_ROOT}/target/debug/leadflow"
[[ -x "${BIN}" && -x "${BIN}-console" ]] ||
  fail "build first: cargo build -p leadflow-cli -p leadflow-console (target/debug/leadflow, target/debug/leadflow-console)"

ensure_chromium

WORK="$(mktemp -d "${TMPDIR:-/tmp}/leadflow-quality.XXXXXX")"
CONSOLE_PID=""
OWN_BROKER=0
cleanup() {
  local rc=$?
  set +e
  [[ -n "${CONSOLE_PID}" ]] && kill "${CONSOLE_PID}" 2>/dev/null && wait "${CONSOLE_PID}" 2>/dev/null
  ((OWN_BROKER)) && "${REPO_ROOT}/scripts/broker.sh" stop --state-dir "${WORK}/state" >/dev/null 2>&1
  rm -rf "${WORK}"
  exit "${rc}"
}
trap cleanup EXIT

if [[ -z "${LEADFLOW_TEST_BOOTSTRAP:-}" ]] || ! (exec 3<>"/dev/tcp/${LEADFLOW_TEST_BOOTSTRAP%:*}/${LEADFLOW_TEST_BOOTSTRAP##*:}") 2>/dev/null; then
  "${REPO_ROOT}/scripts/broker.sh" start --port auto --data "${WORK}/broker.db" --state-dir "${WORK}/state" >/dev/null
  OWN_BROKER=1
  LEADFLOW_TEST_BOOTSTRAP="127.0.0.1:$(cat "${WORK}/state/port")"
fi
export LEADFLOW_BOOTSTRAP_SERVERS="${LEADFLOW_TEST_BOOTSTRAP}"

# fresh topic names for every role, so the run never sees another run's data
suffix="quality-$(date +%s)-$$"
for role in raw enriched scored tiered packets deliveries activity escalations outcomes model_params reps exceptions exceptions_state dedup_keys sla_outcomes; do
  export "LEADFLOW_TOPICS__${role^^}=${role//_/-}.${suffix}"
done
"${BIN}" topics create --partitions 2 >/dev/null

fixture="${REPO_ROOT}/crates/cli/tests/fixtures/quality"
for pair in "packets:${LEADFLOW_TOPICS__PACKETS}" "activity:${LEADFLOW_TOPICS__ACTIVITY}" \
  "outcomes:${LEADFLOW_TOPICS__OUTCOMES}" "scored:${LEADFLOW_TOPICS__SCORED}"; do
  python3 "${REPO_ROOT}/scripts/browser/quality_fixture.py" "${fixture}/${pair%%:*}.jsonl" 5 |
    "${BIN}" produce "${pair#*:}" >/dev/null
done
"${BIN}" quality report --since 6d

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"${BIN}" console --listen "127.0.0.1:${port}" >"${WORK}/console.log" 2>&1 &
CONSOLE_PID=$!
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:${port}/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

python3 "${REPO_ROOT}/scripts/browser/quality_check.py" "http://127.0.0.1:${port}" "${QUALITY_SCREENSHOT:-}" ||
  { cat "${WORK}/console.log"; fail "quality browser test failed"; }
info "quality browser test passed"
