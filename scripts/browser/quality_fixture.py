#!/usr/bin/env python3
"""Prints a quality fixture file (crates/cli/tests/fixtures/quality/*.jsonl) with every `*_at` time
moved so that the fixture's window start (T in crates/cli/src/quality/tests.rs) is DAYS days ago.

usage: quality_fixture.py FILE DAYS
"""
import json
import sys
import time

T = 1_796_000_000_000
DAY = 86_400_000


def shift(v, delta):
    if isinstance(v, dict):
        for k, x in v.items():
            if k.endswith("_at") and isinstance(x, int) and T - 30 * DAY <= x < T + 60 * DAY:
                v[k] = x + delta
            else:
                shift(x, delta)
    elif isinstance(v, list):
        for x in v:
            shift(x, delta)


def main():
    path, days = sys.argv[1], int(sys.argv[2])
    delta = int(time.time() * 1000) - days * DAY - T
    with open(path) as f:
        for line in f:
            v = json.loads(line)
            shift(v, delta)
            print(json.dumps(v))


if __name__ == "__main__":
    main()
