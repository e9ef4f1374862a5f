#!/usr/bin/env bash
# A real single-node Apache Kafka (KRaft) without Docker: the broker's jars come from Maven Central
# through Maven (scripts/kafka/pom.xml), cached in ~/.m2, and the classpath in .cache/kafka/classpath.txt
# (reused while the pom is unchanged and every jar on it still exists, so only the first start runs Maven).
#   bash scripts/kafka.sh start | stop | status
# Env: KAFKA_PORT (9092; the controller uses KAFKA_PORT+1), KAFKA_HOME_DIR (.cache/kafka: properties,
#      pid, broker.log, data), KAFKA_KEEP_DATA=1 (start on the existing log dir instead of a fresh one:
#      for restart tests; the cluster id is fixed so a kept dir always matches),
#      KAFKA_JVM_OPTS (heap and GC; default -Xms256m -Xmx512m -XX:+UseSerialGC, sized for a 2-core box).
set -euo pipefail
# shellcheck source=lib/stop-process.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/stop-process.sh"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

port="${KAFKA_PORT:-9092}"
[[ "$port" =~ ^[0-9]+$ ]] && ((port > 0 && port < 65535)) || { echo "kafka.sh: bad KAFKA_PORT '$port'" >&2; exit 2; }
controller_port=$((port + 1))
home="${KAFKA_HOME_DIR:-$repo/.cache/kafka}"
mkdir -p "$home"
home="$(cd "$home" && pwd)"
pidfile="$home/broker.pid"
logfile="$home/broker.log"
props="$home/server.properties"
data="$home/data"
pom="$here/kafka/pom.xml"
# Shared by every KAFKA_HOME_DIR: the classpath only depends on the pom.
cpfile="$repo/.cache/kafka/classpath.txt"
cluster_id="MartLocalKafkaCluster0" # 22 chars of URL-safe base64 = a 16-byte Kafka Uuid
ready_timeout=90

now_ms() {
  if [[ -n "${EPOCHREALTIME:-}" ]]; then local t="${EPOCHREALTIME/[.,]/}"; echo $((t / 1000)); else echo $((SECONDS * 1000)); fi
}
elapsed() { local ms=$(($(now_ms) - $1)); printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100)); }

need() { command -v "$1" >/dev/null 2>&1 || { echo "kafka.sh: '$1' not found on PATH: $2" >&2; exit 1; }; }

# The pid in the pid file, if that process is alive and is the broker of this KAFKA_HOME_DIR
# (a stale pid file whose pid was reused by something else must not count, nor be killed by stop).
broker_pid() {
  [[ -f "$pidfile" ]] || return 1
  local pid cmd
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"; else cmd="$(ps -o args= -p "$pid" 2>/dev/null || true)"; fi
  [[ "$cmd" == *kafka.Kafka*"$props"* ]] || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pom_sum() { cksum <"$pom" | tr -d ' \t'; }

classpath() {
  if [[ -s "$cpfile" && -f "$cpfile.pom" && "$(cat "$cpfile.pom")" == "$(pom_sum)" ]]; then
    local ok=1 jar jars
    IFS=: read -r -a jars <"$cpfile"
    for jar in "${jars[@]}"; do [[ -f "$jar" ]] || { ok=0; break; }; done
    if [[ $ok == 1 && ${#jars[@]} -gt 0 ]]; then cat "$cpfile"; return; fi
  fi
  need mvn "Maven resolves the Kafka broker jars from Maven Central (apt-get install maven)"
  echo "kafka.sh: resolving the Kafka classpath with Maven (cached for later starts)..." >&2
  mkdir -p "$(dirname "$cpfile")"
  local tmp="$cpfile.$$.tmp" mvnlog="$cpfile.mvn.log"
  if ! mvn -B -q -Dstyle.color=never -f "$pom" \
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:build-classpath \
    -Dmdep.includeScope=runtime -Dmdep.outputFile="$tmp" >"$mvnlog" 2>&1 || [[ ! -s "$tmp" ]]; then
    rm -f "$tmp"
    echo "kafka.sh: Maven could not resolve the classpath from $pom:" >&2
    cat "$mvnlog" >&2
    exit 1
  fi
  mv "$tmp" "$cpfile"
  pom_sum >"$cpfile.pom"
  cat "$cpfile"
}

write_props() {
  cat >"$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$data
num.partitions=3
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
PROPS
}

start() {
  local pid
  if pid="$(broker_pid)"; then
    echo "kafka already running (pid $pid) on 127.0.0.1:$port"
    return 0
  fi
  rm -f "$pidfile"
  need java "OpenJDK 17 runs the broker (apt-get install openjdk-17-jre-headless)"
  need bun "the readiness check is a Bun script"
  local t0 p
  t0="$(now_ms)"
  # Something else on our ports would make the readiness check pass against the wrong broker.
  for p in "$port" "$controller_port"; do
    if port_open "$p"; then
      echo "kafka.sh: 127.0.0.1:$p is already in use by another process (not the broker of $home);" \
        "stop it or choose another KAFKA_PORT" >&2
      exit 1
    fi
  done
  local cp
  cp="$(classpath)"
  write_props
  if [[ "${KAFKA_KEEP_DATA:-0}" != 1 ]]; then rm -rf "$data"; fi
  local jvm=(java ${KAFKA_JVM_OPTS:--Xms256m -Xmx512m -XX:+UseSerialGC} -Djava.awt.headless=true -cp "$cp")
  if ! "${jvm[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$props" --ignore-formatted \
    >"$home/format.log" 2>&1; then
    echo "kafka.sh: formatting $data failed:" >&2
    cat "$home/format.log" >&2
    exit 1
  fi
  # Not a job-control shell, so setsid does not fork and $! is the JVM itself (its own session:
  # a Ctrl-C in the terminal that started it does not reach it).
  setsid nohup "${jvm[@]}" kafka.Kafka "$props" >"$logfile" 2>&1 </dev/null &
  local launched=$!
  echo "$launched" >"$pidfile"
  local deadline=$(($(now_ms) + ready_timeout * 1000))
  while (($(now_ms) < deadline)); do
    # Alive is enough here: until setsid and nohup have exec'd the JVM, the process's command line
    # is not yet the broker's, and broker_pid (made for stale pid files) would call it gone.
    pid="$launched"
    if ! kill -0 "$launched" 2>/dev/null; then
      echo "kafka.sh: the broker exited during startup; last lines of $logfile:" >&2
      tail -n 40 "$logfile" >&2
      rm -f "$pidfile"
      exit 1
    fi
    if bun "$here/kafka-ready.ts" "127.0.0.1:$port" >/dev/null 2>&1; then
      echo "kafka ready on 127.0.0.1:$port (pid $pid, started in $(elapsed "$t0"))"
      return 0
    fi
    sleep 0.5
  done
  echo "kafka.sh: the broker did not answer within ${ready_timeout} s; last lines of $logfile:" >&2
  tail -n 40 "$logfile" >&2
  stop >&2
  exit 1
}

stop() {
  local pid
  if ! pid="$(broker_pid)"; then
    rm -f "$pidfile"
    echo "kafka not running"
    return 0
  fi
  stop_process kafka "$pid" "$pidfile" 30
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    if pid="$(broker_pid)"; then echo "running (pid $pid)"; else echo "not running"; exit 1; fi
    ;;
  *) echo "usage: bash scripts/kafka.sh start|stop|status" >&2; exit 2 ;;
esac
