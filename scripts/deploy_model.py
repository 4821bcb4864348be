"""What each deployed leadflow process is given, read the way Docker Compose and the kubelet would.

From `docker-compose config` output (interpolated, paths absolute) and from a rendered Kubernetes
overlay (`kubectl kustomize`), one `Workload` per leadflow container: its command line, its
environment (`environment:`; or `env`, `envFrom` and `valueFrom` with Kubernetes' precedence), the
files visible at each mount target (a bind-mounted file or directory; a ConfigMap or Secret volume
holds exactly its keys, or its `items`; `subPath` mounts one key), its user and read-only flag, and
its HTTP ports and probes.

Objects the user creates (Secrets, the company-file ConfigMap) are not in the overlays: they are
declared in deploy/k8s/base/*.example.yaml, and a reference to one counts as satisfied when the
example declares it (with the keys it uses). An example annotated leadflow.io/example-for: "prod"
is created in those overlays only (an optional Secret the dev overlay does without).

Used by scripts/check_deploy_refs.py (offline checks) and scripts/deploy_start_test.py (starts every
binary with exactly this).
"""

from __future__ import annotations

import dataclasses
import pathlib
import re
import shlex

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "deploy" / "k8s" / "base").glob("*.example.yaml"))

# A mounted file's content: a file on disk (bind mounts) or the text of a ConfigMap/Secret key.
Source = pathlib.Path | str


@dataclasses.dataclass
class Mount:
    target: str  # absolute path in the container
    files: dict[str, Source]  # path relative to target -> content; "" for a single-file mount
    read_only: bool
    origin: str  # for messages: "bind ./deploy/config", "ConfigMap leadflow-config", ...
    opaque: bool = False  # contents unknown here (a PersistentVolumeClaim, hostPath, ...)
    source: pathlib.Path | None = None  # a bind mount's source on this machine


@dataclasses.dataclass
class Workload:
    where: str  # "compose enrich", "prod Deployment/leadflow-enrich"
    name: str  # compose service or Kubernetes object name
    argv: list[str]
    env: dict[str, str]
    env_origin: dict[str, str]
    mounts: list[Mount]
    user: str | None = None
    read_only: bool = False
    is_job: bool = False  # runs to completion (compose's topics, the topics Job)
    ports: dict[str, int] = dataclasses.field(default_factory=dict)  # name (k8s) or "published" -> port
    probes: dict[str, int | str] = dataclasses.field(default_factory=dict)  # probe -> port
    annotations: dict[str, str] = dataclasses.field(default_factory=dict)
    network_of: str | None = None  # compose network_mode: service:<name>
    depends_on: list[str] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)

    def lookup(self, path: str) -> Source | None | bool:
        """The content at `path` in the container: a Source, True when it lies in an opaque volume
        or is a directory, None when nothing is there (the image is checked separately)."""
        best = None
        for m in self.mounts:
            if path == m.target or path.startswith(m.target.rstrip("/") + "/"):
                if best is None or len(m.target) > len(best.target):
                    best = m
        if best is None:
            return None
        if best.opaque:
            return True
        rel = path[len(best.target) :].lstrip("/")
        if rel in best.files:
            return best.files[rel]
        if any(f.startswith(rel + "/") for f in best.files) or (rel == "" and best.files):
            return True  # a directory
        return None

    def commands(self) -> list[list[str]]:
        """The commands this container runs: argv, or each `&&`/`;` part of an `sh -c` script."""
        if len(self.argv) >= 3 and self.argv[0] in ("sh", "/bin/sh", "bash") and self.argv[1] == "-c":
            parts = re.split(r"&&|;|\|\|", self.argv[2])
            return [shlex.split(p) for p in parts if p.strip()]
        return [self.argv]


def _walk(directory: pathlib.Path) -> dict[str, Source]:
    return {
        str(p.relative_to(directory)): p for p in sorted(directory.rglob("*")) if p.is_file()
    }


def _bind(source: str, target: str, read_only: bool, origin: str) -> Mount:
    src = pathlib.Path(source)
    if src.is_dir():
        files = _walk(src)
    elif src.is_file():
        files = {"": src}
    else:
        files = {}
    return Mount(target, files, read_only, origin, source=src if files else None)


# ---------------------------------------------------------------------------------------- compose


def _compose_port(spec: str | dict) -> int:
    if isinstance(spec, dict):
        return int(spec["target"])
    return int(str(spec).split("/")[0].rsplit(":", 1)[-1])


def compose_workloads(config: dict, image_prefix: str = "leadflow") -> list[Workload]:
    """The leadflow containers of a `docker-compose config` document (other images are skipped)."""
    services = config.get("services", {})
    # a service another waits for with service_completed_successfully runs to completion
    jobs = {
        dep
        for svc in services.values()
        if isinstance(svc.get("depends_on"), dict)
        for dep, cond in svc["depends_on"].items()
        if (cond or {}).get("condition") == "service_completed_successfully"
    }
    out = []
    for name, svc in sorted(services.items()):
        image = str(svc.get("image", ""))
        if not image.split("/")[-1].startswith(image_prefix):
            continue
        argv = svc.get("command") or []
        if isinstance(argv, str):
            argv = shlex.split(argv)
        env = {k: "" if v is None else str(v) for k, v in (svc.get("environment") or {}).items()}
        mounts, problems = [], []
        for v in svc.get("volumes") or []:
            if isinstance(v, dict):
                source, target, ro = v.get("source", ""), v["target"], bool(v.get("read_only"))
                vtype = v.get("type", "bind")
            else:
                parts = v.split(":")
                source, target = parts[0], parts[1]
                ro = len(parts) > 2 and "ro" in parts[2].split(",")
                vtype = "bind" if source.startswith(("/", ".")) else "volume"
            if vtype != "bind":
                mounts.append(Mount(target, {}, ro, f"volume {source}", opaque=True))
                continue
            src = pathlib.Path(source)
            shown = f"./{src.relative_to(ROOT)}" if src.is_relative_to(ROOT) else source
            m = _bind(source, target, ro, f"bind {shown}")
            if not m.files:
                problems.append(f"bind mount source {shown} does not exist (Docker would mount an empty directory at {target})")
            mounts.append(m)
        deps = svc.get("depends_on") or {}
        network = str(svc.get("network_mode", ""))
        out.append(
            Workload(
                where=f"compose {name}",
                name=name,
                argv=list(argv),
                env=env,
                env_origin={k: "environment" for k in env},
                mounts=mounts,
                user=str(svc["user"]) if svc.get("user") else None,
                read_only=bool(svc.get("read_only")),
                is_job=name in jobs,
                ports={f"published:{i}": _compose_port(p) for i, p in enumerate(svc.get("ports") or [])},
                network_of=network.split(":", 1)[1] if network.startswith("service:") else None,
                depends_on=list(deps),
                problems=problems,
            )
        )
    return out


# ------------------------------------------------------------------------------------- Kubernetes


def _data(obj: dict) -> dict[str, str]:
    """A ConfigMap's or Secret's keys as text (stringData wins over data, as the API server does)."""
    import base64

    out = {k: base64.b64decode(v).decode() for k, v in (obj.get("data") or {}).items()} if obj.get(
        "kind"
    ) == "Secret" else dict(obj.get("data") or {})
    out.update(obj.get("stringData") or {})
    return {k: str(v) for k, v in out.items()}


def load_examples(paths: list[pathlib.Path] = EXAMPLES) -> dict[tuple[str, str], dict]:
    """(kind, name) -> object for the objects users create themselves (deploy/k8s/base/*.example.yaml)."""
    out = {}
    for p in paths:
        for d in yaml.safe_load_all(p.read_text()):
            if d:
                d.setdefault("metadata", {})["_declared_in"] = str(p.relative_to(ROOT))
                out[(d["kind"], d["metadata"]["name"])] = d
    return out


EXAMPLE_FOR = "leadflow.io/example-for"  # on an example: the overlays it is created in (all when absent)


class Objects:
    """The objects a pod can refer to: the rendered overlay's, then the examples declared for it."""

    def __init__(self, docs: list[dict], examples: dict[tuple[str, str], dict], overlay: str = ""):
        self.rendered = {(d["kind"], d["metadata"]["name"]): d for d in docs}
        self.examples = {
            k: d
            for k, d in examples.items()
            if overlay in [o.strip() for o in d["metadata"].get("annotations", {}).get(EXAMPLE_FOR, overlay).split(",")]
        }

    def get(self, kind: str, name: str) -> tuple[dict | None, str]:
        if (kind, name) in self.rendered:
            return self.rendered[(kind, name)], f"{kind} {name}"
        if (kind, name) in self.examples:
            d = self.examples[(kind, name)]
            return d, f"{kind} {name} (you create it: {d['metadata']['_declared_in']})"
        return None, f"{kind} {name}"


def _volume(vol: dict, objs: Objects, problems: list[str]) -> tuple[dict[str, str] | None, str]:
    """The files of a pod volume (None when its contents cannot be known here) and its origin."""
    for kind, key, name_key in (("ConfigMap", "configMap", "name"), ("Secret", "secret", "secretName")):
        if key in vol:
            spec = vol[key]
            obj, origin = objs.get(kind, spec.get(name_key, ""))
            if obj is None:
                if not spec.get("optional"):
                    problems.append(f"volume {vol['name']}: {origin} is neither in the overlay nor declared in deploy/k8s/base/*.example.yaml (the pod would never start)")
                return {}, origin
            data = _data(obj)
            if spec.get("items"):
                files = {}
                for it in spec["items"]:
                    if it["key"] in data:
                        files[it["path"]] = data[it["key"]]
                    elif not spec.get("optional"):
                        problems.append(f"volume {vol['name']}: {origin} has no key {it['key']}")
                return files, origin
            return data, origin
    if "projected" in vol:
        files: dict[str, str] = {}
        for src in vol["projected"].get("sources", []):
            for key in ("configMap", "secret"):
                if key in src:
                    sub = {"name": vol["name"], key: dict(src[key])}
                    if key == "secret":
                        sub[key]["secretName"] = sub[key].pop("name", "")
                    got, _ = _volume(sub, objs, problems)
                    files.update(got or {})
        return files, "projected volume"
    if "emptyDir" in vol:
        return {}, "emptyDir"
    return None, f"volume {vol['name']} ({', '.join(k for k in vol if k != 'name')})"


def _env(c: dict, objs: Objects, problems: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Kubernetes' order: envFrom sources in order (later wins), then env (wins over envFrom)."""
    env, origin = {}, {}
    for src in c.get("envFrom", []):
        for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            if key not in src:
                continue
            ref = src[key]
            obj, where = objs.get(kind, ref.get("name", ""))
            if obj is None:
                if not ref.get("optional"):
                    problems.append(f"envFrom {where} is neither in the overlay nor declared in deploy/k8s/base/*.example.yaml (CreateContainerConfigError)")
                continue
            for k, v in _data(obj).items():
                if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", src.get("prefix", "") + k):
                    env[src.get("prefix", "") + k] = v
                    origin[src.get("prefix", "") + k] = where
    for e in c.get("env", []):
        name = e["name"]
        if "value" in e:
            env[name], origin[name] = str(e["value"]), "env"
        elif "valueFrom" in e:
            vf = e["valueFrom"]
            for kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
                if key in vf:
                    ref = vf[key]
                    obj, where = objs.get(kind, ref.get("name", ""))
                    data = _data(obj) if obj else {}
                    if ref.get("key") in data:
                        env[name], origin[name] = data[ref["key"]], f"{where} key {ref['key']}"
                    elif not ref.get("optional"):
                        problems.append(f"env {name}: {where} has no key {ref.get('key')} (CreateContainerConfigError)")
        else:
            env[name], origin[name] = "", "env"
    return env, origin


def k8s_workloads(docs: list[dict], overlay: str, examples: dict[tuple[str, str], dict]) -> list[Workload]:
    """Every container of the overlay's Deployments and Jobs that runs a leadflow binary."""
    objs = Objects(docs, examples, overlay)
    out = []
    for d in docs:
        if d["kind"] not in ("Deployment", "Job", "StatefulSet", "DaemonSet", "CronJob"):
            continue
        tmpl = d["spec"]["template"] if d["kind"] != "CronJob" else d["spec"]["jobTemplate"]["spec"]["template"]
        pod = tmpl["spec"]
        psc = pod.get("securityContext", {})
        for c in pod.get("containers", []):
            if not str(c.get("image", "")).split("/")[-1].startswith("leadflow"):
                continue
            problems: list[str] = []
            env, origin = _env(c, objs, problems)
            volumes = {v["name"]: v for v in pod.get("volumes", [])}
            mounts = []
            for vm in c.get("volumeMounts", []):
                vol = volumes.get(vm["name"])
                if vol is None:
                    problems.append(f"volumeMount {vm['name']} names no volume of the pod")
                    continue
                files, vorigin = _volume(vol, objs, problems)
                ro = bool(vm.get("readOnly"))
                if files is None:
                    mounts.append(Mount(vm["mountPath"], {}, ro, vorigin, opaque=True))
                elif vm.get("subPath"):
                    sub = vm["subPath"]
                    if sub in files:
                        mounts.append(Mount(vm["mountPath"], {"": files[sub]}, ro, f"{vorigin} key {sub}"))
                    else:
                        problems.append(f"volumeMount {vm['name']}: subPath {sub} is not a key of {vorigin}")
                else:
                    mounts.append(Mount(vm["mountPath"], files, ro, vorigin))
            csc = c.get("securityContext", {})
            uid = csc.get("runAsUser", psc.get("runAsUser"))
            gid = csc.get("runAsGroup", psc.get("runAsGroup"))
            probes = {}
            for p in ("livenessProbe", "readinessProbe", "startupProbe"):
                if "httpGet" in c.get(p, {}):
                    probes[p] = c[p]["httpGet"].get("port")
            out.append(
                Workload(
                    where=f"{overlay} {d['kind']}/{d['metadata']['name']}",
                    name=d["metadata"]["name"],
                    argv=list(c.get("command", [])) + list(c.get("args", [])),
                    env=env,
                    env_origin=origin,
                    mounts=mounts,
                    user=None if uid is None else f"{uid}:{gid if gid is not None else uid}",
                    read_only=bool(csc.get("readOnlyRootFilesystem")),
                    is_job=d["kind"] in ("Job", "CronJob"),
                    ports={p.get("name", str(p["containerPort"])): int(p["containerPort"]) for p in c.get("ports", [])},
                    probes=probes,
                    annotations=dict(tmpl.get("metadata", {}).get("annotations", {})),
                    problems=problems,
                )
            )
    return out
