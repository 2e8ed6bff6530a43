#!/usr/bin/env bash
# Every check and test, against real PostgreSQL and RabbitMQ and in headless
# Chromium (the README's test command, and what .ci/run calls).
#   ./scripts/test.sh              formatting, lints, every test
#   TEST_LOG=1 ./scripts/test.sh   ... with the services' logs in test output
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REPO_ROOT"

ensure_rust
ensure_postgres
ensure_rabbitmq
ensure_browser

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

say "building the UI (the browser test drives it)"
./scripts/build-ui.sh

say "cargo test (real PostgreSQL at $PG_HOST:$PG_PORT, real RabbitMQ at $(amqp_host_port | tr ' ' ':'))"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$log" || status=$?

# One closing line with the totals over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
[ "$status" -eq 0 ] || die "some tests failed (see above)"
