#!/usr/bin/env bash
# A ZooKeeper server on this machine, for ClickHouse's Replicated tables in the tests of
# the cluster mode (mailtrail --clickhouse-replicated, docs/cluster.md): Debian's
# zookeeper (3.8), installed with apt-get when it is missing, started by hand as one
# standalone server listening on 127.0.0.1 only, its data in DIR.
#
#   scripts/zookeeper.sh start DIR   # installs if needed, starts, waits for "imok"; prints HOST:PORT
#   scripts/zookeeper.sh stop DIR    # stops the server started in DIR
#
# Port: the first free one of 127.0.0.1:12181-12189.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
service_args "$@"

stop() { stop_pidfile "$dir/zookeeper.pid"; }

if [ "$cmd" = stop ]; then stop; exit 0; fi

stop
jar=/usr/share/java/zookeeper.jar
if [ ! -f "$jar" ] || ! command -v java >/dev/null; then
  # Debian's package brings its Java libraries (and a Java runtime when there is none).
  apt_package zookeeper "$dir/apt.log"
fi

port=""
for p in $(seq 12181 12189); do
  if free "$p"; then port="$p"; break; fi
done
if [ -z "$port" ]; then
  echo "no free port in 127.0.0.1:12181-12189 for ZooKeeper" >&2
  exit 1
fi

mkdir -p "$dir/data" "$dir/conf"
cat >"$dir/conf/zoo.cfg" <<CFG
tickTime=2000
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
maxClientCnxns=200
admin.enableServer=false
4lw.commands.whitelist=ruok
CFG
# Debian's zkServer.sh reads /etc/zookeeper/conf only: the server's main class is run
# directly, with a small heap.
java -Xms32m -Xmx256m -cp "$dir/conf:$jar" org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/conf/zoo.cfg" </dev/null >"$dir/zookeeper.log" 2>&1 &
echo $! >"$dir/zookeeper.pid"

ruok() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf ruok >&3 && grep -q imok <&3' _ "$port" 2>/dev/null
}
for _ in $(seq 150); do
  if ruok; then
    echo "127.0.0.1:$port"
    exit 0
  fi
  if ! kill -0 "$(cat "$dir/zookeeper.pid")" 2>/dev/null; then break; fi
  sleep 0.2
done
echo "ZooKeeper in $dir did not answer ruok on 127.0.0.1:$port; its log:" >&2
tail -n 20 "$dir/zookeeper.log" >&2 || true
stop
exit 1
