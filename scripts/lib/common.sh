# shellcheck shell=bash
# Shared by the scripts: messages, and making sure PostgreSQL and RabbitMQ answer.
# Order of preference for each: use a running one; else start an installed one;
# else install it with apt-get (Debian/Ubuntu, as root or with sudo); else say
# exactly what is missing and stop.
# Installing a system package needs consent: --yes (take_yes_flag) or
# ASSUME_YES=1, or CI=true; else the script asks (y/N) on a terminal, and
# without one it stops and says how to allow it.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export REPO_ROOT

PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
export AMQP_URL="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"

say()  { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33m==> warning:\033[0m %s\n' "$*" >&2; }
die()  { printf '\033[1;31m==> error:\033[0m %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else return 1
  fi
}

# --yes, the option of every script that may install a system package: it
# consents, as ASSUME_YES=1 does (exported, so the scripts it runs have it too).
# take_yes_flag leaves the other arguments in ARGS; only_yes_flag refuses them.
ARGS=()
take_yes_flag() {
  local arg
  ARGS=()
  for arg in "$@"; do
    case "$arg" in
      --yes) export ASSUME_YES=1 ;;
      *) ARGS+=("$arg") ;;
    esac
  done
}
only_yes_flag() {
  take_yes_flag "$@"
  [ "${#ARGS[@]}" -eq 0 ] || die "unknown argument '${ARGS[0]}' (the only option is --yes: install missing system packages without asking)"
}

# consent_to_install COMMAND: whether the user lets this run COMMAND (an
# apt-get line): yes with ASSUME_YES=1 or CI=true, else asked on a terminal.
consent_to_install() {
  case "${ASSUME_YES:-}" in 1|true|yes) return 0 ;; esac
  if [ "${CI:-}" = true ]; then return 0; fi
  if [ ! -t 0 ]; then
    warn "not installing system packages without consent (no terminal to ask on): this would run
    $1
    Run the script again with --yes (or ASSUME_YES=1) to allow it, or install them yourself."
    return 1
  fi
  local answer=""
  say "missing system packages; this would run: $1" >&2
  printf '    Run it now? [y/N] ' >&2
  read -r answer || echo >&2
  case "$answer" in
    y|Y|yes|Yes|YES) return 0 ;;
    *) warn "not installing them"; return 1 ;;
  esac
}

APT_UPDATED=""
apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  local root=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || return 1
    root="sudo "
  fi
  local commands="${root}apt-get install -y $*"
  [ -n "$APT_UPDATED" ] || commands="${root}apt-get update && $commands"
  consent_to_install "$commands" || return 1
  if [ -z "$APT_UPDATED" ]; then
    say "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
    APT_UPDATED=1
  fi
  say "apt-get install -y $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || return 1
}

# Polls "$@" until it succeeds, at most $1 seconds.
wait_until() {
  local seconds="$1"; shift
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

amqp_host_port() {
  # amqp://user:pass@host:port/vhost -> "host port"
  local rest="${AMQP_URL#*://}"; rest="${rest#*@}"; rest="${rest%%/*}"; rest="${rest%%\?*}"
  local host="${rest%%:*}" port="5672"
  [ "$rest" != "$host" ] && port="${rest##*:}"
  echo "$host" "$port"
}

pg_ready() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null || tcp_open "$PG_HOST" "$PG_PORT"; }

# The versions of Debian's PostgreSQL clusters (/etc/postgresql/VERSION), one a line.
installed_postgres_versions() {
  local directory
  for directory in /etc/postgresql/*/; do
    [ -d "$directory" ] || continue
    directory="${directory%/}"
    echo "${directory##*/}"
  done
}

start_installed_postgres() {
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    local version
    for version in $(installed_postgres_versions); do
      say "starting PostgreSQL $version (pg_ctlcluster)"
      as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
    done
  elif command -v service >/dev/null 2>&1 && [ -x /etc/init.d/postgresql ]; then
    say "starting PostgreSQL (service)"
    as_root service postgresql start || true
  else
    return 1
  fi
}

# Set to 1 when these scripts started a server, so that dev.sh stops exactly
# what it started, and nothing else.
STARTED_POSTGRES=0
STARTED_RABBITMQ=0

ensure_postgres() {
  if pg_ready; then say "PostgreSQL answers on $PG_HOST:$PG_PORT"; return 0; fi
  STARTED_POSTGRES=1
  if ! start_installed_postgres; then
    say "PostgreSQL is not installed; installing it"
    apt_install postgresql postgresql-client || die "PostgreSQL is not running on $PG_HOST:$PG_PORT and could not be installed here.
    Install PostgreSQL 15 or newer and start it (Debian/Ubuntu: sudo apt-get install postgresql),
    or point PG_HOST/PG_PORT (and the services' DATABASE_URL) at a running server."
    start_installed_postgres || true
  fi
  wait_until 60 pg_ready || die "PostgreSQL was started but does not answer on $PG_HOST:$PG_PORT; see its log under /var/log/postgresql"
  say "PostgreSQL answers on $PG_HOST:$PG_PORT"
}

rabbitmq_ready() { local hp; read -r -a hp <<<"$(amqp_host_port)"; tcp_open "${hp[0]}" "${hp[1]}"; }

start_installed_rabbitmq() {
  command -v rabbitmq-server >/dev/null 2>&1 || return 1
  say "starting RabbitMQ (rabbitmq-server -detached)"
  as_root rabbitmq-server -detached >/dev/null 2>&1 || as_root service rabbitmq-server start || true
}

ensure_rabbitmq() {
  if rabbitmq_ready; then say "RabbitMQ answers at $(amqp_host_port | tr ' ' ':')"; return 0; fi
  STARTED_RABBITMQ=1
  if ! start_installed_rabbitmq; then
    say "RabbitMQ is not installed; installing it"
    apt_install rabbitmq-server || die "RabbitMQ is not running at $(amqp_host_port | tr ' ' ':') and could not be installed here.
    Install RabbitMQ 3.10 or newer (quorum queues) and start it (Debian/Ubuntu: sudo apt-get install rabbitmq-server),
    or set AMQP_URL to a running broker."
    start_installed_rabbitmq || true
  fi
  wait_until 90 rabbitmq_ready || die "RabbitMQ was started but does not answer at $(amqp_host_port | tr ' ' ':'); see /var/log/rabbitmq"
  say "RabbitMQ answers at $(amqp_host_port | tr ' ' ':')"
}

# Stops the servers these scripts started (and only those).
stop_started_infrastructure() {
  if [ "$STARTED_RABBITMQ" = 1 ]; then
    say "stopping RabbitMQ (this script started it)"
    as_root rabbitmqctl stop >/dev/null 2>&1 || as_root service rabbitmq-server stop >/dev/null 2>&1 || true
  fi
  if [ "$STARTED_POSTGRES" = 1 ]; then
    say "stopping PostgreSQL (this script started it)"
    local version
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
      for version in $(installed_postgres_versions); do
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main stop >/dev/null 2>&1 || true
      done
    else
      as_root service postgresql stop >/dev/null 2>&1 || true
    fi
  fi
}

# Runs SQL as a PostgreSQL superuser: over TCP as `postgres` where trust or a
# password allows it, else through the local socket as the postgres OS user.
psql_admin() {
  if PGCONNECT_TIMEOUT=5 psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -tAq -c 'select 1' >/dev/null 2>&1; then
    psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -tAq "$@"
  elif [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null 2>&1; then
    runuser -u postgres -- psql -p "$PG_PORT" -d postgres -v ON_ERROR_STOP=1 -tAq "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -u postgres psql -p "$PG_PORT" -d postgres -v ON_ERROR_STOP=1 -tAq "$@"
  else
    return 1
  fi
}

# Creates a login role and its databases, unless they exist.
ensure_databases() { # role password database...
  local role="$1" password="$2" database
  shift 2
  say "making sure role $role and databases $* exist"
  psql_admin -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
        CREATE ROLE \"$role\" LOGIN PASSWORD '$password';
      END IF;
    END \$\$;" || die "cannot administer PostgreSQL as its superuser; create role $role (password $password) and databases $* yourself"
  for database in "$@"; do
    if [ -z "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$database'")" ]; then
      psql_admin -c "CREATE DATABASE \"$database\" OWNER \"$role\"" || die "cannot create database $database"
      echo "  created database $database"
    else
      echo "  database $database is there"
    fi
  done
}

# Headless Chromium and chromedriver, for the browser test.
ensure_browser() {
  if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    say "Chromium and chromedriver found"
    return 0
  fi
  say "installing Chromium and chromedriver for the browser test"
  apt_install chromium chromium-driver || die "the browser test needs Chromium and chromedriver.
    Debian/Ubuntu: sudo apt-get install chromium chromium-driver
    elsewhere: install both, put chromedriver on PATH, and set CHROMIUM to the browser's path."
}

# The shell linter test.sh runs over every script (shellcheck).
ensure_shellcheck() {
  if command -v shellcheck >/dev/null 2>&1; then
    say "shellcheck found"
    return 0
  fi
  say "installing shellcheck for the scripts' lint"
  apt_install shellcheck || die "the scripts' lint needs shellcheck.
    Debian/Ubuntu: sudo apt-get install shellcheck
    elsewhere: https://github.com/koalaman/shellcheck#installing"
}

# jq, with which seed.sh writes its requests and reads the answers.
ensure_jq() {
  command -v jq >/dev/null 2>&1 && return 0
  say "installing jq (seed.sh writes and reads JSON with it)"
  apt_install jq || die "seed.sh needs jq.
    Debian/Ubuntu: sudo apt-get install jq
    elsewhere: https://jqlang.github.io/jq/download/"
}

ensure_rust() {
  command -v cargo >/dev/null 2>&1 || die "cargo is not on PATH. Install Rust with rustup (https://rustup.rs), then run this again."
}

# The test runner: cargo-nextest runs each test in a process of its own and
# ends a hung one after its bound (.config/nextest.toml), where `cargo test`
# would wait forever. Built from crates.io once per machine when missing.
ensure_nextest() {
  if cargo nextest --version >/dev/null 2>&1; then
    say "cargo-nextest found"
    return 0
  fi
  say "installing cargo-nextest from crates.io (once per machine, a few minutes)"
  cargo install --locked cargo-nextest || die "cannot install cargo-nextest: cargo install --locked cargo-nextest"
}
