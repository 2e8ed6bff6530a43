#!/usr/bin/env bash
# The fault suite (order-svc/examples/chaos): each scenario under concurrent
# checkout load, then the invariant checker; prints a table of checkouts,
# confirmed, lost, oversold, double counted and credit off per scenario, and
# fails unless the last four are zero everywhere. It runs both services as
# processes on fresh databases and RabbitMQ nodes of its own (never the
# broker at AMQP_URL), on loopback ports the OS picks; it needs PostgreSQL
# and an installed rabbitmq-server. About four minutes. --yes (or
# ASSUME_YES=1): install PostgreSQL or RabbitMQ, if missing, without asking.
#   CHAOS_SCENARIOS  scenarios to run (default all; names in the table)
#   CHAOS_CLIENTS    concurrent shoppers (default 8)
#   CHAOS_PROFILE    debug (default; what `cargo test` builds) or release
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
only_yes_flag "$@"
cd "$REPO_ROOT"

ensure_rust
ensure_postgres
ensure_rabbitmq
profile="${CHAOS_PROFILE:-debug}"
case "$profile" in
  debug) cargo build --quiet --locked -p order-svc -p customer-svc --bins --example chaos ;;
  release) cargo build --quiet --locked --release -p order-svc -p customer-svc --bins --example chaos ;;
  *) die "CHAOS_PROFILE is debug or release, not $profile" ;;
esac

server="$(command -v rabbitmq-server || true)"
[ -n "$server" ] || die "rabbitmq-server is not installed (the suite starts nodes of its own)"
# Debian's rabbitmq-server is a wrapper that runs the real script as the
# rabbitmq user; the suite runs the real ones, beside it.
RABBITMQ_SBIN="$(dirname "$(readlink -f "$server")")"
export RABBITMQ_SBIN

export CHAOS_RUN="r$$"
export CHAOS_WORK="$REPO_ROOT/target/chaos/$CHAOS_RUN"
export CHAOS_BIN="$REPO_ROOT/target/$profile"
export CHAOS_POSTGRES_URL="${CHAOS_POSTGRES_URL:-postgres://postgres@$PG_HOST:$PG_PORT}"

# Whatever happens to the suite, its nodes and databases go with it.
cleanup() {
  local pid_file database
  for pid_file in "$CHAOS_WORK"/node*/pid; do
    if [ -f "$pid_file" ]; then kill -KILL "$(cat "$pid_file")" 2>/dev/null || true; fi
  done
  for database in $(psql_admin -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'chaos\\_${CHAOS_RUN}\\_%'" 2>/dev/null); do
    psql_admin -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT
say "fault suite (logs: ${CHAOS_WORK#"$REPO_ROOT"/})"
"$CHAOS_BIN/examples/chaos"
