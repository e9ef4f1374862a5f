#!/usr/bin/env bash
# Validates compose.yaml without a container engine: the Compose Specification's own loader
# (github.com/compose-spec/compose-go/v2, what `docker compose config` runs), wrapped in the few
# lines of Go in scripts/compose-check/ and built once per machine (cached outside the checkout,
# keyed by that module's source, and reused by every checkout).
#   bash scripts/compose-check.sh [-f FILE]...   (default: compose.yaml at the repository's root)
#   bash scripts/compose-check.sh path            (prints where the binary is; exit 1 if not built)
# Exit 0 when the file loads, 1 when it is invalid (the loader's reason on stderr), 2 on misuse.
# Env: COMPOSE_CHECK_BIN_DIR (default ~/.cache/mart/compose-check/<source hash>).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
src="$here/compose-check"

# The binary is as good as the source it came from: a change to main.go, go.mod or go.sum
# builds a new one.
key="$(cat "$src/main.go" "$src/go.mod" "$src/go.sum" | sha256sum | cut -c1-16)"
bindir="${COMPOSE_CHECK_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mart/compose-check/$key}"
bin="$bindir/compose-check"

build() {
  if [[ -x "$bin" ]]; then return 0; fi
  command -v go >/dev/null 2>&1 || {
    echo "compose-check.sh: 'go' not found on PATH: Go builds the compose validator (apt-get install golang-go)" >&2
    exit 1
  }
  echo "compose-check.sh: building the compose validator (once; cached in $bindir)..." >&2
  mkdir -p "$bindir"
  # Built beside the final place and moved in, so a build running in another checkout at the same
  # time never leaves a half-written binary where the check looks for one.
  local tmp
  tmp="$(mktemp -d "$bindir/.build.XXXXXX")"
  # -mod=mod: go.sum pins every module; the build may still fill the module cache.
  if ! (cd "$src" && GOFLAGS=-mod=mod go build -trimpath -o "$tmp/compose-check" .) >"$tmp/build.log" 2>&1; then
    echo "compose-check.sh: building scripts/compose-check failed ($(go env GOVERSION 2>/dev/null || echo 'unknown Go')):" >&2
    cat "$tmp/build.log" >&2
    rm -rf "$tmp"
    exit 1
  fi
  mv -f "$tmp/compose-check" "$bin"
  rm -rf "$tmp"
}

if [[ "${1:-}" == path ]]; then
  echo "$bin"
  [[ -x "$bin" ]]
  exit
fi

build
if (($# == 0)); then set -- -f "$repo/compose.yaml"; fi
exec "$bin" "$@"
