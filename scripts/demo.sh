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
#   SEED=7            the generated stream's seed (default: a new one each run, so a run on the kept
#                     data brings new leads; the same seed repeats the same people and event ids,
#                     which ingest then refuses as already taken with other content)
#   PROFILE=debug     use debug binaries (a much quicker first build on a busy machine; slower
#                     services); default release
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
PROFILE="${PROFILE:-release}"
case "${PROFILE}" in
  release) profile_flag=(--release) ;;
  debug) profile_flag=() ;;
  *) fail "PROFILE must be release or debug, got ${PROFILE}" ;;
esac
BIN="${REPO_ROOT}/target/${PROFILE}"

# Stages in pipeline order: binary suffix, HTTP port, output topic (ingest first: the HTTP front door
# that produces to leads.raw; part of the generated leads go through it, see "Generating" below).
STAGES=(
  "ingest 9110 leads.raw"
  "enrich 9101 leads.enriched"
  "score 9102 leads.scored"
  "tier 9103 leads.tiered"
  "nurture 9113 handoff.activity"
  "rescore 9114 leads.state"
  "route 9104 handoff.packets"
  "route-reassign 9108 handoff.packets"
  "route-rejections 9112 handoff.packets"
  "notify 9105 handoff.deliveries"
  "sla-watchdog 9106 sla.escalations"
  "recalibrate 9107 model.params"
  "locator 9115 -"
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
  sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
fi

# Runs a command in the background and waits for it: bash runs the INT trap at once during `wait`,
# whereas a foreground program that handles Ctrl-C itself and exits 0 would hide the Ctrl-C from it.
fg_pid=""
run_fg() {
  "$@" &
  fg_pid=$!
  local rc=0
  wait "${fg_pid}" || rc=$?
  fg_pid=""
  return "${rc}"
}

on_exit() {
  local rc=$?
  if [[ -n "${fg_pid}" ]]; then
    kill -TERM "${fg_pid}" 2>/dev/null || true
    wait "${fg_pid}" 2>/dev/null || true
  fi
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

step "Build (${PROFILE})"
t="$(now_s)"
# the product's binaries only (leadflow, leadflow-<stage>), not benchmark or test tools
bin_args=()
bins=()
while read -r bin; do
  bin_args+=(--bin "${bin}")
  bins+=("${bin}")
done < <(cargo metadata --format-version 1 --no-deps $(cargo_lock_flag) |
  grep -o '"kind":\["bin"\],"crate_types":\["bin"\],"name":"leadflow[a-z-]*"' |
  sed 's/.*"name":"//; s/"$//')
((${#bin_args[@]})) || bin_args=(--bins)
info "binaries: ${bins[*]:-all}"
# shellcheck disable=SC2046
cargo build "${profile_flag[@]}" --workspace "${bin_args[@]}" $(cargo_lock_flag)
info "built in $(elapsed "${t}")"
[[ -x "${BIN}/leadflow" ]] || fail "target/${PROFILE}/leadflow was not built"

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

step "Rep roster (deploy/roster.csv -> reps)"
"${BIN}/leadflow" reps import "${REPO_ROOT}/deploy/roster.csv"

# The sandbox: local Slack, HubSpot and SMTP stand-ins that notify delivers to (crates/sandbox).
SANDBOX_HTTP="127.0.0.1:8025"
SANDBOX_SMTP="127.0.0.1:2525"
notify_env=()
if [[ -x "${BIN}/leadflow-sandbox" ]]; then
  step "Sandbox (Slack, HubSpot, SMTP stand-ins)"
  # it plays Slack and HubSpot for the reps too: a click on a message's Accept / Contacted / Reject
  # and a completed task reach leadflow-ingest signed (deploy/demo/ingest.toml holds the same demo
  # secrets as the sandbox's defaults)
  "${BIN}/leadflow-sandbox" --http "${SANDBOX_HTTP}" --smtp "${SANDBOX_SMTP}" \
    --slack-interactions-url http://127.0.0.1:9111/v1/slack/interactions \
    --hubspot-events-url http://127.0.0.1:9111/v1/crm/hubspot/events \
    --record "${STATE}/sandbox-requests.jsonl" </dev/null >"${LOGS}/sandbox.log" 2>&1 &
  echo "sandbox $!" >>"${PIDS}"
  notify_env=(
    LEADFLOW_STAGE__SLACK__API_URL="http://${SANDBOX_HTTP}/slack/api"
    LEADFLOW_STAGE__SLACK__BOT_TOKEN="xoxb-sandbox-token"
    LEADFLOW_STAGE__HUBSPOT__API_URL="http://${SANDBOX_HTTP}/hubspot"
    LEADFLOW_STAGE__HUBSPOT__TOKEN="pat-sandbox-token"
    LEADFLOW_STAGE__HUBSPOT__RECORD_URL="http://${SANDBOX_HTTP}/#contact-{contact_id}"
    LEADFLOW_STAGE__EMAIL__SMTP_HOST="127.0.0.1"
    LEADFLOW_STAGE__EMAIL__SMTP_PORT="${SANDBOX_SMTP##*:}"
    LEADFLOW_STAGE__EMAIL__TLS="none"
  )
  info "sandbox page: http://${SANDBOX_HTTP}/  (Slack messages, CRM contacts with task and note, emails)"
  info "faults:       curl -XPOST http://${SANDBOX_HTTP}/_sandbox/faults/slack -H 'content-type: application/json' -d '{\"mode\":\"down\",\"for_ms\":30000}'"
fi

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
  stage_env=()
  # The demo runs enrich on the bundled demo dataset, and says so (production names its own file).
  if [[ "${name}" == enrich ]]; then
    stage_env=(LEADFLOW_STAGE__PROVIDER__KIND=demo)
  fi
  if [[ "${name}" == notify || "${name}" == nurture ]]; then
    if ((${#notify_env[@]} == 0)); then
      info "leadflow-${name}: no sandbox built, skipped (it needs the sandbox's HubSpot)"
      continue
    fi
    stage_env=("${notify_env[@]}")
  fi
  # a stage's demo settings (short SLAs, ...) live in deploy/demo/<stage>.toml when it has any
  demo_config=()
  [[ -f "${REPO_ROOT}/deploy/demo/${name}.toml" ]] && demo_config=(--config "${REPO_ROOT}/deploy/demo/${name}.toml")
  env NO_COLOR=1 LEADFLOW_HTTP__LISTEN="127.0.0.1:${port}" "${stage_env[@]}" "${exe}" "${demo_config[@]}" </dev/null >"${LOGS}/${name}.log" 2>&1 &
  echo "${name} $!" >>"${PIDS}"
  started+=("${name} ${port}")
  # the output shown is the handoff path's last topic; recalibrate's model.params is the feedback
  # loop, shown in its own step at the end (leadflow model list)
  # nurture's handoff.activity is the automated half, shown in its own step ("Nurture"); rescore's
  # leads.state is the leads' merged state, and its re-entries are shown in their own step
  # the locator writes no topic: it books where each lead's records are, for leadflow trace
  [[ "${name}" == recalibrate || "${name}" == nurture || "${name}" == rescore || "${name}" == locator ]] || last_topic="${topic}"
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

if [[ -x "${BIN}/leadflow-sla-watchdog" && -x "${BIN}/leadflow-route" ]]; then
  # simulated reps answer the packets: most in time (80 % of them accept first), some late, some
  # never (escalated by the watchdog), 10 % rejected back to the pool with a reason, and some in
  # time but recorded 15 s after the deadline, once the watchdog escalated them (it reconciles the
  # deadline and withdraws the reassignment). With the sandbox and ingest running they act where
  # reps act: buttons on the sandbox's Slack messages and HubSpot task completions, which reach
  # leadflow-ingest signed; nothing is published to handoff.activity behind its back.
  via=()
  if ((${#notify_env[@]})) && [[ -x "${BIN}/leadflow-ingest" ]]; then
    via=(--via-sandbox "http://${SANDBOX_HTTP}")
  fi
  "${BIN}/leadflow" activity simulate --late-share 0.15 --silent-share 0.2 \
    --recorded-late-share 0.1 --recorded-after 15 --reject-share 0.1 --accept-share 0.8 \
    --idle-timeout 45 "${via[@]}" </dev/null >"${LOGS}/reps.log" 2>&1 &
  echo "reps $!" >>"${PIDS}"
  if ((${#via[@]})); then
    info "simulated reps click Accept / Contacted / Reject on the sandbox's Slack messages and complete HubSpot tasks (log ${LOGS}/reps.log)"
  else
    info "simulated reps publish their activity directly (no sandbox or ingest built; log ${LOGS}/reps.log)"
  fi
fi

step "Generating ${COUNT} leads at ${RATE}/s into leads.raw, stamped with the time they are sent"
# the leads are stamped with the time they are sent: a seed used before on the kept data would
# repeat its event ids with new content (ingest answers 409), so each run gets its own seed
SEED="${SEED:-$(date +%s)}"
seed_args=(--seed "${SEED}")
info "seed ${SEED} (SEED=${SEED} scripts/demo.sh repeats this stream on an empty broker: RESET=1)"
if [[ -x "${BIN}/leadflow-recalibrate" ]]; then
  # the sales outcomes of those leads (accepted, rejected, SQL, won, lost — the generator's hidden
  # conversion function with noise and delays) go to leads.outcomes, as the CRM would publish them:
  # recalibrate joins them with the scored leads and fits a candidate model (deploy/demo/recalibrate.toml)
  seed_args+=(--outcomes leads.outcomes)
  info "and their sales outcomes into leads.outcomes (the feedback loop: leadflow-recalibrate)"
fi
if [[ -x "${BIN}/leadflow-ingest" ]] && command -v python3 >/dev/null 2>&1; then
  # like production: HubSpot forms and the website chat POST their leads to leadflow-ingest over
  # HTTP with their API keys (deploy/ingest-publishers.example.toml); the systems that speak Kafka
  # (CRM, intent feed, webinars, sign-ups) produce to leads.raw directly
  info "hubspot and website_chat leads: POST http://127.0.0.1:9111/v1/leads (leadflow-ingest); the others: leadflow produce"
  # their outcomes carry the lead ids ingest gives them (<publisher>:<lead_id>), so they join
  [[ -x "${BIN}/leadflow-recalibrate" ]] && seed_args+=(--ingest-publishers hubspot,website_chat)
  run_fg bash -c 'set -o pipefail; "$1" generate --count "$2" --rate "$3" --start now --live "${@:6}" |
    python3 "$4/scripts/demo_ingest_split.py" http://127.0.0.1:9111 \
      hubspot=demo-hubspot-key website_chat=demo-website-chat-key |
    "$1" produce leads.raw >"$5" 2>&1' _ "${BIN}/leadflow" "${COUNT}" "${RATE}" "${REPO_ROOT}" \
    "${LOGS}/produce.log" "${seed_args[@]}" || warn "not every lead was accepted (see above and ${LOGS}/produce.log)"
else
  run_fg "${BIN}/leadflow" generate --count "${COUNT}" --rate "${RATE}" --start now --live --topic leads.raw "${seed_args[@]}"
fi

step "Output of ${last_topic} (stops after 10 s without new records)"
output="${STATE}/last-output.jsonl"
run_fg "${BIN}/leadflow" tail "${last_topic}" --from-beginning --idle-timeout 10 >"${output}"
if [[ "${last_topic}" == leads.tiered ]] && command -v jq >/dev/null 2>&1; then
  # one line per decision, then counts; the full JSON stays in the file
  printf '    %-14s %5s  %-11s %-10s %-20s %s\n' LEAD SCORE TIER HANDOFF TEAM "FIRST SLA DUE (UTC)"
  jq -r '[.scored.enriched.lead.lead_id, .scored.score, .tier, .handoff, (.target_team // "-"),
          ((.sla // [])[0].due_at // "-")] | @tsv' "${output}" |
    while IFS=$'\t' read -r lead score tier handoff team due; do
      printf '    %-14s %5s  %-11s %-10s %-20s %s\n' "${lead}" "${score}" "${tier}" "${handoff}" "${team}" "${due}"
    done
  printf '\n    by tier:    %s\n' "$(jq -r .tier "${output}" | sort | uniq -c | awk '{printf "%s %s  ", $2, $1}')"
  printf '    by handoff: %s\n' "$(jq -r .handoff "${output}" | sort | uniq -c | awk '{printf "%s %s  ", $2, $1}')"
elif [[ "${last_topic}" == handoff.packets ]] && command -v jq >/dev/null 2>&1; then
  # one line per packet: who got which lead and why; the full packets stay in the file
  printf '    %-14s %-11s %-14s %-14s %-3s %s\n' LEAD TIER TEAM OWNER LVL REASON
  jq -r '[.decision.scored.enriched.lead.lead_id, .decision.tier, .decision.target_team,
          (.assignee.rep_id // "-"), .escalation_level,
          (if .unassigned_reason then "FLAGGED: " + .unassigned_reason else .assignment_reason end)] | @tsv' "${output}" |
    while IFS=$'\t' read -r lead tier team owner lvl reason; do
      printf '    %-14s %-11s %-14s %-14s %-3s %s\n' "${lead}" "${tier}" "${team}" "${owner}" "${lvl}" "${reason}"
    done
  printf '\n    by owner: %s\n' "$(jq -r '.assignee.rep_id // "-"' "${output}" | sort | uniq -c | awk '{printf "%s %s  ", $2, $1}')"
  info "open load per rep: target/release/leadflow reps list"
elif [[ "${last_topic}" == handoff.deliveries ]] && command -v jq >/dev/null 2>&1; then
  # one line per receipt (every channel and attempt); the full receipts stay in the file
  printf '    %-14s %-6s %-10s %-3s %-22s %s\n' LEAD CHANNEL STATUS TRY "REMOTE ID" ERROR
  jq -r '[.lead_id, .channel, .status, .attempts, (.external_id // "-"), (.error // "")] | @tsv' "${output}" |
    while IFS=$'\t' read -r lead channel status attempts remote error; do
      printf '    %-14s %-6s %-10s %-3s %-22s %s\n' "${lead}" "${channel}" "${status}" "${attempts}" "${remote:0:22}" "${error:0:60}"
    done
  printf '\n    by channel and status: %s\n' "$(jq -r '.channel + "/" + .status' "${output}" | sort | uniq -c | awk '{printf "%s %s  ", $2, $1}')"
  info "what the reps saw: http://${SANDBOX_HTTP}/  (Slack messages, CRM contacts with task and note, emails)"
else
  cat "${output}"
fi
info "$(wc -l <"${output}") records of ${last_topic}, as JSON lines in ${output}"

if [[ -x "${BIN}/leadflow-nurture" ]] && ((${#notify_env[@]})) && command -v jq >/dev/null 2>&1; then
  # the automated half (crates/nurture/RULES.md): every no-handoff lead with an email was enrolled in
  # its tier's HubSpot list (the sandbox's lists), which meets NURTURE_24H's first touch; one in three
  # enrolled NURTURE_24H leads now answers the sequence's email, HubSpot reports the reply to ingest,
  # and tier hands each reply to the WARM queue (crates/tier/POLICY.md N1)
  step "Nurture: enrolments, and replies that bring a human"
  nurture_dir="${STATE}/nurture"
  mkdir -p "${nurture_dir}"
  "${BIN}/leadflow" tail handoff.activity --from-beginning --idle-timeout 3 2>/dev/null |
    jq -r 'select(.kind == "ENROLLED") | .lead_id' | sort -u >"${nurture_dir}/enrolled.txt" || true
  info "$(wc -l <"${nurture_dir}/enrolled.txt") leads enrolled; the sandbox's lists (id: members): $(curl -fsS "http://${SANDBOX_HTTP}/_sandbox/state" | jq -r '.lists | to_entries | map("\(.key): \(.value | length)") | join(", ")')"
  # every third enrolled NURTURE_24H lead replies: HubSpot's workflow ("sales email replied") sends
  # the contact, with the lead id nurture set on it, to ingest's replies webhook with the hubspot
  # publisher's key (crates/ingest/RULES.md A3; the sandbox's contacts are HubSpot's)
  curl -fsS "http://${SANDBOX_HTTP}/_sandbox/state" >"${nurture_dir}/sandbox-state.json" 2>/dev/null || echo '{}' >"${nurture_dir}/sandbox-state.json"
  "${BIN}/leadflow" tail leads.tiered --from-beginning --idle-timeout 3 2>/dev/null |
    jq -c -s --argjson now "$(date +%s%3N)" --rawfile enrolled "${nurture_dir}/enrolled.txt" \
      --slurpfile sandbox "${nurture_dir}/sandbox-state.json" '
      ($enrolled | split("\n")) as $in
      | ($sandbox[0].crm // [] | map(select(.object_type == "contacts"))) as $contacts
      | map(select(.handoff == "NONE" and .tier == "NURTURE_24H")
            | .scored.enriched.lead | select(.lead_id as $id | $in | index($id)))
      | unique_by(.lead_id) | to_entries | map(select(.key % 3 == 0) | .value) | .[]
      | .lead_id as $id
      | ($contacts | map(select(.properties.leadflow_lead_id == $id)) | first) as $c
      | select($c != null)
      | {objectId: ($c.id | tonumber? // $c.id),
         properties: ($c.properties + {hs_sales_email_last_replied: ($now | tostring)})}' \
    >"${nurture_dir}/replies.jsonl"
  if [[ -s "${nurture_dir}/replies.jsonl" ]]; then
    replied=0
    while IFS= read -r body; do
      code="$(curl -sS -o "${LOGS}/reply-answer.json" -w '%{http_code}' -X POST \
        -H 'content-type: application/json' -H 'x-api-key: demo-hubspot-key' \
        --data "${body}" "http://127.0.0.1:9111/v1/webhooks/hubspot/hubspot/replies" 2>>"${LOGS}/replies.log")" || code=000
      if [[ "${code}" == 202 ]]; then
        replied=$((replied + 1))
      else
        warn "ingest answered ${code} to a reply: $(cat "${LOGS}/reply-answer.json" 2>/dev/null)"
      fi
    done <"${nurture_dir}/replies.jsonl"
    info "${replied} enrolled NURTURE_24H leads replied: HubSpot's workflow posted them to ingest (${nurture_dir}/replies.jsonl)"
  else
    info "no enrolled NURTURE_24H lead to reply in this run"
  fi
  if [[ -x "${BIN}/leadflow-rescore" ]]; then
    # re-scoring (crates/rescore/RULES.md I1-I5): other enrolled NURTURE_24H leads, ones that did not
    # reply (every third from the second on), show new intent: an update on leads.raw with a pricing
    # page view, a webinar attended and an email click of now. That update alone scores like a
    # nurtured lead (crates/rescore/tests/default_model.rs: 3 such activities alone stay
    # NURTURE_24H), but rescore's merged lead, with the lead's earlier activities, may reach WARM
    # (score >= 70, confidence >= 0.80): then it re-enters leads.enriched and tier hands it to the
    # WARM queue with "re-scored (intent): score N, was M" as its first reason (tier POLICY.md RS1).
    # The update carries only the new activities: rescore merges them with the ones it holds (M2),
    # and re-enters only when the merged lead scores higher than the update alone (I5).
    step "Re-scoring: leads that warmed up"
    "${BIN}/leadflow" tail leads.tiered --from-beginning --idle-timeout 3 2>/dev/null |
      jq -c -s --argjson now "$(date +%s%3N)" --rawfile enrolled "${nurture_dir}/enrolled.txt" '
        ($enrolled | split("\n")) as $in
        | map(select(.handoff == "NONE" and .tier == "NURTURE_24H")
              | .scored.enriched.lead | select(.lead_id as $id | $in | index($id)))
        | unique_by(.lead_id) | to_entries | map(select(.key % 3 == 1) | .value) | .[]
        | {event_id: ("intent-" + .event_id), lead_id, account_domain,
           source_system, source_record_id: ("intent-" + .source_record_id),
           occurred_at: $now, event_type: "INTENT_SURGE", contact, company,
           activities: [{kind: "PRICING_PAGE_VIEW", occurred_at: $now, detail: "intent: pricing page"},
                        {kind: "WEBINAR_ATTENDED", occurred_at: ($now - 60000), detail: "intent: product webinar"},
                        {kind: "EMAIL_CLICK", occurred_at: ($now - 120000), detail: "intent: nurture email click"}],
           chat: null, session: null, attributes: {}}' >"${nurture_dir}/intent.jsonl"
    if [[ -s "${nurture_dir}/intent.jsonl" ]]; then
      # (not run_fg: a background command's stdin is /dev/null)
      "${BIN}/leadflow" produce leads.raw <"${nurture_dir}/intent.jsonl" >"${LOGS}/intent.log" 2>&1 ||
        warn "the intent updates were not all produced (${LOGS}/intent.log)"
      info "$(wc -l <"${nurture_dir}/intent.jsonl") enrolled NURTURE_24H leads showed new intent (${nurture_dir}/intent.jsonl); those whose merged lead reaches WARM are re-scored"
      # the re-scored decisions: tier's first reason says "re-scored" (tier POLICY.md RS1)
      rescored=""
      for _ in $(seq 1 10); do
        sleep 3
        rescored="$("${BIN}/leadflow" tail leads.tiered --from-beginning --idle-timeout 3 2>/dev/null |
          jq -r 'select((.reasons[0] // "") | startswith("re-scored"))
                 | "      \(.scored.enriched.lead.lead_id): \(.tier), \(.reasons[0])"')"
        [[ -n "${rescored}" ]] && break
      done
      if [[ -n "${rescored}" ]]; then
        info "re-scored and handed to a human again:"
        printf '%s\n' "${rescored}"
      else
        info "none of them reached a human band after merging (their earlier activities were too few)"
      fi
    else
      info "no enrolled NURTURE_24H lead to show new intent in this run"
    fi
  fi
fi

if [[ -x "${BIN}/leadflow-route" ]] && command -v jq >/dev/null 2>&1; then
  # buying committees (crates/route/RULES.md section 9): the latest packet of the largest accounts,
  # its map as the owner's card shows it (lead ids and titles; the names are on the card)
  step "Buying committees: one card per account, the largest three"
  committees="${STATE}/committees.jsonl"
  "${BIN}/leadflow" tail handoff.packets --from-beginning --idle-timeout 5 >"${committees}" 2>/dev/null ||
    warn "could not read handoff.packets"
  jq -s -r 'map(select(.committee != null and .committee.total >= 2 and .withdraws == null))
      | group_by(.committee.account_key) | map(max_by(.committee.total)) | sort_by(-.committee.total)
      | .[:3][] | .committee
      | "    \(.account_key): \(.total) known people, owner \(.owner.rep_id // "-")\(if .updates_card then " (an update of the card)" else "" end)",
        "      strategy: \(.strategy)",
        (.members[] | "      \(.role | ascii_upcase | .[0:18]) \(.lead_id) (\(.title // "no title")) \(.persona), score \(.score) \(.tier), \(.status), rep \(.owner_rep_id // "-")")' \
    "${committees}"
  accounts="$(jq -s 'map(select(.committee.total? >= 2)) | map(.committee.account_key) | unique | length' "${committees}")"
  updates="$(jq -s 'map(select(.committee.updates_card? != null)) | length' "${committees}")"
  info "${accounts} accounts with two or more known people; ${updates} packets updated an owner's card"
  info "(Slack: one card per account, its map updated in place, the next people in its thread: http://${SANDBOX_HTTP}/)"
fi

if [[ -x "${BIN}/leadflow-sla-watchdog" ]]; then
  # the leads carry the wall-clock time, so their deadlines (one or two minutes: deploy/demo/tier.toml)
  # run on the real clock: wait until the watchdog has settled every deadline it opened (met, closed
  # late, escalated, reassigned and met or missed by the new owner), at most SLA_WAIT_S seconds. A
  # commitment made to a chat visitor ("before close today", "before 10:00 next business morning":
  # crates/tier/POLICY.md) keeps its real, later deadline and is shown as open.
  step "SLA clocks (live: waiting until every deadline is settled, at most ${SLA_WAIT_S:-300} s)"
  open_deadlines() {
    curl -fsS "http://127.0.0.1:9106/metrics" 2>/dev/null |
      awk '/^leadflow_sla_watchdog_open_deadlines[{ ]/ {n += $NF} END {printf "%d", n}'
  }
  deadline=$((SECONDS + ${SLA_WAIT_S:-300}))
  sleep 5
  while :; do
    open="$(open_deadlines)"
    [[ -n "${open}" && "${open}" == 0 ]] && break
    if ((SECONDS >= deadline)); then
      info "${open:-?} deadlines still open after ${SLA_WAIT_S:-300} s (commitments due later); the tables show them as open"
      break
    fi
    info "$(date -u +%H:%M:%S) open deadlines: ${open:-?}"
    sleep 15
  done

  step "Every lead that reached a human: tier, owner, channels delivered, SLA"
  summary_dir="${STATE}/summary"
  mkdir -p "${summary_dir}"
  for topic in handoff.packets handoff.deliveries sla.outcomes; do
    "${BIN}/leadflow" tail "${topic}" --from-beginning --idle-timeout 3 >"${summary_dir}/${topic}.jsonl" 2>/dev/null ||
      warn "could not read ${topic}"
  done
  if command -v jq >/dev/null 2>&1; then
    printf '    %-34s %-11s %-14s %-3s %-16s %s\n' LEAD TIER OWNER LVL DELIVERED "SLA (each deadline, in order: outcome(owner charged))"
    jq -r -n --slurpfile packets "${summary_dir}/handoff.packets.jsonl" \
      --slurpfile deliveries "${summary_dir}/handoff.deliveries.jsonl" \
      --slurpfile outcomes "${summary_dir}/sla.outcomes.jsonl" '
      ($deliveries | map(select(.status == "DELIVERED")) | group_by(.lead_id)
        | map({key: .[0].lead_id, value: (map(.channel) | unique | join(","))}) | from_entries) as $chan
      | ($outcomes | map(select(.outcome != "OPENED")) | group_by(.lead_id)
        | map({key: .[0].lead_id, value: (map(.outcome + (if .owner then "(" + .owner + ")" else "" end))
              | join(" > "))}) | from_entries) as $sla
      | $packets | group_by(.decision.scored.enriched.lead.lead_id)
      # the current packet of each lead; a withdrawn reassignment leaves the lead with its
      # previous owner (the withdrawal notice names them)
      | map((map(select(.withdraws != null)) | first) as $w
            | map(select(.withdraws == null)) | max_by(.escalation_level)
            | if $w then .assignee = $w.previous_assignee | .escalation_level = 0 else . end)
      | sort_by(.created_at) | .[]
      | .decision.scored.enriched.lead.lead_id as $lead
      | [$lead, .decision.tier, (.assignee.rep_id // "-"), (.escalation_level | tostring),
         ($chan[$lead] // "-"), ($sla[$lead] // "open")] | @tsv' |
      while IFS=$'\t' read -r lead tier owner lvl channels sla; do
        printf '    %-34s %-11s %-14s %-3s %-16s %s\n' "${lead}" "${tier}" "${owner}" "${lvl}" "${channels}" "${sla}"
      done
    info "SLA column: what the watchdog decided for each deadline, in order (sla.outcomes), with the owner"
    info "it was charged to: MET, CLOSED_LATE (contacted after the deadline), ESCALATED (reassigned),"
    info "RECONCILED (a contact stamped in time arrived after the escalation), MISSED (the automated first"
    info "touch of a no-handoff decision never came: nurture did not enrol the lead in time, e.g. it has no email)"
    replied="$(jq -s '[.[] | select(.decision.trigger == "NURTURE_REPLY") | .decision.scored.enriched.lead.lead_id] | unique | length' "${summary_dir}/handoff.packets.jsonl")"
    info "${replied} of them are nurtured leads that replied to their sequence (trigger NURTURE_REPLY, tier POLICY.md N1)"
    rescored="$(jq -s '[.[] | select((.decision.reasons[0]? // "") | startswith("re-scored")) | .decision.scored.enriched.lead.lead_id] | unique | length' "${summary_dir}/handoff.packets.jsonl")"
    info "${rescored} of them are nurtured leads that warmed up and were re-scored into a human band (reason \"re-scored (...)\", crates/rescore/RULES.md)"
  fi

  step "SLA adherence (leadflow sla report; escalations: leadflow tail sla.escalations --from-beginning)"
  run_fg "${BIN}/leadflow" sla report --since 1d || warn "sla report failed"
  escalations="$("${BIN}/leadflow" tail sla.escalations --from-beginning --idle-timeout 3 2>/dev/null | wc -l)"
  reported="$("${BIN}/leadflow" sla report --since 1d --json 2>/dev/null |
    jq -s '[.[] | select(.by == "tier") | .escalated] | add // 0')"
  withdrawn="$(jq -s 'map(select(.withdraws != null)) | length' "${summary_dir}/handoff.packets.jsonl")"
  if [[ "${reported}" == "${escalations}" ]]; then
    info "${escalations} records on sla.escalations, ${reported} in the report's escalated column: they agree"
  else
    warn "${escalations} records on sla.escalations but ${reported} in the report's escalated column"
  fi
  info "${withdrawn} reassignments withdrawn (a contact stamped in time arrived after the escalation)"
  # the reps acted from Slack and the CRM only: every activity came through leadflow-ingest
  for topic in handoff.activity; do
    "${BIN}/leadflow" tail "${topic}" --from-beginning --idle-timeout 3 >"${summary_dir}/${topic}.jsonl" 2>/dev/null ||
      warn "could not read ${topic}"
  done
  read -r acts via_ingest kinds < <(jq -s -r '[length, (map(select(.activity_id | startswith("act-"))) | length),
      (group_by(.kind) | map("\(.[0].kind | ascii_downcase)=\(length)") | join(","))] | @tsv' \
      "${summary_dir}/handoff.activity.jsonl" | tr '\t' ' ')
  rejected_moved="$(jq -s 'map(select(.assignment_reason | test("^reassigned after .* rejected it"))) | length' \
    "${summary_dir}/handoff.packets.jsonl")"
  info "rep activity: ${acts} records (${kinds:-none}), ${via_ingest} of them from Slack clicks and HubSpot webhooks through ingest"
  info "${rejected_moved} rejected leads went back to the pool (leadflow-route-rejections)"
  # the report's "automation" row: the first touch of the no-handoff decisions (NURTURE_24H's
  # automated sequence), which nurture's ENROLLED activity meets (crates/sla-watchdog/RULES.md). A
  # breach there is a decision nurture did not enrol in time; nurture puts the ones it cannot enrol
  # on leads.exceptions (crates/nurture/RULES.md E3: no email, MISSING_FIELD; E5: HubSpot refused or
  # unavailable, VALIDATION / DELIVERY), whose reason starts with "the <tier> sequence".
  "${BIN}/leadflow" tail leads.exceptions --from-beginning --idle-timeout 3 >"${summary_dir}/leads.exceptions.jsonl" 2>/dev/null ||
    warn "could not read leads.exceptions"
  read -r auto_breached auto_no_email auto_failed auto_late auto_unexplained < <(jq -r -n \
      --arg since "$(date -u -d '1 day ago' +%Y-%m-%dT%H:%M:%S)" \
      --slurpfile outcomes "${summary_dir}/sla.outcomes.jsonl" \
      --slurpfile activity "${summary_dir}/handoff.activity.jsonl" \
      --slurpfile exceptions "${summary_dir}/leads.exceptions.jsonl" '
    ($exceptions | map(select(.stage == "nurture"))) as $exc
    | ($activity | map(select(.kind == "ENROLLED"))) as $enrolled
    # each no-handoff deadline of the report window, as last decided (a MISSED then MET is met)
    | [$outcomes[] | select((.packet_id | startswith("sequence:")) and .due_at >= $since)]
    | group_by([.packet_id, .sla_kind])
    | map((map(select(.outcome != "OPENED")) | last) // .[0])
    | map(select(.outcome == "MISSED" or .outcome == "CLOSED_LATE")
          | . as $d
          | ($exc | map(select(.lead_id == $d.lead_id
                               and (.reason // "" | startswith("the \($d.tier) sequence")))) | first) as $x
          | if $x != null then (if $x.error_kind == "MISSING_FIELD" then "no_email" else "failed" end)
            elif .outcome == "CLOSED_LATE" or ($enrolled | any(.packet_id == $d.packet_id)) then "late"
            else "unexplained" end)
    | [length, (map(select(. == "no_email")) | length), (map(select(. == "failed")) | length),
       (map(select(. == "late")) | length), (map(select(. == "unexplained")) | length)] | @tsv' |
    tr '\t' ' ') || true
  if [[ "${auto_breached:-0}" == 0 ]]; then
    info "sla report, \"automation\": every first touch of a no-handoff decision (NURTURE_24H's sequence) was met by nurture's enrolment"
  else
    info "sla report, row \"automation\": the first touch of the no-handoff decisions (NURTURE_24H's automated sequence), met"
    info "by nurture's enrolment (ENROLLED), never escalated. Its ${auto_breached} breached are decisions nurture did not enrol in time:"
    info "  lead without an email (a sequence is email; MISSING_FIELD exception for marketing-ops): ${auto_no_email}"
    info "  enrolment HubSpot refused or that failed after its retries (VALIDATION, DELIVERY exception): ${auto_failed}"
    info "  enrolled after the deadline: ${auto_late}     (the exceptions: leadflow exceptions list --stage nurture)"
    info "The NURTURE_24H tier row also counts the NURTURE_24H leads a human took (a chat request, a reply): theirs are the reps'."
    if [[ "${auto_unexplained:-0}" != 0 ]]; then
      warn "${auto_unexplained} no-handoff first touches missed with neither an enrolment nor a nurture exception (${LOGS}/nurture.log)"
    fi
  fi
  # the CRM as the reps see it: a reassigned lead keeps one open task (the current owner's)
  if state="$(curl -fsS "http://${SANDBOX_HTTP}/_sandbox/state" 2>/dev/null)"; then
    read -r most doubled < <(jq -r '[.crm[] | select(.object_type == "tasks" and
        .properties.hs_task_status != "COMPLETED")]
      | group_by(.properties.leadflow_idempotency_key | split("|")[0]) | map(length)
      | "\(max // 0) \(map(select(. > 1)) | length)"' <<<"${state}")
    if [[ "${doubled}" == 0 ]]; then
      info "CRM: at most ${most} open task per lead (the current owner's)"
    else
      warn "CRM: ${doubled} leads have more than one open task"
    fi
  fi
fi

if [[ -x "${BIN}/leadflow-locator" && -n "${summary_dir:-}" ]] && command -v jq >/dev/null 2>&1; then
  traced="$(jq -r -s 'map(.decision.scored.enriched.lead.lead_id) | last // empty' "${summary_dir}/handoff.packets.jsonl" 2>/dev/null || true)"
  if [[ -n "${traced}" ]]; then
    step "One lead's way through the pipeline (leadflow trace, with the lead locator)"
    run_fg env LEADFLOW_LOCATOR_URL="http://127.0.0.1:9115" "${BIN}/leadflow" trace "${traced}" --stats ||
      warn "leadflow trace ${traced} failed"
  fi
fi

if [[ -x "${BIN}/leadflow-sla-watchdog" && -x "${BIN}/leadflow-route" ]]; then
  step "Funnel quality (leadflow quality report; the console's /quality page draws it)"
  run_fg "${BIN}/leadflow" quality report --since 1d || warn "quality report failed"
fi

if [[ -x "${BIN}/leadflow-recalibrate" ]]; then
  step "Feedback loop: the outcomes recalibrated the model (leadflow model list)"
  # recalibrate attempts a fit once enough labelled outcomes joined their scored leads (checked every
  # second with the demo settings); every attempt, promoted or refused, is on model.history
  deadline=$((SECONDS + 60))
  until grep -Eq 'leadflow_recalibrate_attempts_total\{result="(promoted|rejected)"\} [1-9]' <(curl -fsS "http://127.0.0.1:9107/metrics" 2>/dev/null || true); do
    if ((SECONDS >= deadline)); then
      warn "no recalibration attempt within 60 s (log ${LOGS}/recalibrate.log)"
      break
    fi
    sleep 1
  done
  run_fg "${BIN}/leadflow" model list || warn "leadflow model list failed"
  info "a version in full: leadflow model show <version>; backtest a candidate: leadflow backtest --help"
fi

step "Where to look"
info "logs:        ${LOGS}/<stage>.log"
for entry in "${started[@]}"; do
  read -r name port <<<"${entry}"
  info "$(printf '%-13s http://127.0.0.1:%s/metrics  /healthz  /readyz' "${name}:" "${port}")"
done
info "exceptions:  target/release/leadflow tail leads.exceptions --from-beginning"
if ((${#notify_env[@]})); then
  info "sandbox:     http://${SANDBOX_HTTP}/  (what notify delivered; requests in .leadflow/sandbox-requests.jsonl)"
fi
info "console:     LEADFLOW_LOCATOR_URL=http://127.0.0.1:9115 target/${PROFILE}/leadflow console   (exceptions queue, queues & SLA, lead traces in a browser)"
info "broker data: .leadflow/broker.db (kept between runs; RESET=1 starts empty)"
