#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, then runs vet,
# every test (real SQLite files, the real HTTP server, the real binary killed under load)
# and every fuzz target briefly. A missing tool or service fails the run; it never skips.
#
#   ./scripts/test.sh            # everything
#   FUZZTIME=30s ./scripts/test.sh
#   ./scripts/test.sh quick      # gofmt, go vet and the unit tests (-short): no browser,
#                                # no race step, no fuzzing; a few minutes, for every change
#
# Temporary logs go to a directory of their own per run (printed at the start, removed at
# a successful end, kept after a failure).
set -euo pipefail
cd "$(dirname "$0")/.."

MODE="${1:-full}"
case "$MODE" in
  full|quick) ;;
  *) echo "usage: $0 [quick]" >&2; exit 2 ;;
esac

export MAILTRAIL_REQUIRE_SERVICES=1
FUZZTIME="${FUZZTIME:-8s}"
# An input that reaches new code is minimized before fuzzing goes on, for up to a minute
# by default: longer than a target's whole turn here. Inputs that the JSON decoders of
# internal/esp and internal/httpd make interesting took that minute, so a target ran a few
# hundred inputs in its turn and ended mid-minimization. Two seconds keep it fuzzing; a
# failing input is still saved, only less shrunk.
FUZZMIN="${FUZZMIN:-2s}"
LOGDIR="$(mktemp -d "${TMPDIR:-/tmp}/mailtrail-test.XXXXXX")"
FUZZLOG="$LOGDIR/fuzz.log"
NATSDIR="$LOGDIR/nats"
CHDIR="$LOGDIR/clickhouse"
ZKDIR="$LOGDIR/zookeeper"
CHR1="$LOGDIR/clickhouse-r1"
CHR2="$LOGDIR/clickhouse-r2"
cleanup() {
  if [ -d "$NATSDIR" ]; then scripts/nats-cluster.sh stop "$NATSDIR" || true; fi
  for d in "$CHDIR" "$CHR1" "$CHR2"; do
    if [ -d "$d" ]; then scripts/clickhouse.sh stop "$d" || true; fi
  done
  if [ -d "$ZKDIR" ]; then scripts/zookeeper.sh stop "$ZKDIR" || true; fi
}
trap 'status=$?; cleanup; if [ $status -eq 0 ]; then rm -rf "$LOGDIR"; else echo "logs kept in $LOGDIR" >&2; fi' EXIT

step() { printf '\n==> %s\n' "$*"; }
echo "mode $MODE, logs in $LOGDIR"

if [ "$MODE" = quick ]; then
  step "gofmt and go vet"
  unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
  if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted" >&2; exit 1; fi
  go vet ./...
  step "unit tests (-short: the long end-to-end runs skip themselves)"
  # The browser tests need Chromium, which quick mode does not install: they are left out.
  env -u MAILTRAIL_REQUIRE_SERVICES go test -count=1 -short -timeout 20m -skip 'TestBrowser' ./...
  step "quick checks passed (run ./scripts/test.sh for everything)"
  exit 0
fi

step "toolchain"
command -v go >/dev/null || { echo "go is not installed (need Go 1.26+): see README" >&2; exit 1; }
go version

step "modules"
go mod download
go mod verify

step "services the tests need"
# The embedded store needs none. The cluster mode's (docs/cluster.md): the machine's
# PostgreSQL, started by scripts/services.sh if it is not running; ClickHouse and the
# JetStream cluster below.
scripts/services.sh
export MAILTRAIL_TEST_POSTGRES_DSN="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
# The dashboard's browser tests drive a real headless Chromium (Debian's package).
scripts/chromium.sh
# The README tour and GENERIC.md example tests run their shell blocks with curl and openssl;
# the deployment guide's test checks its unit with systemd-analyze (Debian's systemd) and its
# proxy configurations with caddy and nginx.
if ! command -v curl >/dev/null || ! command -v openssl >/dev/null || ! command -v caddy >/dev/null || ! command -v nginx >/dev/null || ! command -v systemd-analyze >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl openssl caddy nginx-light systemd >/dev/null
fi
# The event log on an external JetStream (the cluster mode's log): three nats-server
# processes built from the module version go.mod pins, every write synced before its
# acknowledgement (internal/store/eventlog/external_test.go kills their stream leader).
MAILTRAIL_TEST_NATS_URL="$(scripts/nats-cluster.sh start "$NATSDIR")"
export MAILTRAIL_TEST_NATS_URL MAILTRAIL_TEST_NATS_DIR="$NATSDIR"
echo "JetStream cluster: $MAILTRAIL_TEST_NATS_URL"
# Debian's ClickHouse (18.16), installed if missing, started in this run's directory on a
# free port of 127.0.0.1:18123-18139 (cluster check's tests, cmd/mailtrail/cluster*_test.go).
MAILTRAIL_TEST_CLICKHOUSE_URL="$(scripts/clickhouse.sh start "$CHDIR")"
export MAILTRAIL_TEST_CLICKHOUSE_URL
echo "ClickHouse: $MAILTRAIL_TEST_CLICKHOUSE_URL"
# Two more ClickHouse servers, replicas of each other through Debian's ZooKeeper (3.8,
# installed if missing), for the Replicated tables (--clickhouse-replicated,
# internal/store/clickhouse/replicated_test.go).
zk="$(scripts/zookeeper.sh start "$ZKDIR")"
echo "ZooKeeper: $zk"
r1="$(CLICKHOUSE_ZOOKEEPER="$zk" CLICKHOUSE_REPLICA=r1 scripts/clickhouse.sh start "$CHR1")"
r2="$(CLICKHOUSE_ZOOKEEPER="$zk" CLICKHOUSE_REPLICA=r2 scripts/clickhouse.sh start "$CHR2")"
export MAILTRAIL_TEST_CLICKHOUSE_REPLICAS="$r1,$r2"
echo "ClickHouse replicas: $MAILTRAIL_TEST_CLICKHOUSE_REPLICAS"

step "gofmt and go vet"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted" >&2; exit 1; fi
go vet ./...

# The tests that kill or restart the shared JetStream cluster's servers run alone, after
# the others: an election in the middle of another package's test makes that test's
# stream requests time out.
KILLS='^(TestExternalLeaderKilledUnderLoad|TestClusterPipelineLeaderKilledUnderLoad|TestClusterPipelineRollingRestartUnderLoad)$'

step "tests"
go test -count=1 -timeout 20m -skip "$KILLS" ./...

# Cluster tests whose processes get their flags from the test itself, never from
# MAILTRAIL_TEST_EVENT_LOG: the second step would run them unchanged.
MODELESS='^(TestClusterNodeCutOffStopsAcknowledging|TestWorkersShareThePartitions|TestClusterPartitionsWorkersKilledUnderLoad|TestClusterAPINodesKilledUnderLoad|TestAPINodesShareOneCluster|TestAPINodeSegmentSnapshot|TestClusterMovesToAStreamWithMorePartitions|TestRetriedErasureGetsPostgresID|TestWorkerStoppedWhileWaitingStopsCleanly|TestServeLowersTheProjector)$'

step "every harness test again on the event log's write path (MAILTRAIL_TEST_EVENT_LOG=1: serve --event-log, reads after the log's writes)"
MAILTRAIL_TEST_EVENT_LOG=1 go test -count=1 -timeout 20m -skip "$KILLS|$MODELESS" ./cmd/mailtrail

step "the tests that kill the JetStream cluster's servers, alone"
go test -count=1 -timeout 10m -p 1 -run "$KILLS" ./internal/store/eventlog ./cmd/mailtrail

step "race detector on the concurrent core"
go test -count=1 -race -timeout 10m ./internal/ingest/... ./internal/token/... ./internal/rules/... ./internal/metrics/... ./internal/classify/...

step "fuzz targets (${FUZZTIME} each)"
while read -r pkg target; do
  echo "--- $target ($pkg)"
  if ! go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" -fuzzminimizetime="$FUZZMIN" "$pkg" >"$FUZZLOG" 2>&1; then
    cat "$FUZZLOG"
    # Go's fuzz coordinator can report "context deadline exceeded" as -fuzztime ends
    # without having found anything: a race in the coordinator (golang/go#75804, fixed in
    # Go 1.27), more frequent on a loaded 2-core machine. No input is saved then. A real
    # crash always saves its input under testdata/fuzz and fails at once. So, only in that
    # case: retry once; if the race strikes again, replay the target's corpus without
    # fuzzing (deterministic) and go on when it passes.
    if grep -q "context deadline exceeded" "$FUZZLOG" && ! grep -q "Failing input written" "$FUZZLOG"; then
      echo "--- $target: coordinator timeout without a failing input; retrying once"
      if ! go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" -fuzzminimizetime="$FUZZMIN" -parallel=1 "$pkg" >"$FUZZLOG" 2>&1; then
        cat "$FUZZLOG"
        if grep -q "context deadline exceeded" "$FUZZLOG" && ! grep -q "Failing input written" "$FUZZLOG"; then
          echo "--- $target: the coordinator's timeout again, no failing input; replaying the corpus"
          go test -count=1 -run="^${target}\$" "$pkg" || exit 1
        else
          exit 1
        fi
      fi
    else
      exit 1
    fi
  fi
done < <(grep -rlE '^func Fuzz' --include='*_test.go' . | while read -r f; do
  for t in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)' "$f" | awk '{print $2}'); do echo "./$(dirname "${f#./}") $t"; done
done | sort)

step "all tests passed"
