#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ (cargo-fuzz + libFuzzer, nightly toolchain) for a bounded time.
#   scripts/fuzz.sh                 # 25 s per target (what scripts/test.sh runs)
#   scripts/fuzz.sh --time 600      # longer runs; or --runs 1000000 for a fixed number of executions
#   scripts/fuzz.sh --only codec    # one target
# Installs cargo-fuzz when missing (cargo install cargo-fuzz --locked, ~5 min). Builds without a
# sanitizer (-s none): the workspace forbids unsafe code, so AddressSanitizer would only slow the build
# and the runs; panics, aborts, timeouts and allocations above -malloc_limit_mb are still findings.
# The seed corpus (fuzz/seeds/<target>) is regenerated from `leadflow generate` (JSON lines) and the
# services' config files; what the fuzzer finds is kept in fuzz/corpus/<target> (git-ignored).
# A crash leaves its input in fuzz/artifacts/<target>/ and fails the script: reproduce it with
#   cargo +nightly fuzz run -s none <target> fuzz/artifacts/<target>/<file>
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${REPO_ROOT}/fuzz"

time_s=25
runs=""
only=""
while (($#)); do
  case "$1" in
    --time) time_s="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

TARGETS=(codec produce_line config normalisers ingest_lead ingest_validator ingest_webhooks escapers)
if [[ -n "${only}" ]]; then TARGETS=("${only}"); fi

if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

cargo +nightly fuzz build -s none
bin_dir="target/x86_64-unknown-linux-gnu/release"

# seeds: generated leads as `produce` JSON lines (kind byte 0 = LeadEvent), the services' config files
# (kind byte 0..5 as in fuzz_targets/config.rs)
mkdir -p seeds/produce_line seeds/config seeds/codec seeds/normalisers \
  seeds/ingest_lead seeds/ingest_validator seeds/ingest_webhooks seeds/escapers
leadflow="${REPO_ROOT}/target/debug/leadflow"
[[ -x "${leadflow}" ]] || (cd "${REPO_ROOT}" && cargo build -p leadflow-cli)
i=0
while IFS= read -r line; do
  { printf '\x00'; printf '%s' "${line}"; } >"seeds/produce_line/lead-${i}"
  i=$((i + 1))
done < <("${leadflow}" generate --count 40 --seed 42)
n=0
for f in leadflow enrich score tier route sla-watchdog; do
  { printf "\\x0${n}"; cat "${REPO_ROOT}/deploy/config/${f}.toml"; } >"seeds/config/${f}.toml"
  n=$((n + 1))
done
printf 'a.b@example.com\x1f+44 20 7946 0000\x1fGB\x1fexample.com' >seeds/normalisers/one
printf '\x00' >seeds/codec/empty
# escapers: the hostile strings of the escaping rules (Slack control sequences, HTML, header lines)
printf '%s' '<!channel> <https://evil.example|Reset password> &lt;x&gt; "'"'"'><script>' >seeds/escapers/hostile
printf 'javascript:alert(1)\r\nBcc: x@example.com' >seeds/escapers/link
# ingest: the API's example lead and the webhook fixtures (first byte: schema / adapter choice)
ingest_fixtures="${REPO_ROOT}/crates/ingest/tests/fixtures"
printf '%s' '{"event_id":"e1","lead_id":"l1","source_record_id":"r1","occurred_at":"2026-11-30T09:30:00Z","event_type":"FORM_SUBMISSION","contact":{"email":"ada@acme.example"},"attributes":{"utm_source":"ads"}}' \
  >seeds/ingest_lead/one
{ printf '\x00'; cat seeds/ingest_lead/one; } >seeds/ingest_validator/lead
{ printf '\x02'; cat "${ingest_fixtures}/hubspot_form_submission.json"; } >seeds/ingest_validator/hubspot
{ printf '\x03'; cat "${ingest_fixtures}/chat_transcript.json"; } >seeds/ingest_validator/chat
{ printf '\x00'; cat "${ingest_fixtures}/hubspot_form_submission.json"; } >seeds/ingest_webhooks/hubspot
{ printf '\x01'; cat "${ingest_fixtures}/chat_transcript.json"; } >seeds/ingest_webhooks/chat

failed=0
for target in "${TARGETS[@]}"; do
  mkdir -p "corpus/${target}" "artifacts/${target}"
  limit=(-max_total_time="${time_s}")
  if [[ -n "${runs}" ]]; then limit=(-runs="${runs}"); fi
  log="$(mktemp)"
  started="$(date +%s)"
  # -malloc_limit_mb: one allocation above 256 MiB is a finding (decode caps: nothing the input
  # controls may allocate more than a payload's worth); -rss_limit_mb for the whole process
  if "${bin_dir}/${target}" "corpus/${target}" "seeds/${target}" \
      -artifact_prefix="artifacts/${target}/" -malloc_limit_mb=256 -rss_limit_mb=2048 \
      -max_len=65536 -timeout=10 -print_final_stats=1 "${limit[@]}" >"${log}" 2>&1; then
    status=ok
  else
    status=FAILED
    failed=1
    tail -60 "${log}"
  fi
  execs="$(awk '/stat::number_of_executed_units/ {print $2}' "${log}")"
  rate="$(awk '/stat::average_exec_per_sec/ {print $2}' "${log}")"
  cov="$(grep -o 'cov: [0-9]*' "${log}" | tail -1 | awk '{print $2}')"
  printf 'fuzz %-13s %-6s %10s execs %8s/s  cov %6s  %4ss\n' "${target}" "${status}" \
    "${execs:-?}" "${rate:-?}" "${cov:-?}" "$(($(date +%s) - started))"
  rm -f "${log}"
done
exit "${failed}"
