#!/usr/bin/env bash
# Runs the whole system locally, in the foreground (the README's run command):
#   1. PostgreSQL and RabbitMQ: found, started, or installed (Debian/Ubuntu;
#      it asks first, unless run with --yes or ASSUME_YES=1);
#   2. a database role and one database per service;
#   3. both services and the UI built;
#   4. both services started (migrations apply at start-up), demo data seeded;
#   5. the URLs printed, then both services' logs until Ctrl-C.
# Ctrl-C stops the services, and PostgreSQL or RabbitMQ too if this script
# started them; nothing else. Running it again is safe.
# Ports: ORDER_PORT (3001), CUSTOMER_PORT (3002). Token: ADMIN_TOKEN.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
only_yes_flag "$@"
cd "$REPO_ROOT"

ORDER_PORT="${ORDER_PORT:-3001}"
CUSTOMER_PORT="${CUSTOMER_PORT:-3002}"
ADMIN_TOKEN="${ADMIN_TOKEN:-dev-admin-token}"
DB_ROLE="${DEV_DB_USER:-checkout}"
DB_PASSWORD="${DEV_DB_PASSWORD:-checkout}"
started=$SECONDS
pids=()

cleanup() {
  trap - INT TERM EXIT
  if ((${#pids[@]})); then
    say "stopping order-svc and customer-svc"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  stop_started_infrastructure
  say "stopped"
}

for port in "$ORDER_PORT" "$CUSTOMER_PORT"; do
  if tcp_open 127.0.0.1 "$port"; then
    die "something already listens on 127.0.0.1:$port (another ./scripts/dev.sh?). Stop it, or set ORDER_PORT / CUSTOMER_PORT."
  fi
done

trap cleanup INT TERM EXIT
ensure_rust
ensure_postgres
ensure_rabbitmq
ensure_jq # seed.sh's, asked for now rather than after the build
management_url=""
if command -v rabbitmq-plugins >/dev/null 2>&1 && as_root rabbitmq-plugins enable --quiet rabbitmq_management >/dev/null 2>&1; then
  management_url="http://127.0.0.1:15672 (guest/guest)"
fi
ensure_databases "$DB_ROLE" "$DB_PASSWORD" orders customers

say "building order-svc and customer-svc"
cargo build --locked -p order-svc -p customer-svc
say "building the UI"
./scripts/build-ui.sh

# Starts a service with its log lines prefixed by its name; records its pid.
start() { # name env...
  local name="$1"
  shift
  env "$@" "./target/debug/$name" > >(sed -u "s/^/[$name] /") 2>&1 &
  pids+=("$!")
}
say "starting customer-svc on :$CUSTOMER_PORT and order-svc on :$ORDER_PORT"
start customer-svc \
  DATABASE_URL="postgres://$DB_ROLE:$DB_PASSWORD@$PG_HOST:$PG_PORT/customers" \
  HTTP_ADDR="127.0.0.1:$CUSTOMER_PORT" ADMIN_TOKEN="$ADMIN_TOKEN" AMQP_URL="$AMQP_URL" \
  CORS_ORIGINS="http://127.0.0.1:$ORDER_PORT,http://localhost:$ORDER_PORT"
start order-svc \
  DATABASE_URL="postgres://$DB_ROLE:$DB_PASSWORD@$PG_HOST:$PG_PORT/orders" \
  HTTP_ADDR="127.0.0.1:$ORDER_PORT" ADMIN_TOKEN="$ADMIN_TOKEN" AMQP_URL="$AMQP_URL" \
  UI_DIR="$REPO_ROOT/ui/dist" CUSTOMER_API_URL="http://127.0.0.1:$CUSTOMER_PORT"

ready() { curl -sf -o /dev/null "http://127.0.0.1:$1/readyz"; }
for port in "$CUSTOMER_PORT" "$ORDER_PORT"; do
  wait_until 60 ready "$port" || die "the service on :$port did not become ready; see its log above"
done

say "seeding demo data"
ORDER_API="http://127.0.0.1:$ORDER_PORT" CUSTOMER_API="http://127.0.0.1:$CUSTOMER_PORT" \
  ADMIN_TOKEN="$ADMIN_TOKEN" ./scripts/seed.sh

cat <<URLS

  The shop             http://127.0.0.1:$ORDER_PORT/
  order-svc API        http://127.0.0.1:$ORDER_PORT/api/v1/products   (health: /healthz, /readyz, /metrics)
  customer-svc API     http://127.0.0.1:$CUSTOMER_PORT/api/v1/customers
  RabbitMQ management  ${management_url:-not enabled (rabbitmq-plugins enable rabbitmq_management)}
  admin token          $ADMIN_TOKEN
  demo account         account@example.com / demo-password-2026 (sign in on the shop's page)

  Up in $((SECONDS - started)) s. Logs follow; Ctrl-C stops what this script started.

URLS

# In the foreground until Ctrl-C, or until a service dies.
wait -n "${pids[@]}" || true
warn "a service exited; stopping the rest"
