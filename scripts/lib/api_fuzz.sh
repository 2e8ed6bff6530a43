# shellcheck shell=bash
# `api_fuzz` (scripts/test.sh's "api fuzz" stage): schemathesis against
# both services as they run, each on its own OpenAPI document
# (/api-docs/openapi.json). Both services start as processes (the debug
# binaries `cargo test` built) on free loopback ports, with fresh databases
# and a fresh AMQP namespace; schemathesis (PyPI, pinned, installed once
# into target/api-fuzz/venv) runs every operation without a token and
# with the admin token, and fails on a 5xx or on an answer outside the
# document (an undocumented status, header or content type, or a body not
# matching its schema). The services are stopped and the databases dropped
# however it ends. Reports (JUnit) and the services' logs: target/api-fuzz/.
#   API_FUZZ_EXAMPLES   test cases per operation and phase (default 25)
#   API_FUZZ_SEED       schemathesis's seed (default 14: runs are repeatable)
#   API_FUZZ_MAX_TIME   seconds per run, four runs (default 30: the fuzzing phase
#                       repeats until its run has spent them)

# shellcheck source-path=SCRIPTDIR source=bench_checkout.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_checkout.sh" # free_port

SCHEMATHESIS_VERSION="4.32.5"
API_FUZZ_TOKEN="dev-admin-token"

# Installs schemathesis into target/api-fuzz/venv, once.
ensure_schemathesis() {
  local venv="$REPO_ROOT/target/api-fuzz/venv"
  API_FUZZ_ST="$venv/bin/schemathesis"
  local installed=""
  [ -x "$API_FUZZ_ST" ] && installed="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null || true)"
  if [ "$installed" = "$SCHEMATHESIS_VERSION" ]; then
    return 0
  fi
  command -v python3 >/dev/null 2>&1 || die "the API fuzz needs python3 (Debian/Ubuntu: sudo apt-get install python3 python3-venv)"
  say "installing schemathesis $SCHEMATHESIS_VERSION into ${venv#"$REPO_ROOT"/} (once)"
  python3 -m venv "$venv" || die "cannot make a Python venv (Debian/Ubuntu: sudo apt-get install python3-venv)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" \
    || die "cannot install schemathesis $SCHEMATHESIS_VERSION from PyPI"
}

# In a subshell, so that its EXIT trap (the clean-up) is its own.
api_fuzz() { (api_fuzz_session); }

api_fuzz_session() {
  set -euo pipefail
  ensure_schemathesis
  local bin="$REPO_ROOT/target/debug" run
  run="apifuzz_$(date +%s)_$$"
  local logs="$REPO_ROOT/target/api-fuzz/$run" server="postgres://postgres@$PG_HOST:$PG_PORT"
  local orders_db="orders_$run" customers_db="customers_$run"
  local binary
  for binary in order-svc customer-svc; do
    [ -x "$bin/$binary" ] || die "$bin/$binary is missing: build it first (cargo build -p $binary)"
  done
  mkdir -p "$logs"

  API_FUZZ_PIDS=()
  API_FUZZ_DATABASES=("$orders_db" "$customers_db")
  API_FUZZ_NAMESPACE="$run"
  trap api_fuzz_cleanup EXIT
  local database
  for database in "${API_FUZZ_DATABASES[@]}"; do
    psql_admin -c "CREATE DATABASE \"$database\"" >/dev/null || die "cannot create database $database"
  done

  local customer_port order_port
  customer_port="$(free_port)"
  order_port="$(free_port)"
  local common=(AMQP_URL="$AMQP_URL" AMQP_NAMESPACE="$run" AMQP_QUEUE_EXPIRY_MS=60000
                ADMIN_TOKEN="$API_FUZZ_TOKEN" LOG_FORMAT=json RUST_LOG=info)
  say "starting customer-svc on 127.0.0.1:$customer_port and order-svc on 127.0.0.1:$order_port (logs: ${logs#"$REPO_ROOT"/})"
  env "${common[@]}" DATABASE_URL="$server/$customers_db" HTTP_ADDR="127.0.0.1:$customer_port" \
    "$bin/customer-svc" >"$logs/customer-svc.log" 2>&1 &
  API_FUZZ_PIDS+=("$!")
  env "${common[@]}" DATABASE_URL="$server/$orders_db" HTTP_ADDR="127.0.0.1:$order_port" \
    UI_DIR=/nonexistent CUSTOMER_API_URL="http://127.0.0.1:$customer_port" \
    "$bin/order-svc" >"$logs/order-svc.log" 2>&1 &
  API_FUZZ_PIDS+=("$!")
  local port
  for port in "$customer_port" "$order_port"; do
    wait_until 60 curl -fsS "http://127.0.0.1:$port/readyz" \
      || die "the service on :$port did not get ready (see $logs)"
  done

  local failed=0 service caller
  for service in "order-svc:$order_port" "customer-svc:$customer_port"; do
    for caller in anonymous admin; do
      api_fuzz_run "${service%%:*}" "${service##*:}" "$caller" "$logs" || failed=1
    done
  done
  # The services' own record of an answer they failed (a 5xx), if any.
  grep -h '"message":"request failed"' "$logs"/*.log | head -5 || true
  [ "$failed" = 0 ] || die "schemathesis found answers outside the documents or server errors (above; reports and logs in ${logs#"$REPO_ROOT"/})"
  say "schemathesis: both services answered within their documents"
}

# api_fuzz_run SERVICE PORT anonymous|admin LOGS: one schemathesis run.
# One worker: with two, Hypothesis's threads race in CPython 3.11's parser
# ("AST constructor recursion depth mismatch", an error of the tool's).
api_fuzz_run() {
  local service="$1" port="$2" caller="$3" logs="$4"
  local auth=()
  [ "$caller" = admin ] && auth=(--header "Authorization: Bearer $API_FUZZ_TOKEN")
  say "schemathesis: $service, $caller"
  # From target/api-fuzz, where it keeps its cache (.schemathesis/).
  (cd "$REPO_ROOT/target/api-fuzz" && "$API_FUZZ_ST" run "http://127.0.0.1:$port/api-docs/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "${API_FUZZ_EXAMPLES:-25}" --seed "${API_FUZZ_SEED:-14}" \
    --max-time "${API_FUZZ_MAX_TIME:-30}" --workers 1 --request-timeout 15 \
    --suppress-health-check all --no-color \
    --report junit --report-junit-path "$logs/$service-$caller.junit.xml" \
    "${auth[@]}")
}

api_fuzz_cleanup() {
  local pid database
  for pid in "${API_FUZZ_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${API_FUZZ_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -x "$REPO_ROOT/target/debug/examples/checkout_load" ]; then
    TEARDOWN_NAMESPACE="$API_FUZZ_NAMESPACE" "$REPO_ROOT/target/debug/examples/checkout_load" \
      || warn "could not delete the fuzz run's queues and exchanges ($API_FUZZ_NAMESPACE)"
  fi
  for database in "${API_FUZZ_DATABASES[@]}"; do
    psql_admin -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
