#!/usr/bin/env bash
# Every check and test, against real PostgreSQL and RabbitMQ (the README's test
# command, and what .ci/run calls).
#   ./scripts/test.sh              formatting, lints, every test
#   TEST_LOG=1 ./scripts/test.sh   ... with the services' logs in test output
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REPO_ROOT"

ensure_rust
ensure_postgres
ensure_rabbitmq

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

say "cargo test (real PostgreSQL at $PG_HOST:$PG_PORT, real RabbitMQ at $(amqp_host_port | tr ' ' ':'))"
cargo test --workspace --locked --no-fail-fast

say "all checks and tests passed"
