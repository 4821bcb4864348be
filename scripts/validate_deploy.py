#!/usr/bin/env python3
"""Checks the rendered Kubernetes overlays and the observability files offline (scripts/test.sh).

usage: validate_deploy.py --stages leadflow-enrich,... --dashboard FILE --alerts FILE RENDERED.yaml...

For every rendered overlay (the output of `kubectl kustomize deploy/k8s/overlays/<name>`):
- custom resources (KEDA, Prometheus operator) validate against deploy/schemas/<Kind>.json
  (Kubernetes' own kinds are validated by kubernetes-validate, run separately);
- every stage binary has a Deployment with /healthz and /readyz probes, resource requests, a
  non-root read-only container, terminationGracePeriodSeconds above its shutdown_grace_ms, a
  PodDisruptionBudget and a KEDA ScaledObject on its Deployment whose maxReplicaCount equals the
  partitions the topics Job creates (HTTP services such as leadflow-ingest: a CPU
  HorizontalPodAutoscaler and a Service instead; a full copy such as leadflow-locator, annotated
  leadflow.io/full-copy: "true": a fixed replica count, no autoscaler, and a Service);
- the PrometheusRule holds exactly the groups of the plain alerts file;
- every alert has its section in deploy/RUNBOOK.md and a runbook_url pointing at it.
The dashboard must parse and every panel target must have a PromQL expression.
Exits 1 with one line per problem.
"""

import argparse
import json
import pathlib
import re
import sys
import tomllib

import jsonschema
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "deploy" / "schemas"
CUSTOM_GROUPS = ("keda.sh/", "monitoring.coreos.com/")

problems: list[str] = []


def problem(where: str, what: str) -> None:
    problems.append(f"{where}: {what}")


def shutdown_grace_ms(container: dict, configmaps: dict) -> int:
    for e in container.get("env", []):
        if e.get("name") == "LEADFLOW_SHUTDOWN_GRACE_MS":
            return int(e["value"])
    args = container.get("args", [])
    if "--config" in args:
        path = args[args.index("--config") + 1]
        name = path.rsplit("/", 1)[-1]
        for data in configmaps.values():
            if name in data:
                return int(tomllib.loads(data[name]).get("shutdown_grace_ms", 10000))
    return 10000


# Binaries that serve HTTP rather than consume a topic (scaled on CPU, reached through a Service).
HTTP_SERVICES = {"leadflow-ingest"}
# A Deployment annotated with this reads its topics without a consumer group, every replica all of
# them, and holds the same state (leadflow-locator): replicas are copies, not shares of partitions.
FULL_COPY = "leadflow.io/full-copy"


def check_overlay(path: pathlib.Path, stages: list[str], alerts: dict) -> None:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    by_kind: dict[str, dict[str, dict]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
        if d["apiVersion"].startswith(CUSTOM_GROUPS):
            schema_file = SCHEMAS / f"{d['kind']}.json"
            if not schema_file.exists():
                problem(path.name, f"no schema for {d['kind']} in deploy/schemas")
                continue
            schema = json.loads(schema_file.read_text())
            for err in jsonschema.Draft202012Validator(schema).iter_errors(d):
                loc = "/".join(str(p) for p in err.absolute_path)
                problem(path.name, f"{d['kind']}/{d['metadata']['name']} {loc}: {err.message}")
    configmaps = {n: d.get("data", {}) for n, d in by_kind.get("ConfigMap", {}).items()}

    job = by_kind.get("Job", {}).get("leadflow-topics")
    partitions = None
    if job is None:
        problem(path.name, "no topics Job (leadflow-topics)")
    else:
        args = job["spec"]["template"]["spec"]["containers"][0]["args"]
        if "--partitions" in args:
            partitions = int(args[args.index("--partitions") + 1])
        else:
            problem(path.name, "the topics Job does not set --partitions")

    deployments = by_kind.get("Deployment", {})
    pdbs = by_kind.get("PodDisruptionBudget", {})
    scaled = {
        so["spec"]["scaleTargetRef"]["name"]: so for so in by_kind.get("ScaledObject", {}).values()
    }
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h
        for h in by_kind.get("HorizontalPodAutoscaler", {}).values()
    }
    for stage in stages:
        where = f"{path.name} {stage}"
        dep = deployments.get(stage)
        if dep is None:
            problem(where, "no Deployment for this binary")
            continue
        pod = dep["spec"]["template"]["spec"]
        c = next((c for c in pod["containers"] if c.get("command", [None])[0] == stage), None)
        if c is None:
            problem(where, f"no container runs {stage}")
            continue
        for probe, want in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            got = c.get(probe, {}).get("httpGet", {}).get("path")
            if got != want:
                problem(where, f"{probe} path is {got!r}, want {want!r}")
        req = c.get("resources", {}).get("requests", {})
        if not req.get("cpu") or not req.get("memory"):
            problem(where, "no cpu and memory requests")
        psc, csc = pod.get("securityContext", {}), c.get("securityContext", {})
        if not (psc.get("runAsNonRoot") or csc.get("runAsNonRoot")):
            problem(where, "runAsNonRoot is not set")
        if csc.get("readOnlyRootFilesystem") is not True:
            problem(where, "the root filesystem is not read-only")
        if csc.get("allowPrivilegeEscalation") is not False:
            problem(where, "allowPrivilegeEscalation is not false")
        grace_s = pod.get("terminationGracePeriodSeconds", 30)
        drain_ms = shutdown_grace_ms(c, configmaps)
        if grace_s * 1000 <= drain_ms:
            problem(where, f"terminationGracePeriodSeconds {grace_s} s is not above shutdown_grace_ms {drain_ms}")
        labels = dep["spec"]["selector"]["matchLabels"]
        if not any(
            p["spec"]["selector"].get("matchLabels", {}).items() <= labels.items() for p in pdbs.values()
        ):
            problem(where, "no PodDisruptionBudget selects it")
        selected = any(
            svc["spec"].get("selector", {}).items() <= labels.items()
            for svc in by_kind.get("Service", {}).values()
            if svc["spec"].get("selector")
        )
        if stage in HTTP_SERVICES:
            # HTTP services have no consumer group: a CPU HorizontalPodAutoscaler scales them
            hpa = hpas.get(stage)
            if hpa is None:
                problem(where, "no HorizontalPodAutoscaler targets it")
            elif hpa["spec"].get("minReplicas", 1) > hpa["spec"].get("maxReplicas", 0):
                problem(where, "HorizontalPodAutoscaler minReplicas above maxReplicas")
            if not selected:
                problem(where, "no Service selects it")
            continue
        if dep["metadata"].get("annotations", {}).get(FULL_COPY) == "true":
            # every replica holds everything: more replicas add copies, not throughput, so a fixed
            # count per overlay and no autoscaler; clients reach it through a Service
            if stage in scaled:
                problem(where, "a full copy must not have a KEDA ScaledObject (no consumer group to scale on)")
            if stage in hpas:
                problem(where, "a full copy must not have a HorizontalPodAutoscaler")
            if not dep["spec"].get("replicas"):
                problem(where, "a full copy needs its replica count set")
            if not selected:
                problem(where, "no Service selects it")
            continue
        so = scaled.get(stage)
        # A singleton (annotation leadflow.io/singleton: "true", e.g. leadflow-recalibrate: its
        # attempts are not coordinated between instances) runs exactly one Recreate-strategy replica
        # and must NOT be autoscaled.
        singleton = dep["metadata"].get("annotations", {}).get("leadflow.io/singleton") == "true"
        if singleton:
            if dep["spec"].get("replicas") != 1:
                problem(where, "a singleton must have replicas: 1")
            if dep["spec"].get("strategy", {}).get("type") != "Recreate":
                problem(where, "a singleton must use the Recreate strategy (never two at once)")
            if so is not None:
                problem(where, "a singleton must not have a KEDA ScaledObject")
        elif so is None:
            problem(where, "no KEDA ScaledObject targets it")
        else:
            if partitions is not None and so["spec"].get("maxReplicaCount") != partitions:
                problem(
                    where,
                    f"ScaledObject maxReplicaCount {so['spec'].get('maxReplicaCount')} != topic partitions {partitions}",
                )
            if so["spec"].get("minReplicaCount", 0) > so["spec"].get("maxReplicaCount", 0):
                problem(where, "ScaledObject minReplicaCount above maxReplicaCount")
            kafka = [t for t in so["spec"]["triggers"] if t["type"] == "kafka"]
            if not kafka:
                problem(where, "ScaledObject has no kafka trigger")

    rules = list(by_kind.get("PrometheusRule", {}).values())
    if len(rules) != 1:
        problem(path.name, f"want one PrometheusRule, got {len(rules)}")
    elif rules[0]["spec"] != alerts:
        problem(path.name, "the PrometheusRule's groups differ from deploy/observability/alerts.yml")


def check_runbook(alerts: dict) -> None:
    runbook = ROOT / "deploy" / "RUNBOOK.md"
    sections = set(re.findall(r"^## (\S+)\s*$", runbook.read_text(), re.M))
    for group in alerts.get("groups", []):
        for rule in group.get("rules", []):
            name = rule.get("alert")
            if name and name not in sections:
                problem("deploy/RUNBOOK.md", f"no section '## {name}' for the alert {name}")
            anchor = rule.get("annotations", {}).get("runbook_url", "")
            if name and anchor != f"deploy/RUNBOOK.md#{name.lower()}":
                problem("alerts", f"{name}: runbook_url {anchor!r} does not point at its section")


def check_dashboard(path: pathlib.Path) -> None:
    try:
        dash = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        problem(path.name, f"not JSON: {e}")
        return
    panels = dash.get("panels", [])
    if not panels:
        problem(path.name, "no panels")
    for p in panels:
        targets = p.get("targets", [])
        if not targets or not all(t.get("expr") for t in targets):
            problem(path.name, f"panel {p.get('title')!r} has a target without a PromQL expression")
        for t in targets:
            expr = t.get("expr", "")
            if expr.count("(") != expr.count(")"):
                problem(path.name, f"panel {p.get('title')!r}: unbalanced parentheses in {expr}")
            if not re.search(r"leadflow_[a-z0-9_]+", expr):
                problem(path.name, f"panel {p.get('title')!r}: no leadflow metric in {expr}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stages", required=True, help="comma-separated stage binaries")
    ap.add_argument("--alerts", required=True, type=pathlib.Path)
    ap.add_argument("--dashboard", required=True, type=pathlib.Path)
    ap.add_argument("rendered", nargs="+", type=pathlib.Path)
    a = ap.parse_args()
    stages = [s for s in a.stages.split(",") if s]
    if not stages:
        problem("--stages", "no stage binaries given")
    alerts = yaml.safe_load(a.alerts.read_text())
    for r in a.rendered:
        check_overlay(r, stages, alerts)
    check_runbook(alerts)
    check_dashboard(a.dashboard)
    for p in problems:
        print(f"deploy: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"deploy: {len(a.rendered)} overlays and the dashboard are consistent ({len(stages)} stages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
