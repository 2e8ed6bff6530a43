#!/usr/bin/env bash
# Every check and test, against real PostgreSQL and RabbitMQ and in headless
# Chromium (the README's test command, and what .ci/run calls).
#   ./scripts/test.sh              formatting, lints (Rust and shell), every test
#   TEST_LOG=1 ./scripts/test.sh   ... with the services' logs in test output
#   ./scripts/test.sh --yes        ... installing missing system packages
#                                  without asking (so does ASSUME_YES=1, and CI=true)
# A missing system package (PostgreSQL, RabbitMQ, Chromium, shellcheck) is
# installed with apt-get after asking on the terminal; without a terminal and
# without --yes it stops and says so.
# Tests run under cargo-nextest, which ends a hung test after its bound
# (.config/nextest.toml). It closes with the test totals (nextest's summary)
# and with where the time went, stage by stage.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/api_fuzz.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/api_fuzz.sh"
only_yes_flag "$@"
cd "$REPO_ROOT"

# stage NAME DESCRIPTION COMMAND...: runs a stage and records how long it took.
TIMINGS=""
stage() {
  local name="$1" started=$SECONDS
  say "$2"
  shift 2
  "$@"
  TIMINGS="${TIMINGS:+$TIMINGS, }$name $((SECONDS - started)) s"
}
report_timings() { say "time: ${TIMINGS:-nothing ran}; total ${SECONDS} s"; }
trap report_timings EXIT

infrastructure() { ensure_rust; ensure_nextest; ensure_postgres; ensure_rabbitmq; ensure_browser; ensure_shellcheck; }
stage infrastructure "PostgreSQL, RabbitMQ, Chromium, shellcheck" infrastructure
stage fmt "cargo fmt --check" cargo fmt --all -- --check
stage shellcheck "shellcheck (every script)" shellcheck scripts/*.sh scripts/lib/*.sh .ci/run
stage clippy "cargo clippy (warnings are errors)" cargo clippy --workspace --all-targets --locked -- -D warnings
stage ui "building the UI (the browser test drives it)" ./scripts/build-ui.sh
stage "test build" "building the tests" cargo test --workspace --locked --no-run

run_tests() {
  cargo nextest run --workspace --locked --no-fail-fast --cargo-quiet
}
stage tests "running the tests (real PostgreSQL at $PG_HOST:$PG_PORT, real RabbitMQ at $(amqp_host_port | tr ' ' ':'))" run_tests

# schemathesis against both services as processes (the binaries the tests
# just built), each on its own OpenAPI document: no 5xx, no answer outside
# the document (scripts/lib/api_fuzz.sh).
stage "api fuzz" "schemathesis against both services' OpenAPI documents" api_fuzz

# The fault suite: each fault under checkout load, then the invariant
# checker (both services as processes, on RabbitMQ nodes of its own; the
# binaries the tests just built).
stage chaos "fault suite: seventeen faults under load (eight of them PostgreSQL refusing), then the invariant checker" ./scripts/chaos.sh

# A short checkout benchmark on the binaries the tests just built (debug: no
# build of its own), beside pgbench, failing only on a collapse. The debug
# build gives about 0.03 × pgbench at 16 clients; the release build's figures
# are `./scripts/bench.sh checkout`'s (README, Benchmarks).
stage "bench guard" "checkout benchmark guard: 16 clients, 5 s, fails below 0.02 × pgbench" \
  env BENCH_PROFILE=debug BENCH_CLIENTS=16 BENCH_SCENARIOS=hot BENCH_SECONDS=5 BENCH_SCALE=16 \
  BENCH_MIN_RATIO=0.02 ./scripts/bench.sh checkout
