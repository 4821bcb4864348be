#!/usr/bin/env bash
# Abuse test: a bounded burst of hostile requests against the running services that face clients,
# then the check that each still serves a normal request and stayed within the memory bound its rules
# state. Like scripts/api-test.sh, the services run from target/debug on 127.0.0.1 against the broker
# in LEADFLOW_TEST_BOOTSTRAP, producing to topics of their own.
#
# Sections:
#   ingest   scripts/abuse_ingest.py against leadflow-ingest with its default limits: 300 abandoned
#            requests, oversized and 100 000-level nested bodies, forged and replayed webhooks, stalled
#            heads, a 3 000-request unique-key flood; then the queue budget drains, /readyz is 200, a
#            normal lead gets 202 and the peak resident set is under ABUSE_INGEST_MAX_RSS_MIB
#            (crates/ingest/RULES.md M1: about 800 MiB at worst; default bound 800).
#   console  `leadflow console` with one seeded exception: cross-site posts (foreign Origin, every
#            action including an edited replay), posts without or with a wrong CSRF token or ticket,
#            a foreign Host header (DNS rebinding) on pages and posts, oversized bodies; each must be
#            refused (403, or 413 for the bodies), then the exception queue is unchanged, nothing new
#            is on the source topic, and the console still serves its pages
#            (crates/console/RULES.md).
#
# Environment:
#   LEADFLOW_TEST_BOOTSTRAP    the broker (required)
#   ABUSE_INGEST_MAX_RSS_MIB   the ingest memory bound checked (default 800)
# Needs target/debug/leadflow-ingest, target/debug/leadflow and target/debug/leadflow-console, which
# `leadflow console` runs (cargo build --workspace).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "${REPO_ROOT}/scripts/lib.sh"
cd "${REPO_ROOT}"

BOOTSTRAP="${LEADFLOW_TEST_BOOTSTRAP:?set LEADFLOW_TEST_BOOTSTRAP to the test broker (scripts/broker.sh start)}"
INGEST_MAX_RSS_MIB="${ABUSE_INGEST_MAX_RSS_MIB:-800}"
BIN="${REPO_ROOT}/target/debug"
[[ -x "${BIN}/leadflow-ingest" && -x "${BIN}/leadflow" && -x "${BIN}/leadflow-console" ]] ||
  fail "build first: cargo build --workspace (target/debug/leadflow-ingest, target/debug/leadflow, target/debug/leadflow-console)"

work="$(mktemp -d "${TMPDIR:-/tmp}/leadflow-abuse-test.XXXXXX")"
pids=()
cleanup() {
  local rc=$? pid
  for pid in "${pids[@]}"; do
    kill -TERM "${pid}" 2>/dev/null || true
    wait "${pid}" 2>/dev/null || true
  done
  if ((rc != 0)); then
    mkdir -p "${REPO_ROOT}/target"
    cp "${work}"/*.log "${REPO_ROOT}/target/" 2>/dev/null || true
    warn "abuse test failed; service logs copied to target/ (abuse-*.log)"
  fi
  rm -rf "${work}"
  exit "${rc}"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_ready() { # <pid> <port> <log> <name>
  local deadline=$((SECONDS + 30))
  until [[ "$(http_status "$2" /readyz || true)" == 200 ]]; do
    kill -0 "$1" 2>/dev/null || { tail -n 20 "$3" >&2; fail "$4 exited"; }
    ((SECONDS < deadline)) || { tail -n 20 "$3" >&2; fail "$4 not ready in 30 s"; }
    sleep 0.2
  done
}

failed=0

# --- ingest -------------------------------------------------------------------------------------
key="abuse-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
secret="abuse-secret-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
hash="$(printf %s "${key}" | sha256sum | cut -d' ' -f1)"
cat >"${work}/ingest.toml" <<TOML
[stage]
[[stage.publishers]]
id = "abuse"
api_key_sha256 = ["${hash}"]
webhook_secret = "${secret}"
TOML
ops_port="$(free_port)"
api_port="$(free_port)"
topic="abuse-test.leads.raw.$$.$(date +%s)"
LEADFLOW_BOOTSTRAP_SERVERS="${BOOTSTRAP}" LEADFLOW_TOPICS__RAW="${topic}" "${BIN}/leadflow" topics create >/dev/null
NO_COLOR=1 LEADFLOW_BOOTSTRAP_SERVERS="${BOOTSTRAP}" LEADFLOW_TOPICS__RAW="${topic}" \
  LEADFLOW_HTTP__LISTEN="127.0.0.1:${ops_port}" LEADFLOW_STAGE__API_LISTEN="127.0.0.1:${api_port}" \
  "${BIN}/leadflow-ingest" --config "${work}/ingest.toml" </dev/null >"${work}/abuse-ingest.log" 2>&1 &
ingest_pid=$!
pids+=("${ingest_pid}")
wait_ready "${ingest_pid}" "${ops_port}" "${work}/abuse-ingest.log" leadflow-ingest
info "abuse test: leadflow-ingest API on 127.0.0.1:${api_port}, internal 127.0.0.1:${ops_port} (topic ${topic})"
if ! python3 "${REPO_ROOT}/scripts/abuse_ingest.py" --api "127.0.0.1:${api_port}" --ops "127.0.0.1:${ops_port}" \
  --key "${key}" --secret "${secret}" --publisher abuse --pid "${ingest_pid}" \
  --max-rss-mib "${INGEST_MAX_RSS_MIB}"; then
  failed=1
fi
kill -0 "${ingest_pid}" 2>/dev/null || { warn "leadflow-ingest is not running after the burst"; failed=1; }

# --- console ------------------------------------------------------------------------------------
suffix="abuse-console.$$.$(date +%s)"
console_env=(LEADFLOW_BOOTSTRAP_SERVERS="${BOOTSTRAP}" LEADFLOW_TOPICS__RAW="raw.${suffix}"
  LEADFLOW_TOPICS__EXCEPTIONS="exceptions.${suffix}" LEADFLOW_TOPICS__EXCEPTIONS_STATE="exceptions-state.${suffix}")
lf() { env "${console_env[@]}" "${BIN}/leadflow" "$@"; }
lf topics create >/dev/null
lf generate --count 1 --seed 7 >"${work}/console-lead.json"
lf produce "raw.${suffix}" <"${work}/console-lead.json" >/dev/null
lead_id="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["lead_id"])' "${work}/console-lead.json")"
exception_id="enrich:raw.${suffix}:0:0"
now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
printf '{"exception_id":"%s","stage":"enrich","source_topic":"raw.%s","source_partition":0,"source_offset":0,"source_key":"%s","error_kind":"VALIDATION","reason":"abuse test","owner":"marketing-ops","lead_id":"%s","raised_at":"%s","due_at":"%s","original":[]}\n' \
  "${exception_id}" "${suffix}" "${lead_id}" "${lead_id}" "${now}" "${now}" | lf produce "exceptions.${suffix}" >/dev/null
queue_state() { # every entry's id, status, owner, due time and escalation level
  lf exceptions list --all --json | python3 -c 'import json,sys
for l in sys.stdin:
    if l.strip(): e=json.loads(l); print(e["exception_id"], e["status"], e["owner"], e["due_at"], e["escalation_level"])'
}
raw_count() { lf tail "raw.${suffix}" --from-beginning --idle-timeout 3 | grep -c . || true; }
before_queue="$(queue_state)"
before_raw="$(raw_count)"
console_port="$(free_port)"
env "${console_env[@]}" "${BIN}/leadflow" console --listen "127.0.0.1:${console_port}" >"${work}/abuse-console.log" 2>&1 &
console_pid=$!
pids+=("${console_pid}")
deadline=$((SECONDS + 30))
until curl -fsS "http://127.0.0.1:${console_port}/healthz" >/dev/null 2>&1; do
  kill -0 "${console_pid}" 2>/dev/null || { tail -n 20 "${work}/abuse-console.log" >&2; fail "leadflow console exited"; }
  ((SECONDS < deadline)) || fail "leadflow console not up in 30 s"
  sleep 0.2
done
info "abuse test: leadflow console on 127.0.0.1:${console_port} (exception ${exception_id})"
base="http://127.0.0.1:${console_port}"
own="Origin: ${base}"
id_q="$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "${exception_id}")"
# a real session: its cookie, CSRF token and ticket (used below with a foreign Origin or Host)
curl -fsS -c "${work}/jar" "${base}/exception?id=${id_q}" >"${work}/exception.html"
csrf="$(grep -o 'name="csrf" value="[0-9a-f]*"' "${work}/exception.html" | head -1 | sed 's/.*value="//; s/"//')"
ticket="$(grep -o 'name="ticket" value="[0-9a-f]*"' "${work}/exception.html" | head -1 | sed 's/.*value="//; s/"//')"
[[ -n "${csrf}" && -n "${ticket}" ]] || fail "the exception page carries no CSRF token or ticket"
edited="$(python3 -c 'import json,sys,urllib.parse; e=json.load(open(sys.argv[1])); e["lead_id"]="attacker"; print(urllib.parse.quote(json.dumps(e)))' "${work}/console-lead.json")"
python3 -c 'print("edited=" + "x" * (2 * 1024 * 1024))' >"${work}/big-body"
unexpected=0
expect() { # <expected status, or a|b> <curl args...>
  local want="$1" got
  shift
  got="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" || true)"
  if [[ ! "${got}" =~ ^(${want})$ ]]; then
    unexpected=$((unexpected + 1))
    warn "console abuse: expected ${want}, got ${got} for: $*"
  fi
}
for round in $(seq 1 25); do
  for action in close reopen assign escalate retry replay; do
    form="id=${id_q}&action=${action}&actor=mallory&reason=abuse-${round}&owner=mallory&edited=${edited}"
    # cross-site: another origin (another port on 127.0.0.1 is another origin), with and without the token
    expect 403 -X POST -H "Origin: http://127.0.0.1:1" --data "${form}" "${base}/exception/action"
    expect 403 -X POST -H "Origin: http://evil.example" -b "${work}/jar" \
      --data "csrf=${csrf}&ticket=${ticket}&${form}" "${base}/exception/action"
    expect 403 -X POST -H "Origin: null" -b "${work}/jar" --data "csrf=${csrf}&ticket=${ticket}&${form}" "${base}/exception/action"
    # same origin, but without the CSRF token, with a wrong one, with a wrong ticket (z is never
    # in a real one)
    expect 403 -X POST -H "${own}" -b "${work}/jar" --data "ticket=${ticket}&${form}" "${base}/exception/action"
    expect 403 -X POST -H "${own}" -b "${work}/jar" --data "csrf=zz${csrf:2}&ticket=${ticket}&${form}" "${base}/exception/action"
    expect 403 -X POST -H "${own}" -b "${work}/jar" --data "csrf=${csrf}&ticket=zz${ticket:2}&${form}" "${base}/exception/action"
    # the token without its session cookie
    expect 403 -X POST -H "${own}" --data "csrf=${csrf}&ticket=${ticket}&${form}" "${base}/exception/action"
    # DNS rebinding: a name the attacker controls, resolved to 127.0.0.1
    expect 403 -X POST -H "Host: rebind.evil.example:${console_port}" -b "${work}/jar" \
      --data "csrf=${csrf}&ticket=${ticket}&${form}" "${base}/exception/action"
  done
  expect 403 -H "Host: rebind.evil.example:${console_port}" "${base}/exceptions"
  expect 403 -H "Host: rebind.evil.example" "${base}/exception?id=${id_q}"
  expect 413 -X POST -H "${own}" -H "Expect:" -b "${work}/jar" --data-binary "@${work}/big-body" "${base}/exception/action"
  # refused before its body is read: 403, or the connection closed while curl still uploads (000);
  # the checks after the burst show the console kept serving
  expect "403|000" -X POST -H "Origin: http://127.0.0.1:1" -H "Expect:" --data-binary "@${work}/big-body" "${base}/login"
done
if ((unexpected > 0)); then
  warn "console abuse: ${unexpected} request(s) were not refused as they should be"
  failed=1
fi
kill -0 "${console_pid}" 2>/dev/null || { warn "leadflow console is not running after the burst"; failed=1; }
after_queue="$(queue_state)"
after_raw="$(raw_count)"
if [[ "${after_queue}" != "${before_queue}" ]]; then
  warn "console abuse: the exception queue changed: before [${before_queue}] after [${after_queue}]"
  failed=1
fi
if [[ "${after_raw}" != "${before_raw}" ]]; then
  warn "console abuse: raw.${suffix} had ${before_raw} record(s), now ${after_raw}"
  failed=1
fi
curl -fsS "${base}/exceptions" | grep -qF "${exception_id}" ||
  { warn "console abuse: /exceptions no longer lists the exception"; failed=1; }
[[ "$(curl -s -o /dev/null -w '%{http_code}' "${base}/queues")" =~ ^(200|503)$ ]] ||
  { warn "console abuse: /queues does not answer"; failed=1; }
info "abuse test: console burst done: $((25 * (6 * 8 + 4))) requests, ${unexpected} not refused; queue [${after_queue}], ${after_raw} record(s) on the source topic"

exit "${failed}"
