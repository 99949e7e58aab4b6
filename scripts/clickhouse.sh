#!/usr/bin/env bash
# A ClickHouse server on this machine, for the tests of the cluster mode (issue 17,
# docs/cluster.md): Debian's clickhouse-server (18.16), installed with apt-get when it is
# missing, started by hand with a configuration of our own in DIR (the package's service
# start is denied where there is no init system), listening on 127.0.0.1 only, its data
# in DIR. The tests reach it over its HTTP interface.
#
#   scripts/clickhouse.sh start DIR   # installs if needed, starts, waits for /ping; prints the HTTP URL
#   scripts/clickhouse.sh stop DIR    # stops the server started in DIR
#
# Ports: HTTP the first free one of 127.0.0.1:18123-18139, native TCP that one + 1000,
# replication (interserver HTTP) that one + 2000 (away from 9000, often taken, and from
# the NATS test cluster's 1423x-1425x).
#
# With CLICKHOUSE_ZOOKEEPER=HOST:PORT (scripts/zookeeper.sh prints it) the server uses
# that ZooKeeper, for Replicated tables (mailtrail --clickhouse-replicated), and names
# itself CLICKHOUSE_REPLICA (default: replica_<http port>) in the {replica} macro.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
service_args "$@"

stop() { stop_pidfile "$dir/clickhouse.pid"; }

if [ "$cmd" = stop ]; then stop; exit 0; fi

stop
if ! command -v clickhouse-server >/dev/null; then
  apt_package clickhouse-server "$dir/apt.log"
fi

http=""
for p in $(seq 18123 18139); do
  if free "$p" && free "$((p + 1000))" && free "$((p + 2000))"; then http="$p"; break; fi
done
if [ -z "$http" ]; then
  echo "no free port in 127.0.0.1:18123-18139 for ClickHouse" >&2
  exit 1
fi

mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas"
replication=""
if [ -n "${CLICKHOUSE_ZOOKEEPER:-}" ]; then
  replication="<zookeeper><node><host>${CLICKHOUSE_ZOOKEEPER%:*}</host><port>${CLICKHOUSE_ZOOKEEPER##*:}</port></node></zookeeper>
  <macros><replica>${CLICKHOUSE_REPLICA:-replica_$http}</replica></macros>
  <interserver_http_port>$((http + 2000))</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>"
fi
cat >"$dir/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>2000000000</max_memory_usage>
      <load_balancing>random</load_balancing>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default>
  </quotas>
</yandex>
EOF
cat >"$dir/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>$dir/clickhouse.log</log>
    <errorlog>$dir/clickhouse.err.log</errorlog>
    <size>100M</size>
    <count>2</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$http</http_port>
  <tcp_port>$((http + 1000))</tcp_port>
  <max_connections>256</max_connections>
  <keep_alive_timeout>3</keep_alive_timeout>
  <max_concurrent_queries>50</max_concurrent_queries>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <mark_cache_size>268435456</mark_cache_size>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  $replication
</yandex>
EOF

# The server runs as whoever starts it (root in CI): DIR may be a private temporary
# directory that the clickhouse user cannot enter.
clickhouse-server --config-file="$dir/config.xml" </dev/null >"$dir/stdout.log" 2>&1 &
echo $! >"$dir/clickhouse.pid"

# ping: GET /ping answers "Ok." (bash's /dev/tcp: curl may not be installed yet).
ping() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "GET /ping HTTP/1.0\r\n\r\n" >&3 && grep -q "^Ok\." <&3' _ "$http" 2>/dev/null
}
url="http://127.0.0.1:$http"
for _ in $(seq 300); do
  if ping; then
    echo "$url"
    exit 0
  fi
  if ! kill -0 "$(cat "$dir/clickhouse.pid")" 2>/dev/null; then break; fi
  sleep 0.2
done
echo "ClickHouse in $dir did not answer $url/ping; its logs:" >&2
tail -n 20 "$dir/stdout.log" "$dir/clickhouse.err.log" >&2 2>/dev/null || true
stop
exit 1
