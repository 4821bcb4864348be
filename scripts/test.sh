#!/usr/bin/env bash
# Runs every leadflow check on a fresh local broker:
#   installs what is missing (system packages, cargo-nextest, tansu), builds the workspace once,
#   starts tansu on a free port with a fresh SQLite file, runs the tests (cargo nextest, in parallel)
#   with LEADFLOW_TEST_BOOTSTRAP pointing at it, then cargo fmt --check and clippy -D warnings.
# Checks deploy/ and docker-compose.yml offline (scripts/check-deploy.sh).
# Always stops the broker; exits non-zero when anything failed. Extra arguments go to the test runner
# (e.g. scripts/test.sh -p leadflow-runtime).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "${REPO_ROOT}/scripts/lib.sh"
cd "${REPO_ROOT}"

started_all="$(now_s)"
declare -a results=()
failed=0

record() { # name, status, start
  results+=("$(printf '%-8s %-6s %s' "$1" "$2" "$(elapsed "$3")")")
  [[ "$2" == ok ]] || failed=1
}

WORK_DIR=""
cleanup() {
  local rc=$?
  if [[ -n "${WORK_DIR}" && -d "${WORK_DIR}" ]]; then
    "${REPO_ROOT}/scripts/broker.sh" stop --state-dir "${WORK_DIR}/state" >/dev/null 2>&1 || true
    if ((failed)) && [[ -f "${WORK_DIR}/state/tansu.log" ]]; then
      mkdir -p "${REPO_ROOT}/target"
      cp "${WORK_DIR}/state/tansu.log" "${REPO_ROOT}/target/test-broker.log" 2>/dev/null || true
      info "broker log kept in target/test-broker.log"
    fi
    rm -rf "${WORK_DIR}"
  fi
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A test run builds from scratch on a clean checkout: cargo's incremental caches would only add
# another copy of the workspace's crates (as large as the build itself) for nothing to reuse.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

step "Tools"
t="$(now_s)"
ensure_disk_space
ensure_rust
ensure_system_packages
ensure_rust_components
use_nextest=1
ensure_nextest || use_nextest=0
ensure_tansu
ensure_chromium
record tools ok "${t}"

step "Deploy (kustomize overlays, Kubernetes/KEDA schemas, promtool, docker-compose config)"
t="$(now_s)"
# installs its own tools (Debian + PyPI, ensure_deploy_tools); a failure is this step's, not the run's
if "${REPO_ROOT}/scripts/check-deploy.sh"; then record deploy ok "${t}"; else record deploy FAILED "${t}"; fi

step "Build (workspace, all targets)"
t="$(now_s)"
lock_flag="$(cargo_lock_flag)"
# shellcheck disable=SC2086
if ! cargo build --workspace --all-targets ${lock_flag}; then
  record build FAILED "${t}"
  printf '\n%s\n' "${results[@]}"
  fail "the build failed; nothing was tested"
fi
record build ok "${t}"

step "Broker (tansu, fresh SQLite file)"
t="$(now_s)"
WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/leadflow-test.XXXXXX")"
"${REPO_ROOT}/scripts/broker.sh" start --port auto --data "${WORK_DIR}/broker.db" --state-dir "${WORK_DIR}/state"
export LEADFLOW_TEST_BOOTSTRAP="127.0.0.1:$(cat "${WORK_DIR}/state/port")"
info "LEADFLOW_TEST_BOOTSTRAP=${LEADFLOW_TEST_BOOTSTRAP}"
record broker ok "${t}"

step "Tests"
t="$(now_s)"
# shellcheck disable=SC2086
if ((use_nextest)); then
  # one line per failing or slow test, then the summary (NEXTEST_STATUS_LEVEL=pass lists every test)
  export NEXTEST_STATUS_LEVEL="${NEXTEST_STATUS_LEVEL:-slow}"
  tests_ok=1
  test_log="${WORK_DIR}/tests.log"
  set +e
  cargo nextest run --workspace ${lock_flag} --no-fail-fast "$@" 2>&1 | tee "${test_log}"
  runner_rc="${PIPESTATUS[0]}"
  set -e
  [[ "${runner_rc}" == 0 ]] || tests_ok=0
  # nextest's closing summary: "N tests run: P passed, F failed, S skipped"
  summary_line="$(grep -E 'tests? run:' "${test_log}" | tail -n 1 || true)"
  tests_passed="$(grep -Eo '[0-9]+ passed' <<<"${summary_line}" | grep -Eo '[0-9]+' || echo 0)"
  tests_failed="$(grep -Eo '[0-9]+ failed' <<<"${summary_line}" | grep -Eo '[0-9]+' || echo 0)"
  # nextest does not run doc tests; their output is shown only when they fail
  doc_log="${WORK_DIR}/doctests.log"
  if cargo test --workspace --doc ${lock_flag} "$@" >"${doc_log}" 2>&1; then
    doc_passed="$(awk '/^test result:/ {n += $4} END {print n + 0}' "${doc_log}")"
    info "doc tests: ${doc_passed} passed"
    tests_passed=$((tests_passed + doc_passed))
  else
    cat "${doc_log}"
    tests_ok=0
    tests_failed=$((tests_failed + $(awk '/^test result:/ {n += $6} END {print n + 0}' "${doc_log}")))
  fi
  if ((tests_ok)); then record tests ok "${t}"; else record tests FAILED "${t}"; fi
else
  test_log="${WORK_DIR}/tests.log"
  set +e
  cargo test --workspace ${lock_flag} --no-fail-fast "$@" 2>&1 | tee "${test_log}"
  runner_rc="${PIPESTATUS[0]}"
  set -e
  if [[ "${runner_rc}" == 0 ]]; then record tests ok "${t}"; else record tests FAILED "${t}"; fi
  tests_passed="$(awk '/^test result:/ {n += $4} END {print n + 0}' "${test_log}")"
  tests_failed="$(awk '/^test result:/ {n += $6} END {print n + 0}' "${test_log}")"
fi

# --- ingest: property-based API test of leadflow-ingest's OpenAPI document -------------
# schemathesis (PyPI, pinned, into .leadflow/venv) against the service on 127.0.0.1 and this broker:
# no 5xx, no answer that violates the document (scripts/api-test.sh; about 1 to 2 minutes).
step "API test (leadflow-ingest, schemathesis)"
t="$(now_s)"
if API_TEST_SECONDS="${API_TEST_SECONDS:-60}" "${REPO_ROOT}/scripts/api-test.sh"; then
  record api ok "${t}"
else
  record api FAILED "${t}"
fi

# A bounded burst of hostile requests against a running ingest (abandoned requests, oversized and
# deeply nested bodies, forged and replayed webhooks, a unique-key flood), then a normal lead must get
# 202 and the memory must have stayed under crates/ingest/RULES.md's bound (scripts/abuse-test.sh).
step "Abuse test (leadflow-ingest under hostile requests)"
t="$(now_s)"
if "${REPO_ROOT}/scripts/abuse-test.sh"; then record abuse ok "${t}"; else record abuse FAILED "${t}"; fi
# --- end ingest --------------------------------------------------------------------------------------

"${REPO_ROOT}/scripts/broker.sh" stop --state-dir "${WORK_DIR}/state" >/dev/null || true

# --- exceptions: the console in a real browser -------------------------------------
# headless Chromium (Debian's package, installed when missing) drives `leadflow console`: the queue
# shows a seeded exception, the close action works, a trace page renders. Starts its own tansu.
step "Console (headless Chromium)"
t="$(now_s)"
if "${REPO_ROOT}/scripts/console-browser-test.sh"; then record console ok "${t}"; else record console FAILED "${t}"; fi
# the funnel-quality page: the quality fold's hand-checked fixture on fresh topics, its figures and
# charts in the browser (scripts/quality-browser-test.sh). Starts its own tansu.
step "Quality page (headless Chromium)"
t="$(now_s)"
if "${REPO_ROOT}/scripts/quality-browser-test.sh"; then record quality ok "${t}"; else record quality FAILED "${t}"; fi

# --- deploy: every binary started with compose's and the prod overlay's exact configuration (files
# mounted at the same paths, read-only root, uid 10001) on its own private tansu; each must answer
# /readyz (scripts/deploy-start-test.sh, about a minute).
step "Deploy start test (compose and prod configuration, /readyz)"
t="$(now_s)"
if "${REPO_ROOT}/scripts/deploy-start-test.sh"; then record startup ok "${t}"; else record startup FAILED "${t}"; fi

# --- chaos: the whole pipeline as processes on its own private tansu, 5,000 leads at
# 100/s, 10 kill -9 of random stage processes, one broker restart, Slack/CRM stand-in outages;
# fails when a lead is lost (benches/chaos, about 2 minutes). Figures of the full run: benches/README.md.
step "Chaos (leadflow-chaos: kill -9, broker restart, stand-in outages; lost leads must be 0)"
t="$(now_s)"
if timeout 600 "${REPO_ROOT}/target/debug/leadflow-chaos" --leads 5000 --rate 100 --kills 10; then
  record chaos ok "${t}"
else
  record chaos FAILED "${t}"
fi

# --- network faults: every process in a network namespace of its own; a stage cut off from the
# broker and the broker cut off from everything for 5 s each (below the 10 s session: longer ones
# can leave a tansu group without a leader, docs/BROKER.md 7), a slow lossy link and notify cut
# off from Slack/CRM for 20 s each, 20 leads/s, readiness bound 2 s (about 3 minutes). Needs root and
# nft; prints why when it cannot run.
step "Network faults (leadflow-chaos --network: partitions, slow lossy link; lost leads must be 0)"
t="$(now_s)"
if timeout 900 "${REPO_ROOT}/target/debug/leadflow-chaos" --network --partition-secs 5 --fault-secs 20 \
  --unready-after-ms 2000 --rate 20; then
  record network ok "${t}"
else
  record network FAILED "${t}"
fi

step "Format (cargo fmt --check)"
t="$(now_s)"
if cargo fmt --all -- --check; then record fmt ok "${t}"; else record fmt FAILED "${t}"; fi

step "Layout (no import cycle between modules; every path a document names exists)"
t="$(now_s)"
if python3 "${REPO_ROOT}/scripts/check_module_cycles.py" "${REPO_ROOT}" &&
  python3 "${REPO_ROOT}/scripts/check_doc_paths.py" "${REPO_ROOT}"; then
  record layout ok "${t}"
else
  record layout FAILED "${t}"
fi

step "Lint (cargo clippy -D warnings)"
t="$(now_s)"
# shellcheck disable=SC2086
if cargo clippy --workspace --all-targets ${lock_flag} -- -D warnings; then
  record clippy ok "${t}"
else
  record clippy FAILED "${t}"
fi

# --- fuzzsec: fuzz targets and cargo-deny ------------------------------------------
# Every fuzz target of fuzz/ for 25 s (nightly toolchain, cargo-fuzz, no sanitizer; its own target
# dir fuzz/target, first build a few minutes) — see fuzz/README.md.
step "Fuzz (cargo +nightly fuzz, 25 s per target)"
t="$(now_s)"
if "${REPO_ROOT}/scripts/fuzz.sh" --time "${LEADFLOW_FUZZ_SECONDS:-25}"; then
  record fuzz ok "${t}"
else
  record fuzz FAILED "${t}"
fi

# cargo-deny on Cargo.lock (deny.toml): advisories (the live RustSec database, or the snapshot in
# deny/ when GitHub is unreachable, with its date printed), licences, bans, sources.
step "Dependencies (cargo deny)"
t="$(now_s)"
if "${REPO_ROOT}/scripts/deny.sh"; then record deny ok "${t}"; else record deny FAILED "${t}"; fi
# --- end fuzzsec ---------------------------------------------------------------------------------

step "Summary ($(elapsed "${started_all}") in all)"
printf '    %s\n' "${results[@]}"
if ((failed)); then
  printf '\nFAILED\n'
  printf 'tests: %s passed, %s failed\n' "${tests_passed:-0}" "${tests_failed:-0}"
  exit 1
fi
printf '\nall checks passed\n'
printf 'tests: %s passed, %s failed\n' "${tests_passed:-0}" "${tests_failed:-0}"
