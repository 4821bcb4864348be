#!/usr/bin/env bash
# cargo-deny on Cargo.lock (deny.toml): advisories, licences, bans, sources; and advisories on
# fuzz/Cargo.lock (the fuzz crate's own workspace).
# Installs cargo-deny when missing (cargo install cargo-deny --locked; ~10 min on 2 busy cores).
#
# Advisories are always checked, against one of two databases:
# - the live RustSec database (github.com/rustsec/advisory-db), fetched by cargo-deny, when GitHub
#   is reachable;
# - otherwise the snapshot vendored in deny/ (deny/advisory-db-<date>.tar.gz, see deny/README.md),
#   unpacked into a temporary directory and read offline. The script then says loudly which
#   snapshot (date, age) was used: advisories published after that date are not known to it.
#   A snapshot older than DENY_MAX_SNAPSHOT_DAYS (365) fails the check: refresh it (deny/README.md).
#
# DENY_OFFLINE=1 skips the live fetch (uses the snapshot); DENY_REQUIRE_LIVE_DB=1 fails when the live
# database cannot be fetched (for a CI runner that has network to GitHub).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${REPO_ROOT}"

if ! cargo deny --version >/dev/null 2>&1; then
  started="$(date +%s)"
  cargo install cargo-deny --locked
  echo "cargo-deny installed in $(($(date +%s) - started)) s"
fi

# cargo-deny reads the dependency graph with `cargo metadata`, which needs the sources of every
# crate in the lock files, including those of other platforms (Windows, Android) that a Linux build
# never downloads. Fetch them from crates.io first, so that only the advisory database is offline.
fetch_started="$(date +%s)"
cargo fetch --locked
cargo fetch --locked --manifest-path fuzz/Cargo.toml
echo "crate sources for every platform of Cargo.lock and fuzz/Cargo.lock fetched in $(($(date +%s) - fetch_started)) s"

if [[ "${DENY_OFFLINE:-0}" != 1 ]] && timeout 120 cargo deny fetch db >/dev/null 2>&1; then
  echo "advisories: checked against the live RustSec database (fetched now)"
  cargo deny --locked check advisories bans licenses sources
  # the fuzz crate is its own workspace with its own lockfile (libfuzzer-sys, arbitrary)
  cargo deny --locked --manifest-path fuzz/Cargo.toml check advisories
  exit 0
fi

if [[ "${DENY_REQUIRE_LIVE_DB:-0}" == 1 ]]; then
  echo "ERROR: the live RustSec advisory database could not be fetched and DENY_REQUIRE_LIVE_DB=1" >&2
  exit 1
fi

# --- the vendored snapshot ----------------------------------------------------------------------
snapshot="$(ls deny/advisory-db-*.tar.gz 2>/dev/null | sort | tail -n 1 || true)"
if [[ -z "${snapshot}" ]]; then
  echo "ERROR: no live advisory database and no snapshot deny/advisory-db-*.tar.gz" >&2
  exit 1
fi
snapshot_date="$(basename "${snapshot}" .tar.gz)"
snapshot_date="${snapshot_date#advisory-db-}"
if ! snapshot_epoch="$(date -u -d "${snapshot_date}" +%s 2>/dev/null)"; then
  echo "ERROR: ${snapshot}: the file name must carry the snapshot's date (advisory-db-YYYY-MM-DD)" >&2
  exit 1
fi
age_days=$((($(date -u +%s) - snapshot_epoch) / 86400))
max_days="${DENY_MAX_SNAPSHOT_DAYS:-365}"

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
# cargo-deny opens <db-path>/<last URL segment>-<xxhash64 of the URL>; this is the directory of the
# default database (https://github.com/rustsec/advisory-db, set explicitly below). If a future
# cargo-deny names it differently, the check fails (it never passes without a database).
db_dir="${work}/dbs/advisory-db-3157b0e258782691"
mkdir -p "${db_dir}/.git"
tar -xzf "${snapshot}" -C "${db_dir}"
# cargo-deny dates a database by .git/FETCH_HEAD's mtime: make it the snapshot's date, so its
# staleness limit measures the snapshot's real age
touch -d "@${snapshot_epoch}" "${db_dir}/.git/FETCH_HEAD"
# deny.toml with the snapshot as the database and the staleness limit of this script
sed -e "/^\[advisories\]/a db-path = \"${work}/dbs\"" \
  -e "/^\[advisories\]/a db-urls = [\"https://github.com/rustsec/advisory-db\"]" \
  -e "/^\[advisories\]/a maximum-db-staleness = \"P${max_days}D\"" \
  deny.toml >"${work}/deny.toml"

banner() {
  echo "################################################################################################"
  printf '# %s\n' "$@"
  echo "################################################################################################"
}
banner "ADVISORIES: the live RustSec database could not be fetched (github.com unreachable)." \
  "ADVISORIES: checked against the VENDORED SNAPSHOT OF ${snapshot_date} (${age_days} days old):" \
  "ADVISORIES: ${snapshot}. Advisories published after ${snapshot_date} are NOT known to it."
if ((age_days > max_days)); then
  banner "ERROR: the snapshot is older than ${max_days} days: refresh it (deny/README.md)."
  exit 1
fi
if ((age_days > 90)); then
  banner "WARNING: the snapshot is more than 90 days old: refresh it (deny/README.md)."
fi

cargo deny --offline --locked --config "${work}/deny.toml" check advisories bans licenses sources
cargo deny --offline --locked --config "${work}/deny.toml" --manifest-path fuzz/Cargo.toml \
  check advisories
