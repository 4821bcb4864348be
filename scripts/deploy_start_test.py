#!/usr/bin/env python3
"""Starts every leadflow binary with the configuration docker-compose.yml or a Kubernetes overlay
gives it, on the local broker, and checks that each one reaches /readyz (jobs: exit 0).

usage: deploy_start_test.py --set NAME --bin-dir DIR --bootstrap HOST:PORT --work DIR
                            (--compose COMPOSE_CONFIG.yaml | --overlay RENDERED.yaml) [--deadline S]

What each container is given comes from scripts/deploy_model.py (as Docker and the kubelet read it):
its command line, its environment, and the files of each mount at the same path. Every process runs
in a mount namespace of its own (unshare), the way a container does: /etc (or wherever the mounts
go) is an overlay of the host's, each mount is bound read-only at its target path (ConfigMap and
Secret volumes hold exactly their keys), the root filesystem is remounted read-only when the
container's is, and the binary runs as the container's user (setpriv). So `--config
/etc/leadflow/enrich.toml` and the paths that file names are the ones the container would read.

What the local machine cannot give is replaced, and printed:
  - the broker: LEADFLOW_BOOTSTRAP_SERVERS is the local broker; its LEADFLOW_SECURITY__* settings
    are dropped (the local broker speaks PLAINTEXT; scripts/check_deploy_refs.py checks them);
  - the schema registry: LEADFLOW_REGISTRY__URL is a minimal registry served by this script;
  - ports: the containers share one network here, so each service's http.listen (and ingest's
    stage.api_listen) is a free loopback port (the container's port is checked against probes and scrapes offline), and the loopback
    ports of a compose service whose network another joins (the sandbox) are free ports too;
  - the example publishers Secret's placeholders (which ingest rightly refuses) are replaced by the
    demo publishers compose mounts (deploy/ingest-publishers.example.toml).
Needs root (or passwordless sudo) for the mount namespaces.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import pathlib
import random
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import deploy_model as dm  # noqa: E402

NO_HTTP = {"leadflow", "leadflow-sandbox"}  # binaries without /readyz


# ------------------------------------------------------------------------------- schema registry


class Registry(http.server.BaseHTTPRequestHandler):
    """Confluent's two calls the services make: register a schema, fetch one by id."""

    schemas: list[str] = []
    lock = threading.Lock()

    def _reply(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802
        if not re.fullmatch(r"/subjects/[^/]+/versions", self.path):
            return self._reply(404, {"error_code": 404, "message": "not found"})
        schema = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))["schema"]
        with self.lock:
            if schema not in self.schemas:
                self.schemas.append(schema)
            self._reply(200, {"id": self.schemas.index(schema) + 1})

    def do_GET(self) -> None:  # noqa: N802
        m = re.fullmatch(r"/schemas/ids/(\d+)", self.path)
        with self.lock:
            if m and 0 < int(m.group(1)) <= len(self.schemas):
                return self._reply(200, {"schema": self.schemas[int(m.group(1)) - 1]})
        self._reply(404, {"error_code": 40403, "message": "schema not found"})

    def log_message(self, *args) -> None:
        pass


def start_registry() -> str:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{srv.server_address[1]}"


# ---------------------------------------------------------------------------------- environment


def free_port() -> int:
    """A free loopback port below the kernel's ephemeral range (32768 and up): a port the kernel hands
    out for port 0 can be taken by any outgoing connection (a Kafka client's) before the service that
    was given it binds it."""
    for _ in range(200):
        port = random.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_env(w: dm.Workload, bootstrap: str, registry: str, notes: set[str]) -> tuple[dict[str, str], int | None]:
    env = dict(w.env)
    env["LEADFLOW_BOOTSTRAP_SERVERS"] = bootstrap
    env["LEADFLOW_REGISTRY__URL"] = registry  # the file's [registry] url too: env wins over it
    for k in [k for k in env if k.startswith("LEADFLOW_SECURITY__")]:
        notes.add(f"dropped {k} (the local broker speaks PLAINTEXT)")
        del env[k]
    port = None
    if w.argv and w.argv[0] not in NO_HTTP and not w.is_job:
        port = free_port()
        env["LEADFLOW_HTTP__LISTEN"] = f"127.0.0.1:{port}"
    for key in [k for k in ("LEADFLOW_STAGE__API_LISTEN", "LEADFLOW_INGEST__API_LISTEN") if k in env]:
        # ingest's public API port, like http.listen: every copy of it runs on this one machine
        env[key] = f"127.0.0.1:{free_port()}"
        notes.add(f"{key} is a free loopback port")
    return env, port


def remap_shared_network(workloads: list[dm.Workload], notes: set[str]) -> None:
    """Loopback ports of a service whose network others join (the sandbox) become free ports, in its
    command line and in the environment of those that join it."""
    for owner in workloads:
        members = [w for w in workloads if w.network_of == owner.name]
        if not members:
            continue
        ports = {}
        # a listen address on the container's private network (0.0.0.0) is this machine's loopback
        owner.argv = [re.sub(r"^0\.0\.0\.0:(\d+)$", r"127.0.0.1:\1", a) for a in owner.argv]
        for a in owner.argv:
            m = re.fullmatch(r"127\.0\.0\.1:(\d+)", a)
            if m:
                ports[m.group(1)] = str(free_port())
        for old, new in ports.items():
            notes.add(f"{owner.name}'s loopback port {old} is {new} here (its network is shared with {', '.join(w.name for w in members)})")
        owner.argv = [re.sub(r"127\.0\.0\.1:(\d+)", lambda m: f"127.0.0.1:{ports.get(m.group(1), m.group(1))}", a) for a in owner.argv]
        for w in members:
            for k, v in w.env.items():
                v = re.sub(r"(127\.0\.0\.1|localhost):(\d+)", lambda m: f"{m.group(1)}:{ports.get(m.group(2), m.group(2))}", v)
                if k.endswith("_PORT") and v in ports:
                    v = ports[v]
                w.env[k] = v


# --------------------------------------------------------------------------------------- mounts


def share_environment(workloads: list[dm.Workload], notes: set[str]) -> None:
    """Every leadflow container gets every other's LEADFLOW_* variables (its own values win), as if
    one ConfigMap held them all: each binary must take its own keys and leave the others'
    (crates/runtime/RULES.md 6)."""
    union: dict[str, str] = {}
    for w in workloads:
        if w.argv and "sandbox" not in w.argv[0]:
            union.update({k: v for k, v in w.env.items() if k.startswith("LEADFLOW_")})
    for w in workloads:
        if w.argv and "sandbox" not in w.argv[0]:
            w.env = {**union, **w.env}
    notes.add(f"every container has the union of the containers' environments ({len(union)} LEADFLOW_* variables)")


def materialise(w: dm.Workload, work: pathlib.Path) -> list[tuple[str, pathlib.Path, bool]]:
    """(target, source on disk, is_file) for each mount: bind mounts' own sources, ConfigMap and
    Secret keys written as files (0644, as the kubelet's default mode)."""
    out = []
    for i, m in enumerate(w.mounts):
        single = set(m.files) == {""}
        if m.source is not None:  # a bind mount: its own source
            out.append((m.target, m.source, m.source.is_file()))
            continue
        base = work / f"mount{i}"
        if single:
            base.parent.mkdir(parents=True, exist_ok=True)
            base.write_text(m.files[""] if isinstance(m.files[""], str) else m.files[""].read_text())
            base.chmod(0o644)
            out.append((m.target, base, True))
            continue
        base.mkdir(parents=True, exist_ok=True)
        base.chmod(0o755)
        for rel, content in m.files.items():
            f = base / rel
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(content.read_bytes() if isinstance(content, pathlib.Path) else content.encode())
            f.chmod(0o644)
        out.append((m.target, base, False))
    return out


def namespace_script(w: dm.Workload, mounts: list[tuple[str, pathlib.Path, bool]], work: pathlib.Path) -> str:
    lines = ["set -e"]
    tops = sorted({"/" + t.strip("/").split("/")[0] for t, _, _ in mounts})
    for i, top in enumerate(tops):
        if top == "/":
            raise SystemExit(f"{w.where}: a mount at / cannot be emulated")
        upper, wk = work / f"upper{i}", work / f"work{i}"
        upper.mkdir(parents=True, exist_ok=True)
        wk.mkdir(parents=True, exist_ok=True)
        if not pathlib.Path(top).is_dir():
            raise SystemExit(f"{w.where}: {top} does not exist on this machine to lay the mounts over")
        lines.append(f"mount -t overlay overlay -o lowerdir={top},upperdir={upper},workdir={wk} {top}")
    for target, src, is_file in sorted(mounts, key=lambda m: m[0]):
        t = shlex.quote(target)
        if is_file:
            lines.append(f"mkdir -p {shlex.quote(os.path.dirname(target))} && touch {t}")
        else:
            lines.append(f"mkdir -p {t}")
        lines.append(f"mount --bind {shlex.quote(str(src))} {t} && mount -o remount,bind,ro {t}")
    if w.read_only:
        lines += [f"mount -o remount,ro {top}" for top in tops]
        lines.append("mount -o remount,bind,ro /")
    lines.append("cd /")
    if w.user:
        uid, _, gid = w.user.partition(":")
        lines.append(f'exec setpriv --reuid={uid} --regid={gid or uid} --clear-groups -- "$@"')
    else:
        lines.append('exec "$@"')
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ run


class Proc:
    def __init__(self, w: dm.Workload, env: dict[str, str], port: int | None, bin_dir: pathlib.Path, work: pathlib.Path):
        self.w, self.port = w, port
        wdir = work / w.name
        wdir.mkdir(parents=True, exist_ok=True)
        script = namespace_script(w, materialise(w, wdir), wdir)
        self.log = wdir / "output.log"
        penv = {"PATH": f"{bin_dir.resolve()}:/usr/local/bin:/usr/bin:/bin", "HOME": "/", **env}
        self.p = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "sh", *w.argv],
            env=penv, stdout=self.log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.started = time.monotonic()
        self.ready_after: float | None = None

    def tail(self, n: int = 15) -> str:
        lines = self.log.read_text(errors="replace").splitlines()[-n:]
        return "\n".join("      | " + line[:300] for line in lines)

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self) -> int | None:
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGTERM)
            try:
                return self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                return self.p.wait()
        return self.p.returncode


def tcp_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", required=True)
    ap.add_argument("--compose", type=pathlib.Path)
    ap.add_argument("--overlay", type=pathlib.Path)
    ap.add_argument("--bin-dir", required=True, type=pathlib.Path)
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--work", required=True, type=pathlib.Path)
    ap.add_argument("--deadline", type=float, default=120)
    ap.add_argument("--shared-env", action="store_true",
                    help="give every container the union of every container's LEADFLOW_* environment "
                         "(its own values win): one shared ConfigMap/Secret for every binary")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the containers on the way out
    if a.compose:
        workloads = dm.compose_workloads(yaml.safe_load(a.compose.read_text()))
    else:
        docs = [d for d in yaml.safe_load_all(a.overlay.read_text()) if d]
        workloads = dm.k8s_workloads(docs, a.set, dm.load_examples())
    for w in workloads:
        if w.problems:
            print(f"    {w.where}: {'; '.join(w.problems)}", file=sys.stderr)
    notes: set[str] = {"the schema registry is a minimal one served by the test"}
    remap_shared_network(workloads, notes)
    if a.shared_env:
        share_environment(workloads, notes)
    # The publishers Secret of the example holds placeholders ingest rightly refuses: the start test
    # gives it the demo publishers instead (the file compose mounts).
    for w in workloads:
        for m in w.mounts:
            if "leadflow-ingest-publishers" in m.origin and "publishers.toml" in m.files:
                m.files["publishers.toml"] = dm.ROOT / "deploy" / "ingest-publishers.example.toml"
                m.origin += " with the demo publishers"
                notes.add(f"{w.name}: {m.target} holds the demo publishers, not the example Secret's placeholders")
    registry = start_registry()
    failed = 0
    procs: list[Proc] = []
    print(f"    {a.set}: {len(workloads)} containers on {a.bootstrap}")
    try:
        # jobs first (compose: service_completed_successfully; Kubernetes: the topics Job), to exit 0
        for w in [w for w in workloads if w.is_job]:
            env, _ = local_env(w, a.bootstrap, registry, notes)
            p = Proc(w, env, None, a.bin_dir, a.work)
            try:
                rc = p.p.wait(timeout=a.deadline)
            except subprocess.TimeoutExpired:
                p.stop()
                rc = "timeout"
            if rc != 0:
                print(f"    FAIL {w.where}: exited {rc}\n{p.tail()}")
                failed += 1
            else:
                print(f"    ok   {w.where}: exited 0 after {time.monotonic() - p.started:.1f} s ({' '.join(w.argv)[:110]})")
        if failed:
            return 1
        # services whose network others join start first
        order = sorted((w for w in workloads if not w.is_job), key=lambda w: w.network_of is not None)
        for w in order:
            if w.network_of:
                owner = next((p for p in procs if p.w.name == w.network_of), None)
                ports = [int(m.group(1)) for x in (owner.w.argv if owner else []) for m in [re.search(r":(\d+)$", x)] if m]
                deadline = time.monotonic() + 30
                while owner and not all(tcp_open(pt) for pt in ports) and time.monotonic() < deadline:
                    time.sleep(0.1)
            env, port = local_env(w, a.bootstrap, registry, notes)
            procs.append(Proc(w, env, port, a.bin_dir, a.work))
        deadline = time.monotonic() + a.deadline
        pending = [p for p in procs if p.port is not None]
        while pending and time.monotonic() < deadline:
            for p in list(pending):
                if p.p.poll() is not None:
                    pending.remove(p)
                elif p.ready():
                    p.ready_after = time.monotonic() - p.started
                    pending.remove(p)
            time.sleep(0.2)
        for p in procs:
            if p.port is None:
                alive = p.p.poll() is None
                print(f"    {'ok  ' if alive else 'FAIL'} {p.w.where}: {'running' if alive else f'exited {p.p.returncode}'} ({' '.join(p.w.argv)[:110]})")
                failed += not alive
            elif p.ready_after is not None:
                print(f"    ok   {p.w.where}: /readyz 200 after {p.ready_after:.1f} s ({' '.join(p.w.argv)})")
            else:
                why = f"exited {p.p.returncode}" if p.p.poll() is not None else f"not ready within {a.deadline:.0f} s"
                print(f"    FAIL {p.w.where}: {why}\n{p.tail()}")
                failed += 1
    finally:
        codes = {p.w.name: p.stop() for p in procs}
        if procs:
            print(f"    stopped with SIGTERM: {', '.join(f'{n} {c}' for n, c in codes.items())}")
    for n in sorted(notes):
        print(f"    (local) {n}")
    print(f"    {a.set}: {'every container started' if not failed else f'{failed} container(s) did not start'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
