# Sourced by the launchers (kafka.sh, stripe-mock.sh): how a process they started is stopped.

# stop_process <name> <pid> <pidfile> <grace seconds>: SIGTERM, then SIGKILL if it has not exited
# within the grace; the pid file goes either way.
stop_process() {
  local name="$1" pid="$2" pidfile="$3" grace="$4" i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 5; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pidfile"
      echo "$name stopped (pid $pid)"
      return 0
    fi
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 20; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  rm -f "$pidfile"
  echo "$name killed (pid $pid) after $grace s without exiting on SIGTERM"
}
