#!/usr/bin/env bash
# Benchmarks that print figures, in release mode, against the local broker.
#   ./scripts/bench.sh rpc     RPC round trips/s and p50/p99 at 1 and 64 in flight,
#                              events published/s with confirms
#   ./scripts/bench.sh checkout the whole checkout saga, both services as release
#                              processes, beside pgbench at 1, 16 and 64 clients
#                              (settings: scripts/lib/bench_checkout.sh)
#   ./scripts/bench.sh         every benchmark
# BENCH_SECONDS sets how long each scenario runs. --yes (or ASSUME_YES=1):
# install PostgreSQL or RabbitMQ, if missing, without asking.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/bench_checkout.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/bench_checkout.sh"
take_yes_flag "$@"
set -- "${ARGS[@]}"
cd "$REPO_ROOT"

what="${1:-all}"
case "$what" in
  rpc|checkout|all) ;;
  *) die "unknown benchmark '$what' (known: rpc, checkout, all)" ;;
esac

ensure_rust
ensure_rabbitmq
[ "$what" = rpc ] || ensure_postgres

if [ "$what" = rpc ] || [ "$what" = all ]; then
  say "building the RPC benchmark (release)"
  cargo build --release --locked -p amqp --example rpc_bench
  say "running the RPC benchmark"
  ./target/release/examples/rpc_bench
fi

if [ "$what" = checkout ] || [ "$what" = all ]; then
  bench_checkout
fi
