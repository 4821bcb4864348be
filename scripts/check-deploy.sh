#!/usr/bin/env bash
# Checks deploy/ and docker-compose.yml offline (no cluster, no Docker engine); scripts/test.sh runs it.
#   - kubectl kustomize renders every overlay in deploy/k8s/overlays;
#   - kubernetes-validate --strict validates the Kubernetes objects (schemas bundled with it);
#   - scripts/validate_deploy.py validates KEDA / Prometheus-operator objects against deploy/schemas,
#     and checks that every leadflow-* stage binary of the workspace has a Deployment (probes,
#     requests, non-root read-only, grace above shutdown_grace_ms), a PDB and a ScaledObject capped
#     at the topics' partition count (leadflow-ingest: a CPU HPA and a Service; leadflow-locator, a
#     full copy: a fixed replica count, no autoscaler, a Service), that the PrometheusRule equals
#     deploy/observability/alerts.yml, and that the dashboard JSON parses;
#   - promtool checks the alert rules (and runs their unit tests, alerts_test.yml) and the compose
#     Prometheus config;
#   - docker-compose config parses docker-compose.yml (default and redpanda profile);
#   - scripts/check_deploy_refs.py checks, for compose and every rendered overlay, that what each
#     service's configuration points at exists where it runs: the --config file and every file it
#     names in a mounted volume, ConfigMap, Secret or the image, the secrets it cannot start without,
#     the topics the topics job creates, and one HTTP port for the service, its probes and scrapes.
# scripts/deploy-start-test.sh (after the build) starts every binary with that configuration.
# The metric names the rules and the dashboard use are checked against running services by the
# e2e test observability_names_exist (crates/e2e/tests/observability.rs).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "${REPO_ROOT}/scripts/lib.sh"
cd "${REPO_ROOT}"

[[ -n "${DEPLOY_TOOLS:-}" ]] || ensure_deploy_tools
py="${DEPLOY_TOOLS}/bin/python"
out="$(mktemp -d "${TMPDIR:-/tmp}/leadflow-deploy.XXXXXX")"
trap 'rm -rf "${out}"' EXIT
failed=0

# The service binaries: every leadflow-* bin target except the sandbox, the console (an operator's
# command, run by `leadflow console` on a workstation; not deployed) and the measuring tools of the
# packages under benches/ (leadflow-chaos drives the pipeline; it is not deployed).
stages="$(cargo metadata --no-deps --format-version 1 --offline 2>/dev/null | "${py}" -c '
import json, sys
m = json.load(sys.stdin)
bins = sorted({t["name"] for p in m["packages"] if "/benches/" not in p["manifest_path"]
               for t in p["targets"] if "bin" in t["kind"]})
print(",".join(b for b in bins if b.startswith("leadflow-") and b not in ("leadflow-sandbox", "leadflow-console")))
')"
info "stage binaries: ${stages//,/ }"

rendered=()
for dir in deploy/k8s/overlays/*/; do
  name="$(basename "${dir}")"
  if "${DEPLOY_TOOLS}/bin/kubectl" kustomize "${dir}" >"${out}/${name}.yaml"; then
    info "kustomize ${name}: $(grep -c '^kind:' "${out}/${name}.yaml") objects"
    rendered+=("${out}/${name}.yaml")
  else
    warn "kubectl kustomize ${dir} failed"
    failed=1
  fi
done
((${#rendered[@]} > 0)) || fail "no overlay rendered"

# Kubernetes' own kinds; custom resources are reported as unknown and checked below.
if ! "${DEPLOY_TOOLS}/bin/kubernetes-validate" --strict --quiet --kubernetes-version 1.30.0 "${rendered[@]}" >"${out}/kv.log" 2>&1; then
  grep -v "Couldn't find schema for kind \(ScaledObject\|TriggerAuthentication\|PodMonitor\|PrometheusRule\)" "${out}/kv.log" >&2 || true
  if grep -v "Couldn't find schema for kind \(ScaledObject\|TriggerAuthentication\|PodMonitor\|PrometheusRule\)" "${out}/kv.log" | grep -q .; then
    failed=1
  fi
fi
"${py}" scripts/validate_deploy.py --stages "${stages}" \
  --alerts deploy/observability/alerts.yml \
  --dashboard deploy/observability/grafana/leadflow.json "${rendered[@]}" || failed=1

promtool check rules deploy/observability/alerts.yml || failed=1
promtool test rules deploy/observability/alerts_test.yml || failed=1
promtool check config deploy/observability/prometheus.yml >/dev/null || failed=1

docker-compose -f docker-compose.yml config -q || failed=1
docker-compose -f docker-compose.yml --profile redpanda config -q || failed=1
info "docker-compose.yml parses ($(docker-compose -f docker-compose.yml --profile redpanda config --services | wc -l) services)"

overlays=()
for r in "${rendered[@]}"; do overlays+=("$(basename "${r}" .yaml)=${r}"); done
if docker-compose -f docker-compose.yml config >"${out}/compose.yaml"; then
  "${py}" scripts/check_deploy_refs.py --compose "${out}/compose.yaml" "${overlays[@]}" || failed=1
else
  failed=1
fi

((failed == 0)) || fail "deploy checks failed"
info "deploy checks passed"
