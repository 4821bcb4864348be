#!/usr/bin/env bash
# Browser test of `leadflow console`: seeds a lead and an exception on fresh topics, starts
# the console, and drives headless Chromium (Debian's `chromium`, installed when missing) through it
# with scripts/browser/console_check.py: the queue shows the seeded exception, a page served from
# another origin (another port of 127.0.0.1) that auto-submits a close form to the console is
# refused and changes nothing, the close action works (and is on exceptions.state, checked with the
# CLI), a trace page renders.
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

WORK="$(mktemp -d "${TMPDIR:-/tmp}/leadflow-console.XXXXXX")"
CONSOLE_PID=""
FORGER_PID=""
OWN_BROKER=0
# keeps the script's exit status: a stopped process's own status (143 for the forger's web server
# after SIGTERM) must not become the test's
cleanup() {
  local rc=$?
  set +e
  [[ -n "${CONSOLE_PID}" ]] && kill "${CONSOLE_PID}" 2>/dev/null && wait "${CONSOLE_PID}" 2>/dev/null
  [[ -n "${FORGER_PID}" ]] && kill "${FORGER_PID}" 2>/dev/null && wait "${FORGER_PID}" 2>/dev/null
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
export XDG_CACHE_HOME="${WORK}/cache" # the console's trace index

# fresh topic names for every role, so the run never sees another run's data
suffix="browser-$(date +%s)-$$"
for role in raw enriched scored tiered packets deliveries activity escalations outcomes model_params reps exceptions exceptions_state dedup_keys sla_outcomes; do
  export "LEADFLOW_TOPICS__${role^^}=${role//_/-}.${suffix}"
done
"${BIN}" topics create --partitions 2 >/dev/null

# one lead on the raw topic, and an exception a stage raised for it
"${BIN}" generate --count 1 --seed 14 >"${WORK}/lead.json"
"${BIN}" produce "${LEADFLOW_TOPICS__RAW}" <"${WORK}/lead.json" >/dev/null
lead_id="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["lead_id"])' "${WORK}/lead.json")"
exception_id="enrich:${LEADFLOW_TOPICS__RAW}:0:0"
now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
cat >"${WORK}/exception.json" <<JSON
{"exception_id":"${exception_id}","stage":"enrich","source_topic":"${LEADFLOW_TOPICS__RAW}","source_partition":0,"source_offset":0,"source_key":"${lead_id}","error_kind":"VALIDATION","reason":"email is not a valid address","owner":"marketing-ops","lead_id":"${lead_id}","raised_at":"${now}","due_at":"${now}","original":[]}
JSON
"${BIN}" produce "${LEADFLOW_TOPICS__EXCEPTIONS}" <"${WORK}/exception.json" >/dev/null

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"${BIN}" console --listen "127.0.0.1:${port}" >"${WORK}/console.log" 2>&1 &
CONSOLE_PID=$!
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:${port}/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

# another origin on 127.0.0.1: a page that auto-submits a close form to the console (a forged
# cross-site post; the browser holds the console's cookie by then)
forger_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "${WORK}/forger"
cat >"${WORK}/forger/forged.html" <<HTML
<!doctype html><html><body><h1>You won a prize</h1>
<form id="f" method="post" action="http://127.0.0.1:${port}/exception/action">
<input type="hidden" name="id" value="${exception_id}"><input type="hidden" name="action" value="close">
<input type="hidden" name="actor" value="mallory"><input type="hidden" name="reason" value="forged">
</form><script>document.getElementById('f').submit();</script></body></html>
HTML
python3 -m http.server "${forger_port}" --bind 127.0.0.1 --directory "${WORK}/forger" >"${WORK}/forger.log" 2>&1 &
FORGER_PID=$!
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:${forger_port}/forged.html" >/dev/null 2>&1 && break
  sleep 0.2
done

python3 "${REPO_ROOT}/scripts/browser/console_check.py" "http://127.0.0.1:${port}" "${exception_id}" "${lead_id}" \
  "http://127.0.0.1:${forger_port}/forged.html" ||
  { cat "${WORK}/console.log"; fail "console browser test failed"; }

# the close the browser made is in Kafka, for every other operator
"${BIN}" exceptions list --all --json | grep -q "\"exception_id\":\"${exception_id}\",\"status\":\"closed\"" ||
  fail "the close made in the browser is not on ${LEADFLOW_TOPICS__EXCEPTIONS_STATE}"
curl -fsS "http://127.0.0.1:${port}/metrics" | grep -q '^# TYPE leadflow_exceptions_overdue gauge' ||
  fail "/metrics does not export leadflow_exceptions_overdue"
info "console browser test passed"
