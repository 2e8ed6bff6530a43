#!/usr/bin/env bash
# Benchmarks that print figures, in release mode, against the local broker.
#   ./scripts/bench.sh rpc     RPC round trips/s and p50/p99 at 1 and 64 in flight,
#                              events published/s with confirms
#   ./scripts/bench.sh checkout the whole checkout saga (both services, real PostgreSQL
#                              and RabbitMQ): confirmed orders/s, p50/p99 at 1 and 16 in flight
#   ./scripts/bench.sh         every benchmark
# BENCH_SECONDS (default 5) sets how long each scenario runs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
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
  cargo build --release --locked -p messaging --example rpc_bench
  say "running the RPC benchmark"
  ./target/release/examples/rpc_bench
fi

if [ "$what" = checkout ] || [ "$what" = all ]; then
  say "building the checkout benchmark (release)"
  cargo build --release --locked -p order-svc --example checkout_bench
  say "running the checkout benchmark"
  ./target/release/examples/checkout_bench
fi
