#!/usr/bin/env bash
# A three-server NATS JetStream cluster on this machine, for the tests of the event log on
# an external JetStream (the cluster mode's log). The servers are built from the
# nats-server module version go.mod pins (Debian's 2.9 package has no sync_interval and
# must never acknowledge a write), every write is synced before it is acknowledged
# (sync_interval: always), and a message may be as large as the log's group messages.
#
#   scripts/nats-cluster.sh start DIR   # builds, starts, waits for JetStream; prints the client URLs
#   scripts/nats-cluster.sh stop DIR    # stops the servers started in DIR
#
# Ports: clients 127.0.0.1:14231-14233, routes 14241-14243, monitoring 14251-14253.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
service_args "$@"

stop() {
  for i in 1 2 3; do
    if [ -f "$dir/n$i.pid" ]; then
      kill "$(cat "$dir/n$i.pid")" 2>/dev/null || true
    fi
  done
  for i in 1 2 3; do
    if [ -f "$dir/n$i.pid" ]; then
      pid="$(cat "$dir/n$i.pid")"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/n$i.pid"
    fi
  done
}

if [ "$cmd" = stop ]; then stop; exit 0; fi

stop
# Another cluster on these ports (one started from another directory) would answer the
# readiness checks below while this directory's servers fail to bind and exit: the tests
# would then run against servers whose processes they cannot kill.
for i in 1 2 3; do
  if curl -fsS "http://127.0.0.1:1425$i/healthz" >/dev/null 2>&1; then
    echo "a NATS server already answers on 127.0.0.1:1425$i (a cluster started from another directory?): stop it first (scripts/nats-cluster.sh stop ITS_DIR)" >&2
    exit 1
  fi
done
go build -o "$dir/nats-server" github.com/nats-io/nats-server/v2
routes="nats://127.0.0.1:14241,nats://127.0.0.1:14242,nats://127.0.0.1:14243"
for i in 1 2 3; do
  mkdir -p "$dir/n$i"
  cat >"$dir/n$i.conf" <<EOF
server_name: mt-n$i
listen: 127.0.0.1:1423$i
http: 127.0.0.1:1425$i
max_payload: 8MB
jetstream {
  store_dir: "$dir/n$i"
  sync_interval: always
}
cluster {
  name: mailtrail-test
  listen: 127.0.0.1:1424$i
  routes: [$routes]
}
EOF
  "$dir/nats-server" -c "$dir/n$i.conf" -l "$dir/n$i.log" </dev/null >/dev/null 2>&1 &
  echo $! >"$dir/n$i.pid"
done

# Ready when every server says JetStream is up and the cluster has a meta leader.
for _ in $(seq 300); do
  ok=0
  for i in 1 2 3; do
    if curl -fsS "http://127.0.0.1:1425$i/healthz" >/dev/null 2>&1; then ok=$((ok + 1)); fi
  done
  for i in 1 2 3; do
    if ! kill -0 "$(cat "$dir/n$i.pid")" 2>/dev/null; then
      echo "nats-server n$i of $dir exited; its log:" >&2
      tail -n 5 "$dir/n$i.log" >&2 || true
      stop
      exit 1
    fi
  done
  if [ "$ok" = 3 ] && curl -fsS "http://127.0.0.1:14251/jsz" 2>/dev/null | grep -q '"leader"'; then
    echo "nats://127.0.0.1:14231,nats://127.0.0.1:14232,nats://127.0.0.1:14233"
    exit 0
  fi
  sleep 0.2
done
echo "the NATS cluster in $dir did not become ready; its logs:" >&2
tail -n 20 "$dir"/n*.log >&2 || true
stop
exit 1
