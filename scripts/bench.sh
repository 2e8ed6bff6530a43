#!/usr/bin/env bash
# Benchmarks that print figures, in release mode, against the local broker.
#   ./scripts/bench.sh rpc     RPC round trips/s and p50/p99 at 1 and 64 in flight,
#                              events published/s with confirms
#   ./scripts/bench.sh         every benchmark
# BENCH_SECONDS (default 5) sets how long each scenario runs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REPO_ROOT"

what="${1:-all}"
case "$what" in
  rpc|all) ;;
  *) die "unknown benchmark '$what' (known: rpc, all)" ;;
esac

ensure_rust
ensure_rabbitmq

if [ "$what" = rpc ] || [ "$what" = all ]; then
  say "building the RPC benchmark (release)"
  cargo build --release --locked -p messaging --example rpc_bench
  say "running the RPC benchmark"
  ./target/release/examples/rpc_bench
fi
