# shellcheck shell=bash
# `scripts/bench.sh checkout`: the checkout saga as it is deployed. Both
# services run as their own release processes on fresh databases and a fresh
# namespace; examples/checkout_load.rs drives POST /api/v1/orders at 1, 16
# and 64 clients (the hot item, 64 products, returning customers), and
# PostgreSQL's own pgbench (TPC-B-like, scale 64) runs at the same
# concurrencies in the same run, as the yardstick.
#   BENCH_SECONDS   seconds per scenario (default 10)
#   BENCH_CLIENTS   client counts (default "1 16 64")
#   BENCH_SCENARIOS scenarios (default "hot spread returning")
#   BENCH_SCALE     pgbench's scale (default 64; at least the largest client count)
#   BENCH_PROFILE   release (default, built here) or debug (the binaries
#                   `cargo test` built: the CI guard, which costs no build)
#   BENCH_MIN_RATIO fail when a scenario's checkouts/s fall below this many
#                   times pgbench's tps (the CI guard's collapse threshold)

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

bench_checkout() {
  local seconds="${BENCH_SECONDS:-10}" levels="${BENCH_CLIENTS:-1 16 64}"
  local scenarios="${BENCH_SCENARIOS:-hot spread returning}" scale="${BENCH_SCALE:-64}"
  local profile="${BENCH_PROFILE:-release}"
  BENCH_BIN="$REPO_ROOT/target/$profile"
  local run
  run="bench_$(date +%s)_$$"
  local orders_db="orders_$run" customers_db="customers_$run" pgbench_db="pgbench_$run"
  local server="postgres://postgres@$PG_HOST:$PG_PORT"
  local logs="$REPO_ROOT/target/bench/$run"
  mkdir -p "$logs"

  if [ "$profile" = release ]; then
    say "building order-svc, customer-svc and the load driver (release)"
    cargo build --release --locked -p order-svc -p customer-svc --bins --example checkout_load
  fi
  local binary
  for binary in order-svc customer-svc examples/checkout_load; do
    [ -x "$BENCH_BIN/$binary" ] || die "$BENCH_BIN/$binary is missing (BENCH_PROFILE=$profile: build it first)"
  done

  BENCH_PIDS=()
  BENCH_NAMESPACE="$run"
  BENCH_DATABASES=("$orders_db" "$customers_db" "$pgbench_db")
  trap bench_checkout_cleanup EXIT
  for database in "${BENCH_DATABASES[@]}"; do
    psql_admin -c "CREATE DATABASE \"$database\"" >/dev/null || die "cannot create database $database"
  done

  local customer_port order_port
  customer_port="$(free_port)"
  order_port="$(free_port)"
  local common=(AMQP_URL="$AMQP_URL" AMQP_NAMESPACE="$run" AMQP_QUEUE_EXPIRY_MS=60000
                ADMIN_TOKEN=bench-admin-token LOG_FORMAT=json)
  say "starting customer-svc on 127.0.0.1:$customer_port and order-svc on 127.0.0.1:$order_port (logs: ${logs#"$REPO_ROOT"/})"
  env -u RUST_LOG "${common[@]}" DATABASE_URL="$server/$customers_db" HTTP_ADDR="127.0.0.1:$customer_port" \
    DEFAULT_CREDIT_LIMIT=1000000.00 "$BENCH_BIN/customer-svc" >"$logs/customer-svc.log" 2>&1 &
  BENCH_PIDS+=("$!")
  local customer_pid="$!"
  env -u RUST_LOG "${common[@]}" DATABASE_URL="$server/$orders_db" HTTP_ADDR="127.0.0.1:$order_port" \
    CHECKOUT_RATE_PER_MINUTE=100000000 UI_DIR=/nonexistent "$BENCH_BIN/order-svc" >"$logs/order-svc.log" 2>&1 &
  BENCH_PIDS+=("$!")
  local order_pid="$!"
  local order_url="http://127.0.0.1:$order_port"
  wait_until 60 curl -fsS "$order_url/readyz" || die "order-svc did not get ready (see $logs/order-svc.log)"
  wait_until 60 curl -fsS "http://127.0.0.1:$customer_port/readyz" || die "customer-svc did not get ready (see $logs/customer-svc.log)"

  say "creating the products: one hot item and 64 others"
  local hot spread=() n
  hot="$(bench_product "$order_url" HOT)"
  for n in $(seq 1 64); do spread+=("$(bench_product "$order_url" "P$n")"); done
  local spread_ids
  spread_ids="$(IFS=,; echo "${spread[*]}")"

  say "pgbench -i -s $scale (the yardstick's tables)"
  pgbench -h "$PG_HOST" -p "$PG_PORT" -U postgres -i -s "$scale" -q "$pgbench_db" >"$logs/pgbench-init.log" 2>&1 \
    || die "pgbench could not initialise (see $logs/pgbench-init.log)"

  say "warming up (3 s, 4 clients)"
  bench_load 4 3 "$hot" new warm-up "" >/dev/null

  local header="| scenario | clients | checkouts/s | × pgbench | p50 / p90 / p99 / max ms | errors / not confirmed | commits per checkout: orders / customers | CPU ms per checkout | to history p50 / p99 ms | RSS MiB idle / peak |"
  local rows=() pgbench_rows=() clients scenario tps latency
  for clients in $levels; do
    say "pgbench, $clients clients, $seconds s"
    pgbench -h "$PG_HOST" -p "$PG_PORT" -U postgres -n -c "$clients" -j 2 -T "$seconds" "$pgbench_db" >"$logs/pgbench-$clients.log" 2>&1 \
      || die "pgbench failed (see $logs/pgbench-$clients.log)"
    tps="$(awk '/^tps = / { print $3; exit }' "$logs/pgbench-$clients.log")"
    latency="$(awk '/^latency average = / { print $4; exit }' "$logs/pgbench-$clients.log")"
    pgbench_rows+=("| $clients | $tps | $latency |")
    for scenario in $scenarios; do
      say "checkouts: $scenario, $clients clients, $seconds s"
      case "$scenario" in
        hot) rows+=("$(bench_load "$clients" "$seconds" "$hot" new "one product, new customers" "$tps")") ;;
        spread) rows+=("$(bench_load "$clients" "$seconds" "$spread_ids" new "64 products, new customers" "$tps")") ;;
        returning) rows+=("$(bench_load "$clients" "$seconds" "$hot" returning "one product, returning customers" "$tps")") ;;
        *) die "unknown scenario $scenario (known: hot spread returning)" ;;
      esac
      printf '%s\n' "${rows[-1]}"
    done
  done

  echo
  echo "pgbench (TPC-B-like, scale $scale), $seconds s per level:"
  echo "| clients | tps | latency average ms |"
  echo "|---:|---:|---:|"
  printf '%s\n' "${pgbench_rows[@]}"
  echo
  echo "checkout saga, both services as $profile processes, $seconds s per scenario:"
  echo "$header"
  echo "|---|---:|---:|---:|---|---|---|---:|---|---|"
  printf '%s\n' "${rows[@]}"
}

# Creates a product with plenty of stock; prints its id.
bench_product() {
  curl -fsS -X POST "$1/api/v1/products" -H 'authorization: Bearer bench-admin-token' \
    -H 'content-type: application/json' \
    -d "{\"sku\": \"BENCH-$2\", \"name\": \"Bench $2\", \"price\": \"1.00\", \"currency\": \"EUR\", \"stock\": 1000000, \"category\": \"Bench\"}" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}

# bench_load CLIENTS SECONDS PRODUCTS new|returning LABEL PGBENCH_TPS
bench_load() {
  ORDER_URL="$order_url" ORDERS_DB_URL="$server/$orders_db" CUSTOMERS_DB_URL="$server/$customers_db" \
    ORDER_PID="$order_pid" CUSTOMER_PID="$customer_pid" CLIENTS="$1" SECONDS="$2" PRODUCTS="$3" \
    CUSTOMERS="$4" LABEL="$5" PGBENCH_TPS="$6" MIN_RATIO="${BENCH_MIN_RATIO:-}" "$BENCH_BIN/examples/checkout_load"
}

bench_checkout_cleanup() {
  local pid database
  for pid in "${BENCH_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${BENCH_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -z "${BENCH_NAMESPACE:-}" ] || TEARDOWN_NAMESPACE="$BENCH_NAMESPACE" "$BENCH_BIN/examples/checkout_load" \
    || warn "could not delete the benchmark's queues and exchanges ($BENCH_NAMESPACE)"
  for database in "${BENCH_DATABASES[@]}"; do
    psql_admin -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
