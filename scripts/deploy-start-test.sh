#!/usr/bin/env bash
# The closest thing to `docker compose up` and `kubectl apply -k deploy/k8s/overlays/prod` these
# machines allow (no Docker engine, no cluster): starts every leadflow binary with exactly the
# configuration docker-compose.yml and the prod overlay give it — command line, environment, and the
# files of each mount at the same paths (bind mounts, ConfigMap and Secret volumes), read-only root,
# uid 10001 — each in a mount namespace of its own, on a private local broker (one fresh tansu per
# set), and fails unless every job exits 0 and every service answers /readyz.
# scripts/deploy_start_test.py says what is replaced locally (broker address and security, the
# schema registry, ports) and why. Uses target/debug (build first); needs root or passwordless sudo
# (mount namespaces). scripts/test.sh runs it after the build; about a minute.
#   scripts/deploy-start-test.sh            # compose, prod and shared
#   scripts/deploy-start-test.sh compose    # one set (compose, prod, dev or shared)
# The shared set is compose's, with every container given the union of every container's LEADFLOW_*
# environment: one ConfigMap or Secret for every binary (crates/runtime/RULES.md 6).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "${REPO_ROOT}/scripts/lib.sh"
cd "${REPO_ROOT}"

BIN_DIR="${LEADFLOW_BIN_DIR:-${REPO_ROOT}/target/debug}"
sets=("$@")
((${#sets[@]} > 0)) || sets=(compose prod shared)

for b in leadflow leadflow-enrich leadflow-score leadflow-tier leadflow-nurture leadflow-rescore leadflow-route leadflow-route-reassign \
  leadflow-sla-watchdog leadflow-notify leadflow-recalibrate leadflow-ingest leadflow-locator leadflow-sandbox; do
  [[ -x "${BIN_DIR}/${b}" ]] || fail "${BIN_DIR}/${b} is missing: build first (cargo build --workspace --bins)"
done
[[ -n "${DEPLOY_TOOLS:-}" ]] || ensure_deploy_tools
py="${DEPLOY_TOOLS}/bin/python"

# the mount namespaces need root: re-run this script through sudo when not root
if [[ "$(id -u)" != 0 ]]; then
  command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null ||
    fail "the start test needs root or passwordless sudo (mount namespaces for the containers' mounts)"
  exec sudo -n --preserve-env=PATH,DEPLOY_TOOLS,LEADFLOW_BIN_DIR "$0" "$@"
fi
for tool in unshare setpriv; do command -v "${tool}" >/dev/null || fail "${tool} (util-linux) is missing"; done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/leadflow-deploy-start.XXXXXX")"
BROKER_STATE=""
cleanup() {
  [[ -n "${BROKER_STATE}" ]] && "${REPO_ROOT}/scripts/broker.sh" stop --state-dir "${BROKER_STATE}" >/dev/null 2>&1
  rm -rf "${WORK}"
}
trap cleanup EXIT

failed=0
for set in "${sets[@]}"; do
  step "Start test: ${set}"
  mkdir -p "${WORK}/${set}"
  if [[ "${set}" == compose || "${set}" == shared ]]; then
    docker-compose -f docker-compose.yml config >"${WORK}/${set}/compose.yaml"
    input=(--compose "${WORK}/${set}/compose.yaml")
    [[ "${set}" == shared ]] && input+=(--shared-env)
  else
    "${DEPLOY_TOOLS}/bin/kubectl" kustomize "deploy/k8s/overlays/${set}" >"${WORK}/${set}/rendered.yaml"
    input=(--overlay "${WORK}/${set}/rendered.yaml")
  fi
  BROKER_STATE="${WORK}/${set}/broker"
  "${REPO_ROOT}/scripts/broker.sh" start --port auto --data "${WORK}/${set}/broker.db" --state-dir "${BROKER_STATE}" >/dev/null
  if ! timeout 300 "${py}" scripts/deploy_start_test.py --set "${set}" "${input[@]}" --bin-dir "${BIN_DIR}" \
    --bootstrap "127.0.0.1:$(cat "${BROKER_STATE}/port")" --work "${WORK}/${set}/run" \
    --deadline "${LEADFLOW_START_DEADLINE:-90}"; then
    failed=1
  fi
  "${REPO_ROOT}/scripts/broker.sh" stop --state-dir "${BROKER_STATE}" >/dev/null 2>&1 || true
  BROKER_STATE=""
done
((failed == 0)) || fail "a container did not start with the deployed configuration"
info "every container started with compose's and the overlays' configuration"
