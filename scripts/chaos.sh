#!/usr/bin/env bash
# The fault suite (order-svc/examples/chaos): each scenario under concurrent
# checkout load, then the invariant checker; prints a table of checkouts,
# confirmed, lost, oversold, double counted and credit off per scenario, and
# fails unless the last four are zero everywhere. It runs both services as
# processes on fresh databases and RabbitMQ nodes of its own (never the
# broker at AMQP_URL), on loopback ports the OS picks; the scenarios in which
# PostgreSQL itself refuses a service put its database on a PostgreSQL
# server of the suite's own (initdb in the temporary folder). It needs
# PostgreSQL and an installed rabbitmq-server. About ten minutes. --yes (or
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
# The refusal scenarios restart and exhaust a PostgreSQL server of the
# suite's own: the newest installed server's initdb and pg_ctl.
initdb="$(find /usr/lib/postgresql -path '*/bin/initdb' 2>/dev/null | sort -V | tail -n 1)"
[ -n "$initdb" ] || die "PostgreSQL's initdb is not installed (the suite starts a server of its own)"
export CHAOS_PG_BIN="${initdb%/initdb}"
own_postgres="${TMPDIR:-/tmp}/chaos-$CHAOS_RUN-postgres"

# Whatever happens to the suite, its nodes and databases go with it.
cleanup() {
  local pid_file database
  for pid_file in "$CHAOS_WORK"/node*/pid "$own_postgres"/cluster/postmaster.pid; do
    if [ -f "$pid_file" ]; then kill -KILL "$(head -n 1 "$pid_file")" 2>/dev/null || true; fi
  done
  rm -rf "$own_postgres"
  for database in $(psql_admin -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'chaos\\_${CHAOS_RUN}\\_%'" 2>/dev/null); do
    psql_admin -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT
say "fault suite (logs: ${CHAOS_WORK#"$REPO_ROOT"/})"
"$CHAOS_BIN/examples/chaos"
