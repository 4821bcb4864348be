#!/usr/bin/env bash
# Property-based API test of leadflow-ingest: schemathesis (PyPI, pinned) generates requests from the
# OpenAPI 3.1 document the service serves and checks every answer against it (no 5xx, status codes,
# content types, headers and bodies as documented, schema-valid data accepted, invalid data and
# invalid credentials refused). The service runs from target/debug on 127.0.0.1 against the broker in
# LEADFLOW_TEST_BOOTSTRAP (scripts/test.sh runs this as a step), producing to a topic of its own.
#
# Environment:
#   LEADFLOW_TEST_BOOTSTRAP   the broker (required)
#   API_TEST_SECONDS=60       schemathesis' time budget
#   API_TEST_SEED             schemathesis' random seed (reproduce a run; default: a fresh seed,
#                             printed with the result so a failing run can be replayed)
# Needs target/debug/leadflow-ingest and target/debug/leadflow (cargo build --workspace).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "${REPO_ROOT}/scripts/lib.sh"
cd "${REPO_ROOT}"

BOOTSTRAP="${LEADFLOW_TEST_BOOTSTRAP:?set LEADFLOW_TEST_BOOTSTRAP to the test broker (scripts/broker.sh start)}"
SECONDS_BUDGET="${API_TEST_SECONDS:-60}"
SEED="${API_TEST_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' \n')}"
[[ "${SEED}" =~ ^[0-9]+$ ]] || fail "API_TEST_SEED must be a non-negative integer"
SCHEMATHESIS="schemathesis==4.32.5"
VENV="${REPO_ROOT}/.leadflow/venv"
BIN="${REPO_ROOT}/target/debug"
[[ -x "${BIN}/leadflow-ingest" && -x "${BIN}/leadflow" ]] ||
  fail "build first: cargo build --workspace (target/debug/leadflow-ingest, target/debug/leadflow)"

if [[ ! -f "${VENV}/.installed-${SCHEMATHESIS}" ]]; then
  info "installing ${SCHEMATHESIS} (PyPI) into .leadflow/venv"
  python3 -m venv "${VENV}" || fail "python3 -m venv failed (apt-get install python3-venv)"
  timeout 180 "${VENV}/bin/pip" install -q --disable-pip-version-check "${SCHEMATHESIS}" ||
    fail "pip install ${SCHEMATHESIS} failed"
  touch "${VENV}/.installed-${SCHEMATHESIS}"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/leadflow-api-test.XXXXXX")"
ingest_pid=""
cleanup() {
  local rc=$?
  if [[ -n "${ingest_pid}" ]]; then
    kill -TERM "${ingest_pid}" 2>/dev/null || true
    wait "${ingest_pid}" 2>/dev/null || true
  fi
  if ((rc != 0)) && [[ -f "${work}/ingest.log" ]]; then
    mkdir -p "${REPO_ROOT}/target"
    cp "${work}/ingest.log" "${REPO_ROOT}/target/api-test-ingest.log"
    cp "${work}/schemathesis.log" "${REPO_ROOT}/target/api-test-schemathesis.log" 2>/dev/null || true
    info "logs kept in target/api-test-ingest.log and target/api-test-schemathesis.log"
  fi
  rm -rf "${work}"
  exit "${rc}"
}
trap cleanup EXIT

key="api-test-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
hash="$(printf %s "${key}" | sha256sum | cut -d' ' -f1)"
cat >"${work}/ingest.toml" <<TOML
[stage]
# schemathesis is one client: the per-publisher rate limit is not what it tests
rate_limit_per_sec = 1000000
rate_burst = 1000000
[[stage.publishers]]
id = "api-test"
api_key_sha256 = ["${hash}"]
webhook_secret = "api-test-webhook-secret"
TOML
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# the API and the internal listener (probes, metrics) are separate ports
port="$(free_port)"
api_port="$(free_port)"
topic="api-test.leads.raw.$$.$(date +%s)"
export LEADFLOW_BOOTSTRAP_SERVERS="${BOOTSTRAP}" LEADFLOW_TOPICS__RAW="${topic}"
"${BIN}/leadflow" topics create >/dev/null
NO_COLOR=1 LEADFLOW_HTTP__LISTEN="127.0.0.1:${port}" LEADFLOW_STAGE__API_LISTEN="127.0.0.1:${api_port}" \
  "${BIN}/leadflow-ingest" --config "${work}/ingest.toml" \
  </dev/null >"${work}/ingest.log" 2>&1 &
ingest_pid=$!
deadline=$((SECONDS + 30))
until [[ "$(http_status "${port}" /readyz || true)" == 200 ]]; do
  kill -0 "${ingest_pid}" 2>/dev/null || { tail -n 20 "${work}/ingest.log" >&2; fail "leadflow-ingest exited"; }
  ((SECONDS < deadline)) || { tail -n 20 "${work}/ingest.log" >&2; fail "leadflow-ingest not ready in 30 s"; }
  sleep 0.2
done
info "leadflow-ingest API on 127.0.0.1:${api_port} (topic ${topic}); schemathesis for ${SECONDS_BUDGET} s, seed ${SEED} (API_TEST_SEED=${SEED} replays it)"

# one worker: hypothesis' lambda introspection is not thread-safe on CPython 3.11 (an internal error
# of schemathesis with -w 2, not a finding)
set +e
# run from the temp dir: schemathesis and hypothesis keep their databases in the working directory
(cd "${work}" && "${VENV}/bin/schemathesis" --config-file "${REPO_ROOT}/crates/ingest/schemathesis.toml" run \
  "http://127.0.0.1:${api_port}/openapi.json" \
  -H "Authorization: Bearer ${key}" \
  --max-time "${SECONDS_BUDGET}" --seed "${SEED}" -w 1 --no-color >"${work}/schemathesis.log" 2>&1)
rc=$?
set -e
grep -v '^\s*$' "${work}/schemathesis.log" | sed -n '/Examples\|Coverage\|Fuzzing\|Stateful\|FAILURES\|ERRORS\|SUMMARY/,$p' | tail -n 40
grep -q 'ERROR' "${work}/ingest.log" && warn "leadflow-ingest logged errors (see its log)"
((rc == 0)) || warn "schemathesis failed with seed ${SEED}: API_TEST_SEED=${SEED} scripts/api-test.sh replays it"
exit "${rc}"
