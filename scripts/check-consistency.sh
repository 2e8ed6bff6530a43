#!/usr/bin/env bash
# Checks that what the system promises holds, reading both databases (never
# writing): every customer's credit adds up, every ended order's credit is
# settled, released or free as its status says, every confirmed and
# cancelled order is in its customer's history exactly once and as such, no
# saga is stuck past its deadline and no event stuck unsent. Prints what it
# checked and what is off; exits 0 when everything holds, 1 when not, 2
# when it could not check. Run it when the system is quiet.
#   ORDERS_DATABASE_URL     default postgres://checkout:checkout@PG_HOST:PG_PORT/orders (as dev.sh makes it)
#   CUSTOMERS_DATABASE_URL  default postgres://checkout:checkout@PG_HOST:PG_PORT/customers
#   SAGA_GRACE, OUTBOX_GRACE  how late is stuck (default 60s)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REPO_ROOT"

role="${DEV_DB_USER:-checkout}:${DEV_DB_PASSWORD:-checkout}"
export ORDERS_DATABASE_URL="${ORDERS_DATABASE_URL:-postgres://$role@$PG_HOST:$PG_PORT/orders}"
export CUSTOMERS_DATABASE_URL="${CUSTOMERS_DATABASE_URL:-postgres://$role@$PG_HOST:$PG_PORT/customers}"
ensure_rust
cargo build --quiet --release -p order-svc --bin check-consistency
exec ./target/release/check-consistency
