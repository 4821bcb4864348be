#!/usr/bin/env python3
"""The demo's lead feed through leadflow-ingest (scripts/demo.sh).

Reads generated leads (JSON lines, as `leadflow generate` prints them) on stdin. Leads whose
source_system is a publisher of the demo ingest (hubspot forms, website chat) are POSTed to
/v1/leads with that publisher's API key, as those tools would; every other lead (CRM, intent feed,
webinars, sign-ups: systems that speak Kafka) is written to stdout for `leadflow produce leads.raw`.
A summary goes to stderr. Standard library only.
"""
import json
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

URL = sys.argv[1].rstrip("/")
KEYS = dict(arg.split("=", 1) for arg in sys.argv[2:])  # publisher=api-key


def post(line, key):
    req = urllib.request.Request(
        URL + "/v1/leads",
        data=line.encode(),
        headers={"content-type": "application/json", "authorization": "Bearer " + key},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, ""
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")[:300]
    except OSError as e:
        return 0, str(e)


def main():
    counts = {}
    futures = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            system = json.loads(line).get("source_system")
            if system in KEYS:
                futures.append((system, pool.submit(post, line, KEYS[system])))
            else:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
                counts["kafka"] = counts.get("kafka", 0) + 1
    for system, f in futures:
        status, error = f.result()
        k = f"{system} HTTP {status}"
        counts[k] = counts.get(k, 0) + 1
        if status != 202:
            print(f"ingest refused a {system} lead: {status} {error}", file=sys.stderr)
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    print(f"leads by path: {summary}", file=sys.stderr)
    refused = sum(v for k, v in counts.items() if "HTTP" in k and not k.endswith("202"))
    sys.exit(1 if refused else 0)


if __name__ == "__main__":
    main()
