#!/usr/bin/env bash
# Builds the runtime file tree of the Tickflow container image: /app in the Dockerfile's final
# stage. The Dockerfile's build stage runs exactly this script, and so does the test suite
# (test/k8s/image-tree.int.test.ts), which then starts every subcommand from the tree alone:
# the image's contents are tested without a Docker engine.
#
#   scripts/build-image-tree.sh --out DIR [--src DIR] [--deps-cache DIR]
#
# Steps:
#   1. copy --src (default: the repository holding this script) to --out, leaving out what
#      .dockerignore excludes (same rules as the Docker build context; `!` exceptions unsupported);
#   2. npm ci: every dependency, dev ones included (a workspace build may need them). The Kafka
#      client builds its bundled librdkafka from source (CKJS_LINKING=dynamic), against the headers
#      of the running node (npm_config_nodedir), linking the system's libssl/libsasl2/libzstd/liblz4;
#      with --deps-cache DIR, node_modules from an earlier run with identical package-lock.json,
#      package.json files, Node version and CPU is reused instead (a tar per key in DIR);
#   3. npm run build in each workspace that has a build script (the dashboard's web assets);
#   4. npm prune --omit=dev: production dependencies only;
#   5. removes what never runs: tests, librdkafka's sources, static libraries and build
#      intermediates, type declarations and source maps, the repository's tooling files;
#   6. checks that `node apps/cli/bin/tickflow.js --help` works with nothing but the tree.
# Node executes the TypeScript sources directly (no compile step); workspace packages stay
# symlinks in node_modules/@tickflow (relative), which Node resolves to their real paths.
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

log() { printf '[build-image-tree] %s\n' "$*" >&2; }
die() {
  printf '[build-image-tree] ERROR: %s\n' "$*" >&2
  exit 1
}

src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out=""
deps_cache=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out)
      out="${2:?--out needs a directory}"
      shift 2
      ;;
    --src)
      src="${2:?--src needs a directory}"
      shift 2
      ;;
    --deps-cache)
      deps_cache="${2:?--deps-cache needs a directory}"
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
[[ -n "$out" ]] || die "--out DIR is required (see --help)"
[[ -f "$src/package.json" && -f "$src/package-lock.json" ]] || die "$src is not the repository root"
command -v node >/dev/null 2>&1 || die "node is not on PATH"
command -v npm >/dev/null 2>&1 || die "npm is not on PATH"
started=$SECONDS

# ---- 1. copy the sources ------------------------------------------------------------------
mkdir -p "$out"
out="$(cd "$out" && pwd)"
src="$(cd "$src" && pwd)"
[[ "$out" != "$src" ]] || die "--out must differ from --src"
[[ -z "$(ls -A "$out")" ]] || die "$out is not empty"

excludes=(--exclude=./node_modules --exclude=node_modules)
if [[ -f "$src/.dockerignore" ]]; then
  while IFS= read -r line || [[ -n "$line" ]]; do
    line="${line%%#*}"
    line="${line#"${line%%[![:space:]]*}"}"
    line="${line%"${line##*[![:space:]]}"}"
    [[ -z "$line" ]] && continue
    [[ "$line" == !* ]] && die ".dockerignore exception '$line' is not supported by this script"
    line="${line#/}"
    line="${line%/}"
    if [[ "$line" == '**/'* ]]; then
      excludes+=("--exclude=${line#'**/'}") # any depth: GNU tar matches after any '/'
    else
      excludes+=("--exclude=./$line") # anchored at the root of the context
    fi
  done <"$src/.dockerignore"
fi
log "copying $src -> $out"
(cd "$src" && tar -cf - "${excludes[@]}" .) | (cd "$out" && tar -xf -)

# ---- 2. dependencies -------------------------------------------------------------------------
node_real="$(readlink -f "$(command -v node)")"
nodedir="$(dirname "$(dirname "$node_real")")"
if [[ -f "$nodedir/include/node/node_api.h" ]]; then
  export npm_config_nodedir="$nodedir"
fi
export CKJS_LINKING=dynamic
node_version="$(node -p 'process.versions.node')"

deps_key=""
if [[ -n "$deps_cache" ]]; then
  mkdir -p "$deps_cache"
  deps_key="$(
    cd "$out"
    {
      printf 'node=%s arch=%s format=1\n' "$node_version" "$(uname -m)"
      find . -name package.json -not -path '*/node_modules/*' -print0 | sort -z | xargs -0 sha256sum
      sha256sum package-lock.json
    } | sha256sum | cut -c1-32
  )"
fi
deps_tar="${deps_cache:+$deps_cache/node_modules-$deps_key.tar}"

if [[ -n "$deps_tar" && -f "$deps_tar" ]]; then
  log "reusing node_modules from $deps_tar"
  tar -xf "$deps_tar" -C "$out"
else
  log "npm ci (Node $node_version; builds librdkafka from source, a few minutes)"
  ci_log="$(mktemp)"
  if ! (cd "$out" && npm ci --no-audit --no-fund --loglevel=warn 2> >(tee "$ci_log" >&2) >&2); then
    # npm ci refuses a lock file that lacks optional platform packages (e.g. biome's
    # android/darwin/win32 builds) when the registry in use does not serve them, so a lock made
    # against it never has them: "Missing: <name>@ from lock file" with no version. Only that case
    # falls back to npm install, which installs exactly the lock's versions and skips those.
    missing="$(grep -c 'Missing: .* from lock file' "$ci_log" || true)"
    unversioned="$(grep -cE 'Missing: (@[^@ ]+/)?[^@ ]+@ from lock file' "$ci_log" || true)"
    if [[ "$missing" -gt 0 && "$missing" == "$unversioned" ]]; then
      log "WARNING: npm ci: the lock file lacks $missing optional packages the registry does not serve; npm install instead"
      (cd "$out" && npm install --no-save --no-audit --no-fund --loglevel=warn >&2)
    else
      rm -f "$ci_log"
      die "npm ci failed (is package-lock.json in sync with the package.json files?)"
    fi
  fi
  rm -f "$ci_log"
  if [[ -n "$deps_tar" ]]; then
    log "saving node_modules to $deps_tar"
    (cd "$out" && find . -type d -name node_modules -prune -print0 |
      tar --null -cf "$deps_tar.tmp" -T -)
    mv "$deps_tar.tmp" "$deps_tar"
    # keep the two newest entries
    find "$deps_cache" -maxdepth 1 -name 'node_modules-*.tar' -printf '%T@ %p\n' | sort -rn | tail -n +3 |
      cut -d' ' -f2- | xargs -r rm -f
  fi
fi
(cd "$out" && node -e "require('@confluentinc/kafka-javascript')") ||
  die "the Kafka client does not load after installing dependencies"

# ---- 3. workspace builds ---------------------------------------------------------------------
log "npm run build --workspaces --if-present"
(cd "$out" && npm run build --workspaces --if-present >&2)

# ---- 4. production dependencies only ---------------------------------------------------------
log "npm prune --omit=dev"
(cd "$out" && npm prune --omit=dev --no-audit --no-fund --loglevel=warn >&2)

# ---- 5. remove what never runs ---------------------------------------------------------------
kafka="$out/node_modules/@confluentinc/kafka-javascript"
if [[ -d "$kafka" ]]; then
  # keep build/Release/*.node and build/deps/librdkafka*.so* (the addon's RUNPATH is $ORIGIN/../deps)
  rm -rf "$kafka/deps" "$kafka/src" "$kafka/build/Release/obj.target" "$kafka/build/Release/.deps" \
    "$kafka/build/deps/include" "$kafka/build/deps/pkgconfig" "$kafka/build/deps/librdkafka"
  find "$kafka/build" -maxdepth 2 -type f \( -name '*.a' -o -name '*.mk' -o -name '*.Makefile' -o -name Makefile \
    -o -name '*.gypi' \) -delete
  if command -v strip >/dev/null 2>&1; then
    find "$kafka/build" -type f \( -name '*.so*' -o -name '*.node' \) -exec strip --strip-unneeded {} +
  fi
fi
find "$out" -path '*/node_modules/*' -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \
  -o -name '*.map' \) -delete
# scope directories that npm prune emptied
find "$out/node_modules" -mindepth 1 -maxdepth 1 -type d -empty -delete
for ws in "$out"/apps/* "$out"/packages/*; do
  [[ -d "$ws" ]] || continue
  rm -rf "$ws/test" "$ws/tests"
done
# repository tooling: lock file, build scripts, linter/compiler/test configuration
rm -rf "$out/package-lock.json" "$out/scripts" "$out/Makefile" "$out/biome.json" "$out/tsconfig.json" \
  "$out/vitest.config.ts"

# ---- 6. the tree alone runs the CLI ----------------------------------------------------------
(cd / && env -i PATH="$(dirname "$node_real"):/usr/bin:/bin" NODE_ENV=production \
  node "$out/apps/cli/bin/tickflow.js" --help >/dev/null) || die "tickflow --help fails in $out"
log "done in $((SECONDS - started)) s: $(du -sh "$out" | cut -f1) in $out"
