# Shared by the scripts that run a test engine in a directory of its own
# (clickhouse.sh, zookeeper.sh, nats-cluster.sh): sourced, never run.
#
#   service_args "$@"        # sets cmd and dir (absolute, created) from "start|stop DIR"
#   stop_pidfile FILE        # SIGTERM, up to 10 s, then SIGKILL; removes FILE
#   apt_package PKG LOG      # installs Debian's PKG when asked (apt-get update once if needed)
#   free PORT                # nothing accepts connections on 127.0.0.1:PORT

service_args() {
  cmd="${1:-}"
  dir="${2:-}"
  if [ -z "$dir" ] || { [ "$cmd" != start ] && [ "$cmd" != stop ]; }; then
    echo "usage: $0 start|stop DIR" >&2
    exit 2
  fi
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
}

stop_pidfile() {
  if [ -f "$1" ]; then
    local pid
    pid="$(cat "$1")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$1"
  fi
}

apt_package() {
  # The lists may be missing or old on a fresh machine: update once, only if needed.
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >"$2" 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$2" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >>"$2" 2>&1 ||
      { echo "apt-get install $1 failed:" >&2; tail -n 20 "$2" >&2; exit 1; }
  fi
}

free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
