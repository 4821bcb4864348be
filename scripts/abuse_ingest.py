#!/usr/bin/env python3
"""The ingest section of scripts/abuse-test.sh: a bounded burst of hostile requests against a running
leadflow-ingest, then the checks that it still serves and stayed within its memory bound
(crates/ingest/RULES.md M1). Standard library only.

Phases (each bounded; counts printed):
  abandoned   300 batch requests whose clients disconnect before the answer (some mid-body)
  oversized   bodies above max_body_bytes (413)
  nested      deeply nested JSON (400, not a crash)
  forged      webhooks with wrong signatures and for unknown publishers (401, one text for all)
  replayed    one signed webhook sent 50 times (written once: 202 then replayed) and an expired one (401)
  slow        connections that send half a request head and stall (closed by the header timeout)
  flood       unique Idempotency-Keys and event ids (202 or 429 rate_limited, never 5xx)
Then: the producer queue drains to 0, /readyz is 200, a normal lead gets 202 (after the rate limit's
Retry-After), and the process's peak resident set (VmHWM) is below --max-rss-mib.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import hmac
import http.client
import json
import socket
import sys
import time
import uuid

FAILURES: list[str] = []


def check(ok: bool, what: str) -> None:
    if not ok:
        FAILURES.append(what)
        print(f"  FAIL {what}", flush=True)


def lead(event_id: str) -> dict:
    return {
        "event_id": event_id,
        "lead_id": f"lead-{event_id}",
        "source_record_id": f"rec-{event_id}",
        "occurred_at": "2026-11-30T09:30:00Z",
        "event_type": "FORM_SUBMISSION",
        "contact": {"email": "ada@acme.example", "first_name": "Ada"},
    }


class Client:
    def __init__(self, api: str, key: str, secret: str, publisher: str) -> None:
        host, port = api.rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.key, self.secret, self.publisher = key, secret, publisher

    def post(self, path: str, body: bytes, headers: dict[str, str] | None = None, auth: bool = True):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        h = {"content-type": "application/json"}
        if auth:
            h["authorization"] = f"Bearer {self.key}"
        h.update(headers or {})
        try:
            conn.request("POST", path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            return r.status, data, dict(r.getheaders())
        finally:
            conn.close()

    def signed(self, path: str, body: bytes, secret: str, ts: int):
        mac = hmac.new(secret.encode(), b"v0:" + str(ts).encode() + b":" + body, hashlib.sha256).hexdigest()
        return self.post(path, body, {"x-leadflow-timestamp": str(ts), "x-leadflow-signature": f"v0={mac}"}, auth=False)

    def raw(self) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout=60)


def phase(name: str) -> None:
    print(f"abuse ingest: {name}", flush=True)


def abandoned(c: Client) -> None:
    phase("abandoned requests (300, clients gone before the answer)")
    def one(i: int) -> None:
        body = json.dumps({"leads": [lead(f"gone-{i}-{j}-{uuid.uuid4()}") for j in range(10)]}).encode()
        head = (
            f"POST /v1/leads:batch HTTP/1.1\r\nhost: ingest\r\nauthorization: Bearer {c.key}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
        ).encode()
        s = c.raw()
        try:
            # every third one leaves mid-body, the others right after sending it
            s.sendall(head + (body[: len(body) // 2] if i % 3 == 0 else body))
        finally:
            s.close()
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        list(pool.map(one, range(300)))


def oversized(c: Client) -> None:
    phase("oversized bodies (2 MiB, 10 requests)")
    big = b'{"leads":[' + b'"' + b"x" * (2 * 1024 * 1024) + b'"]}'
    def one(_: int) -> int:
        try:
            return c.post("/v1/leads:batch", big)[0]
        except (ConnectionError, OSError):
            return 413  # the server may close before the client finished sending
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        statuses = list(pool.map(one, range(10)))
    check(all(s == 413 for s in statuses), f"oversized bodies answered {sorted(set(statuses))}, expected 413")


def nested(c: Client) -> None:
    phase("deeply nested bodies (arrays and objects, 100 000 levels)")
    depth = 100_000
    for body in (b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth):
        for path in ("/v1/leads", "/v1/leads:batch"):
            status, data, _ = c.post(path, body)
            check(status == 400, f"nested body on {path} answered {status}: {data[:200]!r}")


def forged(c: Client) -> None:
    phase("forged signatures (200) and unknown publishers")
    body = json.dumps({"conversation_id": "c1", "visitor": {"id": "v1"}, "messages": [{"role": "visitor", "text": "hi"}]}).encode()
    now = int(time.time())
    texts = set()
    def one(i: int):
        path = f"/v1/webhooks/chat/{c.publisher if i % 2 else 'nobody-' + str(i)}"
        return c.signed(path, body, f"guess-{i}", now)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        for status, data, _ in pool.map(one, range(200)):
            check(status == 401, f"forged webhook answered {status}")
            texts.add(data)
    check(len(texts) == 1, f"401 answers differ ({len(texts)} texts): publishers can be enumerated")


def replayed(c: Client) -> None:
    phase("a signed webhook replayed 50 times, and an expired one")
    body = json.dumps({
        "conversation_id": f"conv-{uuid.uuid4()}",
        "visitor": {"id": "v-1", "email": "grace@acme.example"},
        "messages": [{"role": "visitor", "text": "can I talk to a human?", "sent_at": "2026-11-30T09:30:00Z"}],
    }).encode()
    now = int(time.time())
    path = f"/v1/webhooks/chat/{c.publisher}"
    first = c.signed(path, body, c.secret, now)
    check(first[0] == 202, f"the signed webhook answered {first[0]}: {first[1][:200]!r}")
    ids = set()
    for _ in range(50):
        status, data, _ = c.signed(path, body, c.secret, now)
        check(status == 202, f"a replayed webhook answered {status}")
        if status == 202:
            ids.add(tuple(json.loads(data)["event_ids"]))
            check(json.loads(data)["replayed"] is True, "a replayed webhook was written again")
    check(len(ids) <= 1, "replays answered different event ids")
    status, _, _ = c.signed(path, body, c.secret, now - 3600)
    check(status == 401, f"an hour-old signature answered {status}")


def slow_heads(c: Client) -> list[socket.socket]:
    phase("slow clients (20 connections stalled mid-head)")
    socks = []
    for _ in range(20):
        s = c.raw()
        s.sendall(b"POST /v1/leads HTTP/1.1\r\nhost: ingest\r\n")
        socks.append(s)
    return socks


def closed_by_server(socks: list[socket.socket]) -> None:
    deadline = time.monotonic() + 40
    for s in socks:
        s.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            closed = s.recv(65536) is not None  # b"" at EOF, or a 408 page then EOF
        except (TimeoutError, socket.timeout):
            closed = False
        except OSError:
            closed = True
        check(closed, "a stalled connection was still open 40 s later")
        s.close()


def flood(c: Client) -> None:
    phase("unique-key flood (3 000 requests, unique Idempotency-Keys and event ids)")
    def one(i: int) -> int:
        eid = f"flood-{uuid.uuid4()}"
        return c.post("/v1/leads", json.dumps(lead(eid)).encode(), {"idempotency-key": f"k-{eid}"})[0]
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        statuses = list(pool.map(one, range(3000)))
    seen = {s: statuses.count(s) for s in set(statuses)}
    print(f"  statuses {seen}", flush=True)
    check(set(statuses) <= {202, 429}, f"flood answered {seen}: expected only 202 and 429")


def metric(ops: str, name: str) -> float | None:
    host, port = ops.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", "/metrics")
        for line in conn.getresponse().read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    finally:
        conn.close()
    return None


def still_serving(c: Client, ops: str) -> None:
    phase("after the burst: queue drained, ready, a normal lead gets 202")
    deadline = time.monotonic() + 60
    while (metric(ops, "leadflow_ingest_producer_queue_records") or 0) != 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    check(metric(ops, "leadflow_ingest_producer_queue_records") == 0, "the producer queue budget did not drain to 0")
    host, port = ops.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", "/readyz")
    check(conn.getresponse().status == 200, "/readyz is not 200")
    conn.close()
    status = 0
    while time.monotonic() < deadline + 30:
        status, data, headers = c.post("/v1/leads", json.dumps(lead(f"normal-{uuid.uuid4()}")).encode())
        if status != 429:
            break
        time.sleep(float(headers.get("Retry-After", "1")))
    check(status == 202, f"a normal lead after the burst answered {status}")


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--api", required=True)
    p.add_argument("--ops", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--publisher", required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--max-rss-mib", type=float, required=True)
    a = p.parse_args()
    c = Client(a.api, a.key, a.secret, a.publisher)
    started = time.monotonic()
    stalled = slow_heads(c)
    abandoned(c)
    oversized(c)
    nested(c)
    forged(c)
    replayed(c)
    flood(c)
    closed_by_server(stalled)
    still_serving(c, a.ops)
    peak = peak_rss_mib(a.pid)
    print(f"abuse ingest: peak resident set {peak:.0f} MiB (bound {a.max_rss_mib:.0f} MiB), {time.monotonic() - started:.0f} s", flush=True)
    check(peak <= a.max_rss_mib, f"peak resident set {peak:.0f} MiB above {a.max_rss_mib:.0f} MiB")
    if FAILURES:
        print(f"abuse ingest: {len(FAILURES)} failure(s)", file=sys.stderr)
        return 1
    print("abuse ingest: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
