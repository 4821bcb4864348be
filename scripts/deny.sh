#!/usr/bin/env bash
# cargo-deny on Cargo.lock (deny.toml): advisories, licences, bans, sources.
# Installs cargo-deny when missing (cargo install cargo-deny --locked; ~10 min on 2 busy cores).
# The advisory database comes from github.com/rustsec/advisory-db: when it cannot be fetched (no
# network to GitHub), licences, bans and sources are still checked offline, and the script says
# loudly that advisories were NOT checked (it does not fail for that; set DENY_REQUIRE_ADVISORIES=1
# to make it fail, as CI with network should).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${REPO_ROOT}"

if ! cargo deny --version >/dev/null 2>&1; then
  started="$(date +%s)"
  cargo install cargo-deny --locked
  echo "cargo-deny installed in $(($(date +%s) - started)) s"
fi

if timeout 120 cargo deny fetch db >/dev/null 2>&1; then
  cargo deny --locked check advisories bans licenses sources
else
  echo "WARNING: the RustSec advisory database could not be fetched (github.com unreachable):"
  echo "WARNING: advisories NOT checked; licences, bans and sources checked offline."
  cargo deny --offline --locked check bans licenses sources
  if [[ "${DENY_REQUIRE_ADVISORIES:-0}" == 1 ]]; then
    exit 1
  fi
fi
