#!/usr/bin/env bash
# stripe-mock (Stripe's API answered from fixtures, every request checked against Stripe's OpenAPI
# spec) without Docker: built from source with `go install` at a pinned version, once per machine
# (the binary is cached outside the checkout, per version, and reused by every checkout).
#   bash scripts/stripe-mock.sh start | stop | status | path
# `path` prints where the binary is (exit 0 when it is built, 1 when `start` would have to build it).
# Env: STRIPE_MOCK_PORT (12111, HTTP; its HTTPS listener takes STRIPE_MOCK_PORT+1, both on 127.0.0.1),
#      STRIPE_MOCK_HOME_DIR (.cache/stripe-mock: pid file and stripe-mock.log),
#      STRIPE_MOCK_BIN_DIR (where the binary is built; default ~/.cache/mart/stripe-mock/<version>).
set -euo pipefail
# shellcheck source=lib/stop-process.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/stop-process.sh"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

version="v0.203.0"
module="github.com/stripe/stripe-mock"

port="${STRIPE_MOCK_PORT:-12111}"
[[ "$port" =~ ^[0-9]+$ ]] && ((port > 0 && port < 65535)) || {
  echo "stripe-mock.sh: bad STRIPE_MOCK_PORT '$port'" >&2
  exit 2
}
https_port=$((port + 1))
bindir="${STRIPE_MOCK_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mart/stripe-mock/$version}"
bin="$bindir/stripe-mock"
home="${STRIPE_MOCK_HOME_DIR:-$repo/.cache/stripe-mock}"
pidfile="$home/stripe-mock.pid"
logfile="$home/stripe-mock.log"
ready_timeout=30

now_ms() {
  if [[ -n "${EPOCHREALTIME:-}" ]]; then local t="${EPOCHREALTIME/[.,]/}"; echo $((t / 1000)); else echo $((SECONDS * 1000)); fi
}
elapsed() { local ms=$(($(now_ms) - $1)); printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100)); }

# The pid in the pid file, if that process is alive and is a stripe-mock serving our port
# (a stale pid file whose pid was reused by something else must not count, nor be killed by stop).
mock_pid() {
  [[ -f "$pidfile" ]] || return 1
  local pid cmd
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"; else cmd="$(ps -o args= -p "$pid" 2>/dev/null || true)"; fi
  [[ "$cmd" == *stripe-mock*"-http-addr 127.0.0.1:$port "* ]] || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Whether stripe-mock itself answers on the port: a Stripe API call with a test key gets a 200 and
# stripe-mock's own header, which another HTTP server on the port would not send.
answers() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
    printf 'GET /v1/customers HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk_test_123\r\n\r\n' >&3
    local line status=0 ours=0
    while IFS= read -r -t 2 line <&3; do
      line="${line%$'\r'}"
      [[ "$line" == HTTP/1.?" 200 "* ]] && status=1
      [[ "${line,,}" == stripe-mock-version:* ]] && ours=1
      [[ -z "$line" ]] && break
    done
    ((status && ours))
  ) 2>/dev/null
}

build() {
  if [[ -x "$bin" ]]; then return 0; fi
  command -v go >/dev/null 2>&1 || {
    echo "stripe-mock.sh: 'go' not found on PATH: Go builds stripe-mock $version (apt-get install golang-go)" >&2
    exit 1
  }
  echo "stripe-mock.sh: building $module@$version with go install (once; cached in $bindir)..." >&2
  local t0 tmp
  t0="$(now_ms)"
  mkdir -p "$bindir"
  # Built beside the final place and moved in, so a build running in another checkout at the same
  # time never leaves a half-written binary where `start` looks for one.
  tmp="$(mktemp -d "$bindir/.build.XXXXXX")"
  if ! GOBIN="$tmp" go install "$module@$version" >"$tmp/build.log" 2>&1; then
    echo "stripe-mock.sh: go install $module@$version failed (it needs Go 1.22.1 or newer;" \
      "this is $(go env GOVERSION 2>/dev/null || echo 'an unknown Go')):" >&2
    cat "$tmp/build.log" >&2
    rm -rf "$tmp"
    exit 1
  fi
  mv -f "$tmp/stripe-mock" "$bin"
  rm -rf "$tmp"
  echo "stripe-mock.sh: built $bin in $(elapsed "$t0")" >&2
}

start() {
  local pid
  if pid="$(mock_pid)"; then
    echo "stripe-mock already running (pid $pid) on http://127.0.0.1:$port"
    return 0
  fi
  rm -f "$pidfile"
  # stripe-mock exits when its HTTPS port is taken, and something else on the HTTP port would make
  # the readiness check talk to the wrong server.
  local p
  for p in "$port" "$https_port"; do
    if port_open "$p"; then
      echo "stripe-mock.sh: 127.0.0.1:$p is already in use by another process (not the stripe-mock of $home);" \
        "stop it or choose another STRIPE_MOCK_PORT" >&2
      exit 1
    fi
  done
  build
  mkdir -p "$home"
  local t0
  t0="$(now_ms)"
  # Both listeners named: with -http-addr alone stripe-mock still opens HTTPS on every interface.
  # Not a job-control shell, so setsid does not fork and $! is stripe-mock itself (its own session:
  # a Ctrl-C in the terminal that started it does not reach it).
  setsid nohup "$bin" -http-addr "127.0.0.1:$port" -https-addr "127.0.0.1:$https_port" \
    >"$logfile" 2>&1 </dev/null &
  local launched=$!
  echo "$launched" >"$pidfile"
  local deadline=$(($(now_ms) + ready_timeout * 1000))
  while (($(now_ms) < deadline)); do
    if ! kill -0 "$launched" 2>/dev/null; then
      echo "stripe-mock.sh: stripe-mock exited during startup; last lines of $logfile:" >&2
      tail -n 20 "$logfile" >&2
      rm -f "$pidfile"
      exit 1
    fi
    if answers; then
      echo "stripe-mock $version ready on http://127.0.0.1:$port (pid $launched, started in $(elapsed "$t0"))"
      return 0
    fi
    sleep 0.2
  done
  echo "stripe-mock.sh: stripe-mock did not answer within ${ready_timeout} s; last lines of $logfile:" >&2
  tail -n 20 "$logfile" >&2
  stop >&2
  exit 1
}

stop() {
  local pid
  if ! pid="$(mock_pid)"; then
    rm -f "$pidfile"
    echo "stripe-mock not running"
    return 0
  fi
  stop_process stripe-mock "$pid" "$pidfile" 10
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    if pid="$(mock_pid)" && answers; then
      echo "running (pid $pid) on http://127.0.0.1:$port"
    else
      echo "not running"
      exit 1
    fi
    ;;
  path)
    echo "$bin"
    [[ -x "$bin" ]]
    ;;
  *) echo "usage: bash scripts/stripe-mock.sh start|stop|status|path" >&2; exit 2 ;;
esac
