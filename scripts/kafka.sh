#!/usr/bin/env bash
# A real single-node Apache Kafka (KRaft) without Docker: the broker's jars come from Maven Central
# through Maven (scripts/kafka/pom.xml), cached in ~/.m2 and as a classpath under .cache/kafka.
#   bash scripts/kafka.sh start | stop | status
# Env: KAFKA_PORT (9092; the controller uses KAFKA_PORT+1), KAFKA_HOME_DIR (.cache/kafka),
#      KAFKA_KEEP_DATA=1 (start on the existing log dir instead of a fresh one: for restart tests).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
port="${KAFKA_PORT:-9092}"
controller_port=$((port + 1))
home="${KAFKA_HOME_DIR:-$repo/.cache/kafka}"
mkdir -p "$home"
home="$(cd "$home" && pwd)"
pidfile="$home/broker.pid"
logfile="$home/broker.log"
cpfile="$repo/.cache/kafka-classpath.txt"

running() { [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

need() { command -v "$1" >/dev/null 2>&1 || { echo "kafka.sh: $1 is not installed ($2)" >&2; exit 1; }; }

classpath() {
  if [[ -s "$cpfile" ]]; then
    local ok=1 jar
    while IFS= read -r jar; do [[ -f "$jar" ]] || { ok=0; break; }; done < <(tr ':' '\n' <"$cpfile")
    if [[ $ok == 1 ]]; then cat "$cpfile"; return; fi
  fi
  need mvn "Maven fetches the broker jars from Maven Central"
  mkdir -p "$(dirname "$cpfile")"
  mvn -B -q -Dstyle.color=never -f "$here/kafka/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:build-classpath \
    -Dmdep.includeScope=runtime -Dmdep.outputFile="$cpfile.tmp" >&2
  mv "$cpfile.tmp" "$cpfile"
  cat "$cpfile"
}

start() {
  if running; then
    echo "kafka already running (pid $(cat "$pidfile")) on 127.0.0.1:$port"
    return 0
  fi
  need java "OpenJDK 17 runs the broker"
  local t0=$SECONDS cp
  cp="$(classpath)"
  local data="$home/data" props="$home/server.properties"
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
  if [[ "${KAFKA_KEEP_DATA:-0}" != 1 ]]; then rm -rf "$data"; fi
  local jvm=(java -Xms256m -Xmx512m -XX:+UseSerialGC -Djava.awt.headless=true -cp "$cp")
  # A fixed cluster id: a kept log dir always matches it.
  "${jvm[@]}" kafka.tools.StorageTool format -t MartLocalKafkaCluster0 -c "$props" --ignore-formatted \
    >"$home/format.log" 2>&1 || { cat "$home/format.log" >&2; exit 1; }
  setsid nohup "${jvm[@]}" -Dlog4j.configuration=none kafka.Kafka "$props" >"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
  for _ in $(seq 1 180); do
    if ! running; then
      echo "kafka.sh: the broker exited during startup; last lines of $logfile:" >&2
      tail -n 40 "$logfile" >&2
      rm -f "$pidfile"
      exit 1
    fi
    if bun "$here/kafka-ready.ts" "127.0.0.1:$port" 2>/dev/null; then
      echo "kafka ready on 127.0.0.1:$port (pid $(cat "$pidfile"), $((SECONDS - t0)) s)"
      return 0
    fi
    sleep 0.5
  done
  echo "kafka.sh: the broker did not answer within 90 s; last lines of $logfile:" >&2
  tail -n 40 "$logfile" >&2
  stop
  exit 1
}

stop() {
  if ! running; then
    rm -f "$pidfile"
    echo "kafka not running"
    return 0
  fi
  local pid
  pid="$(cat "$pidfile")"
  kill -TERM "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; echo "kafka stopped"; return 0; }
    sleep 0.5
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  echo "kafka killed after 30 s"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running (pid $(cat "$pidfile"))"; else echo "not running"; exit 1; fi ;;
  *) echo "usage: bash scripts/kafka.sh start|stop|status" >&2; exit 2 ;;
esac
