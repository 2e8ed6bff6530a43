#!/usr/bin/env bash
# Runs the system locally (the README's run command).
# At this stage of the project only the infrastructure exists: this makes sure
# PostgreSQL and RabbitMQ are running (found, started, or installed), builds the
# workspace, and says what is not there yet.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REPO_ROOT"

ensure_rust
ensure_postgres
ensure_rabbitmq

say "building the workspace"
cargo build --workspace --locked

say "infrastructure is up: PostgreSQL at $PG_HOST:$PG_PORT, RabbitMQ at $(amqp_host_port | tr ' ' ':')"
warn "order-svc, customer-svc and the UI are not implemented yet (see the open issues); nothing else to start"
