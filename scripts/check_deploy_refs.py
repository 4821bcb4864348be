#!/usr/bin/env python3
"""Checks offline that what each deployed process's configuration points at exists where it runs.

usage: check_deploy_refs.py --compose COMPOSE_CONFIG.yaml [--prometheus FILE] [--dockerfile FILE]
                            OVERLAY_NAME=RENDERED.yaml...

COMPOSE_CONFIG.yaml is `docker-compose config` output; each RENDERED.yaml is `kubectl kustomize` of
an overlay. For every leadflow container (scripts/deploy_model.py reads them as Docker and the
kubelet would: environment, envFrom, ConfigMap and Secret volumes, bind mounts) the configuration it
runs with is its `--config` file overlaid with its LEADFLOW_* environment (crates/runtime/src/
config.rs: nested keys split on "__"), and:

  R1  every command exists in the image (deploy/Dockerfile's COPY list: the leadflow* binaries in
      /usr/local/bin; /bin/sh from the base image) and its `--config` file is mounted;
  R2  every absolute path on a command line, and every file the configuration names (keys ending in
      _path, _file, _location; secrets given as { file = "..." }) is in a mounted volume, ConfigMap,
      Secret or the image — a ConfigMap or Secret volume holds exactly its keys;
  R3  every secret or setting a service cannot start without is given (SASL credentials with a SASL
      protocol, and none without one; notify's Slack and HubSpot tokens while those channels are on;
      nurture's HubSpot token; enrich's company file or API key for its provider kind;
      { env = "VAR" } names a variable the container has), and
      Secrets the user creates (also those KEDA's TriggerAuthentication reads) are declared in
      deploy/k8s/base/*.example.yaml with those keys;
  R4  (gone: one environment may hold every binary's keys; each binary takes its own
      LEADFLOW_<SERVICE>__* keys and the LEADFLOW_STAGE__* keys it knows, crates/runtime/RULES.md 6)
  R5  every topic a service uses is one the topics job creates (same names, after the environment);
  R6  every service's HTTP port (http.listen) is on all interfaces and is the port its probes, its
      `http` container port, its prometheus.io/port annotation, its published compose port and its
      Prometheus scrape target use (a public API port, stage.api_listen, may be published besides);
  R7  compose: a bind mount inside a read-only bind mount has its mount point in the parent's source
      (Docker cannot create it on a read-only mount).
Exits 1 with one line per problem.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import subprocess
import sys
import tomllib

import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import deploy_model as dm  # noqa: E402

# Top-level keys of every service's configuration (crates/runtime/src/config.rs ServiceConfig): an
# environment variable LEADFLOW_<KEY>... is read only when <KEY> is one of them.
TOP_LEVEL = {
    "bootstrap_servers", "group_id", "topics", "registry", "security", "kafka", "http",
    "exceptions", "retry", "log", "shutdown_grace_ms", "stage",
}
DEFAULT_LISTEN = "127.0.0.1:9100"  # HttpConfig::default
FILE_KEY = re.compile(r".*_(path|file|location)$")
# the base image's paths the deployment may rely on (debian:bookworm-slim + ca-certificates)
BASE_IMAGE = {"/bin/sh", "/usr/bin/sh", "/etc/ssl/certs/ca-certificates.crt"}
NO_CONFIG = {"leadflow-sandbox"}  # binaries without a leadflow configuration file

problems: list[str] = []


def problem(where: str, what: str) -> None:
    problems.append(f"{where}: {what}")


# ------------------------------------------------------------------------------------------ image


def image_files(dockerfile: pathlib.Path) -> set[str]:
    """Paths the final image holds: the COPY destinations of the last stage; a COPY of the build
    stage's output directory holds the workspace binaries its `find -name` pattern collects."""
    text = dockerfile.read_text()
    stages = re.split(r"(?m)^FROM\s", text)
    final, build = stages[-1], "\n".join(stages[:-1])
    out = set(BASE_IMAGE)
    pattern = re.search(r"-name\s+'([^']+)'", build)
    bins = workspace_bins()
    for m in re.finditer(r"(?m)^COPY\s+(?:--from=\S+\s+)?(\S+)\s+(\S+)\s*$", final):
        src, dest = m.group(1), m.group(2)
        if pattern and src.rstrip("/") == "/out":
            glob = re.compile(pattern.group(1).replace("*", ".*") + "$")
            out |= {dest.rstrip("/") + "/" + b for b in bins if glob.match(b)}
        else:
            out.add(dest)
    return out


def workspace_bins() -> list[str]:
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--no-deps", "--format-version", "1", "--offline"],
            cwd=dm.ROOT, capture_output=True, check=True, text=True,
        ).stdout
    )
    return sorted(
        t["name"] for p in meta["packages"] if "/benches/" not in p["manifest_path"]
        for t in p["targets"] if "bin" in t["kind"]
    )


def in_image(image: set[str], path: str) -> bool:
    return path in image or any(f.startswith(path.rstrip("/") + "/") for f in image)


def which(image: set[str], cmd: str) -> str | None:
    if cmd.startswith("/"):
        return cmd if cmd in image else None
    for d in ("/usr/local/bin", "/usr/bin", "/bin"):
        if f"{d}/{cmd}" in image:
            return f"{d}/{cmd}"
    return None


# ---------------------------------------------------------------------------------- configuration


def env_value(v: str):
    """An environment value as figment reads it: a number or boolean when it parses as one."""
    try:
        return tomllib.loads(f"v = {v}")["v"]
    except tomllib.TOMLDecodeError:
        return v


def read(src: dm.Source) -> str:
    return src.read_text() if isinstance(src, pathlib.Path) else src


def own_stage_prefix(binary: str) -> str:
    """The environment prefix of a binary's own [stage] keys (crates/runtime/src/config.rs
    stage_env_prefix): leadflow-sla-watchdog -> LEADFLOW_SLA_WATCHDOG__, the CLI -> LEADFLOW_CLI__."""
    name = binary.removeprefix("leadflow").removeprefix("-") or "cli"
    return "LEADFLOW_" + name.upper().replace("-", "_") + "__"


def effective_config(w: dm.Workload, config_path: str | None, binary: str) -> dict:
    cfg: dict = {}
    if config_path:
        src = w.lookup(config_path)
        if isinstance(src, (pathlib.Path, str)):
            try:
                cfg = tomllib.loads(read(src))
            except tomllib.TOMLDecodeError as e:
                problem(w.where, f"{config_path} is not valid TOML: {e}")
    for k, v in sorted(w.env.items()):
        if not k.startswith("LEADFLOW_") or k in ("LEADFLOW_CONFIG", "LEADFLOW_KAFKA_OVERRIDES"):
            continue
        path = k[len("LEADFLOW_") :].lower().split("__")
        if path[0] not in TOP_LEVEL or path[0] == "stage":
            continue
        node = cfg
        for p in path[:-1]:
            node = node.setdefault(p, {}) if isinstance(node.get(p, {}), dict) else {}
        node[path[-1]] = env_value(v)
    # [stage]: the shared prefix, then the binary's own (it wins)
    own = own_stage_prefix(binary)
    for prefix in ("LEADFLOW_STAGE__", own):
        for k, v in sorted(w.env.items()):
            if not k.startswith(prefix):
                continue
            path = ["stage"] + k[len(prefix) :].lower().split("__")
            node = cfg
            for p in path[:-1]:
                node = node.setdefault(p, {}) if isinstance(node.get(p, {}), dict) else {}
            node[path[-1]] = env_value(v)
    return cfg


def get(cfg: dict, dotted: str, default=None):
    node = cfg
    for p in dotted.split("."):
        if not isinstance(node, dict) or p not in node:
            return default
        node = node[p]
    return node


def config_arg(argv: list[str], env: dict[str, str]) -> str | None:
    for i, a in enumerate(argv):
        if a == "--config" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--config="):
            return a.split("=", 1)[1]
    return env.get("LEADFLOW_CONFIG")


def file_refs(node, prefix: str = ""):
    """(key, path) for every file a configuration names; ("key", "$VAR") for { env = "VAR" }."""
    if isinstance(node, dict):
        if set(node) == {"file"} and isinstance(node["file"], str):
            yield prefix, node["file"]
            return
        if set(node) == {"env"} and isinstance(node["env"], str):
            yield prefix, "$" + node["env"]
            return
        for k, v in node.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, str) and FILE_KEY.match(str(k)):
                yield key, v
            else:
                yield from file_refs(v, key)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from file_refs(v, f"{prefix}[{i}]")


# ---------------------------------------------------------------------------------------- checks


def mounts_shown(w: dm.Workload) -> str:
    return "; ".join(f"{m.target} = {m.origin}" for m in w.mounts) or "nothing mounted"


def check_path(w: dm.Workload, image: set[str], what: str, path: str) -> dm.Source | None:
    if not path.startswith("/"):
        path = "/" + path  # the image has no WORKDIR: relative paths start at /
    found = w.lookup(path)
    if found is None and not in_image(image, path):
        problem(w.where, f"{what} {path} is neither mounted nor in the image ({mounts_shown(w)})")
        return None
    return found if isinstance(found, (pathlib.Path, str)) else None


def check_secrets(w: dm.Workload, binary: str, cfg: dict) -> None:
    def given(*keys: str) -> bool:
        return any(get(cfg, k) not in (None, "") for k in keys)

    proto = str(get(cfg, "security.protocol") or get(cfg, "kafka", {}).get("security.protocol", "PLAINTEXT")).upper()
    if proto.startswith("SASL"):
        for key in ("security.sasl_mechanism", "security.sasl_username"):
            if not given(key):
                problem(w.where, f"security.protocol {proto} needs {key} (LEADFLOW_{key.upper().replace('.', '__')}), which nothing gives")
        if not given("security.sasl_password", "security.sasl_password_file"):
            problem(w.where, f"security.protocol {proto} needs security.sasl_password or sasl_password_file, which nothing gives")
    elif given("security.sasl_mechanism", "security.sasl_username", "security.sasl_password", "security.sasl_password_file"):
        problem(w.where, f"SASL settings are given ({', '.join(k for k in ('sasl_mechanism', 'sasl_username', 'sasl_password', 'sasl_password_file') if given('security.' + k))}) but security.protocol is {proto}: the service refuses to start")
    if binary == "leadflow-notify":
        if get(cfg, "stage.slack.enabled", True) and not given("stage.slack.bot_token", "stage.slack.webhook_url"):
            problem(w.where, "slack is enabled but neither stage.slack.bot_token nor webhook_url is given")
        if get(cfg, "stage.hubspot.enabled", True) and not given("stage.hubspot.token"):
            problem(w.where, "hubspot is enabled but stage.hubspot.token is not given")
        if get(cfg, "stage.email.enabled", True) and given("stage.email.username") != given("stage.email.password"):
            problem(w.where, "stage.email.username and stage.email.password go together")
    if binary == "leadflow-nurture" and not given("stage.hubspot.token"):
        # every enrolment goes through HubSpot: the service refuses to start without it
        problem(w.where, "stage.hubspot.token is not given (LEADFLOW_NURTURE__HUBSPOT__TOKEN)")
    if binary == "leadflow-enrich":
        kind = get(cfg, "stage.provider.kind", "local")
        if kind == "local" and not given("stage.provider.dataset_path"):
            problem(w.where, "stage.provider.kind = local needs stage.provider.dataset_path (your company file)")
        if kind == "http" and not (given("stage.provider.url") and given("stage.provider.api_key")):
            problem(w.where, "stage.provider.kind = http needs stage.provider.url and api_key (LEADFLOW_ENRICH__PROVIDER__API_KEY)")


def listen_port(w: dm.Workload, cfg: dict) -> int | None:
    listen = str(get(cfg, "http.listen", DEFAULT_LISTEN))
    host, _, port = listen.rpartition(":")
    if host.strip("[]") in ("127.0.0.1", "localhost", "::1"):
        problem(w.where, f"http.listen {listen} is loopback: probes and Prometheus reach the container from outside it")
    return int(port) if port.isdigit() else None


def check_k8s_ports(w: dm.Workload, port: int, podmonitor_ports: set[str]) -> None:
    named = w.ports
    if named.get("http") != port:
        problem(w.where, f"container port 'http' is {named.get('http')}, the service listens on {port}")
    for probe, p in w.probes.items():
        got = named.get(p) if isinstance(p, str) else p
        if got != port:
            problem(w.where, f"{probe} goes to port {p} ({got}), the service listens on {port}")
    ann = w.annotations.get("prometheus.io/port")
    if ann is not None and int(ann) != port:
        problem(w.where, f"annotation prometheus.io/port {ann}, the service listens on {port}")
    for name in podmonitor_ports:
        if named.get(name) != port:
            problem(w.where, f"the PodMonitor scrapes port {name!r} ({named.get(name)}), the service listens on {port}")


def check_workload(w: dm.Workload, image: set[str]) -> tuple[str, dict] | None:
    for p in w.problems:
        problem(w.where, p)
    cfg_out = None
    for cmd in w.commands():
        if not cmd:
            continue
        if which(image, cmd[0]) is None:
            problem(w.where, f"command {cmd[0]} is not in the image")
        binary = cmd[0].rsplit("/", 1)[-1]
        if not binary.startswith("leadflow"):
            continue
        path = None if binary in NO_CONFIG else config_arg(cmd, w.env)
        for a in cmd[1:]:
            if a.startswith("/") and a != path:
                check_path(w, image, "argument", a)
        if binary in NO_CONFIG:
            continue
        if path is None:
            problem(w.where, f"{binary} runs without --config")
        elif check_path(w, image, "--config", path) is None:
            continue
        cfg = effective_config(w, path, binary)
        for key, ref in file_refs(cfg):
            if ref.startswith("$"):
                if ref[1:] not in w.env:
                    problem(w.where, f"{key} = {{ env = \"{ref[1:]}\" }} but the container has no {ref[1:]}")
                continue
            src = check_path(w, image, key, ref)
            if src is not None and key == "stage.publishers_file":
                try:
                    for k2, r2 in file_refs(tomllib.loads(read(src)), "publishers_file"):
                        if r2.startswith("$") and r2[1:] not in w.env:
                            problem(w.where, f"{k2} = {{ env = \"{r2[1:]}\" }} but the container has no {r2[1:]}")
                        elif not r2.startswith("$"):
                            check_path(w, image, k2, r2)
                except tomllib.TOMLDecodeError as e:
                    problem(w.where, f"{ref} is not valid TOML: {e}")
        check_secrets(w, binary, cfg)
        cfg_out = (binary, cfg)
    return cfg_out


def topics_of(cfg: dict) -> dict:
    return {k: v for k, v in (get(cfg, "topics") or {}).items()}


def check_set(name: str, workloads: list[dm.Workload], image: set[str], podmonitor_ports: set[str] | None,
              scrape: dict[str, set[str]] | None) -> None:
    configs = {}
    for w in workloads:
        out = check_workload(w, image)
        if out:
            configs[w.where] = (w, *out)
    # R5
    creators = [(w, cfg) for w, b, cfg in configs.values() if any("topics" in c and "create" in c for c in w.commands())]
    if not creators:
        problem(name, "no job creates the topics (leadflow topics create)")
    else:
        want = {r: t for r, t in topics_of(creators[0][1]).items()}
        for w, b, cfg in configs.values():
            for role, topic in topics_of(cfg).items():
                if role in want and want[role] != topic:
                    problem(w.where, f"topics.{role} = {topic!r} but the topics job creates {want[role]!r}")
    # R6
    by_service = {w.name: w for w in workloads}
    listens: dict[str, int] = {}
    for w, binary, cfg in configs.values():
        if w.is_job or binary == "leadflow":
            continue
        port = listen_port(w, cfg)
        if port is None:
            continue
        listens[w.name] = port
        if podmonitor_ports is not None:
            check_k8s_ports(w, port, podmonitor_ports)
        else:
            owner = by_service.get(w.network_of, w) if w.network_of else w
            published = set(owner.ports.values())
            if w.network_of and port not in published:
                problem(w.where, f"listens on {port} in {w.network_of}'s network, which publishes {sorted(published)}")
            # a service with a public API listener besides http.listen (leadflow-ingest's
            # stage.api_listen) publishes that port too
            api = str(get(cfg, "stage.api_listen", "")).rpartition(":")[2]
            extra = {int(api)} if api.isdigit() else set()
            if not w.network_of and published and published - extra != {port}:
                problem(w.where, f"publishes container port(s) {sorted(published)}, the service listens on {port}")
            host = w.network_of or w.name
            targets = scrape.get(binary, set()) if scrape is not None else set()
            if scrape is not None and f"{host}:{port}" not in targets:
                problem(w.where, f"Prometheus scrapes {binary} at {sorted(targets) or 'nothing'}, the service is {host}:{port}")
    # R7 (compose only): nested bind mounts
    if podmonitor_ports is None:
        for w in workloads:
            for parent in w.mounts:
                for child in w.mounts:
                    if child is parent or not child.target.startswith(parent.target.rstrip("/") + "/"):
                        continue
                    rel = child.target[len(parent.target) :].lstrip("/")
                    if parent.read_only and rel not in parent.files and not any(f.startswith(rel + "/") for f in parent.files):
                        problem(w.where, f"{child.target} is mounted inside the read-only {parent.target} ({parent.origin}) where no such path exists: Docker cannot create the mount point")


def check_trigger_auth(name: str, docs: list[dict], objs: dm.Objects) -> None:
    """KEDA reads Secrets too: every secretTargetRef names a key of a rendered or declared Secret."""
    for d in docs:
        if d["kind"] != "TriggerAuthentication":
            continue
        for ref in d["spec"].get("secretTargetRef", []):
            obj, origin = objs.get("Secret", ref["name"])
            if obj is None or ref["key"] not in dm._data(obj):
                problem(f"{name} TriggerAuthentication/{d['metadata']['name']}", f"{ref['parameter']} reads key {ref['key']} of {origin}, which is not declared")


def scrape_targets(prometheus: pathlib.Path) -> dict[str, set[str]]:
    cfg = yaml.safe_load(prometheus.read_text())
    out: dict[str, set[str]] = {}
    for job in cfg.get("scrape_configs", []):
        for sc in job.get("static_configs", []):
            out.setdefault(job["job_name"], set()).update(sc.get("targets", []))
    return out


def podmonitor_ports(docs: list[dict]) -> set[str]:
    return {
        ep["port"]
        for d in docs if d["kind"] == "PodMonitor"
        for ep in d["spec"].get("podMetricsEndpoints", []) if "port" in ep
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--compose", type=pathlib.Path, help="docker-compose config output")
    ap.add_argument("--prometheus", type=pathlib.Path, default=dm.ROOT / "deploy/observability/prometheus.yml")
    ap.add_argument("--dockerfile", type=pathlib.Path, default=dm.ROOT / "deploy/Dockerfile")
    ap.add_argument("overlays", nargs="*", help="NAME=rendered.yaml")
    a = ap.parse_args()
    image = image_files(a.dockerfile)
    checked = []
    if a.compose:
        ws = dm.compose_workloads(yaml.safe_load(a.compose.read_text()))
        check_set("compose", ws, image, None, scrape_targets(a.prometheus))
        checked.append(f"compose ({len(ws)} containers)")
    examples = dm.load_examples()
    for spec in a.overlays:
        name, _, path = spec.partition("=")
        docs = [d for d in yaml.safe_load_all(pathlib.Path(path).read_text()) if d]
        ws = dm.k8s_workloads(docs, name, examples)
        check_set(name, ws, image, podmonitor_ports(docs), None)
        check_trigger_auth(name, docs, dm.Objects(docs, examples, name))
        checked.append(f"{name} ({len(ws)} containers)")
    for p in problems:
        print(f"deploy refs: {p}", file=sys.stderr)
    if problems:
        print(f"deploy refs: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"deploy refs: files, secrets, topics and ports consistent in {', '.join(checked)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
