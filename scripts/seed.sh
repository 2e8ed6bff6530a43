#!/usr/bin/env bash
# Fills a running system with demo data through the REST APIs: products with
# categories and images, customers (one blocked, one with a low credit limit,
# one account with a password: account@example.com / demo-password-2026),
# and a few orders. Safe to run twice: what exists is left as it is (409s), the
# customers' states are set again, and each order is placed with a fixed
# Idempotency-Key, so a second run returns the same orders instead of new ones.
# Every request body is written by jq and every answer read with it; jq is
# installed with apt-get when missing (asking first, unless --yes or ASSUME_YES=1).
#   ORDER_API     order-svc base URL     (default http://127.0.0.1:3001)
#   CUSTOMER_API  customer-svc base URL  (default http://127.0.0.1:3002)
#   ADMIN_TOKEN   admin bearer token     (default dev-admin-token)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
only_yes_flag "$@"

ORDER_API="${ORDER_API:-http://127.0.0.1:3001}"
CUSTOMER_API="${CUSTOMER_API:-http://127.0.0.1:3002}"
ADMIN_TOKEN="${ADMIN_TOKEN:-dev-admin-token}"
body_file="$(mktemp)"
trap 'rm -f "$body_file"' EXIT

command -v curl >/dev/null 2>&1 || die "seed.sh needs curl (Debian/Ubuntu: apt-get install curl)"
ensure_jq
curl -sf -o /dev/null "$ORDER_API/healthz" \
  || die "order-svc does not answer at $ORDER_API. Start the system with ./scripts/dev.sh, or set ORDER_API."
curl -sf -o /dev/null "$CUSTOMER_API/healthz" \
  || die "customer-svc does not answer at $CUSTOMER_API. Start the system with ./scripts/dev.sh, or set CUSTOMER_API."

# call METHOD URL [BODY] [curl options...]: prints the HTTP status; the body lands in $body_file.
call() {
  local method="$1" url="$2" body="${3:-}"
  shift 3 2>/dev/null || shift $#
  local data=()
  [ -n "$body" ] && data=(--data "$body")
  curl -s -o "$body_file" -w '%{http_code}' -X "$method" -H 'content-type: application/json' "${data[@]}" "$@" "$url"
}
admin() { call "$@" -H "authorization: Bearer $ADMIN_TOKEN"; }
# answer FILTER: what the jq FILTER finds in the last answer (nothing when it
# finds nothing, or the answer is not JSON).
answer() { jq -r "($1) // empty" "$body_file" 2>/dev/null || true; }
# The error shape of both services: {"error": {"code", "message", ...}}.
error_code() { answer .error.code; }
error_message() { answer .error.message; }
# For a query string.
uri() { jq -rn --arg value "$1" '$value | @uri'; }

# --- products ---------------------------------------------------------------
say "products"
while IFS='|' read -r sku name category price stock image description; do
  [ -n "$sku" ] || continue
  body=$(jq -n --arg sku "$sku" --arg name "$name" --arg description "$description" --arg price "$price" \
    --argjson stock "$stock" --arg category "$category" --arg image_url "/images/$image.svg" \
    '{sku: $sku, name: $name, description: $description, price: $price, currency: "EUR",
      stock: $stock, category: $category, image_url: $image_url}')
  case "$(admin POST "$ORDER_API/api/v1/products" "$body")" in
    201) echo "  created $sku" ;;
    409) echo "  $sku is already there" ;;
    401) die "the admin token was refused: set ADMIN_TOKEN to the services' token" ;;
    *) die "creating $sku failed: $(cat "$body_file")" ;;
  esac
done <<'PRODUCTS'
MUG-CLASSIC|Classic Mug|Kitchen|12.50|120|mug|A 350 ml stoneware mug that keeps its glaze in the dishwasher.
KETTLE-STEEL|Steel Kettle|Kitchen|39.90|40|kettle|A 1.7 l stainless kettle with a whistle.
APRON-LINEN|Linen Apron|Kitchen|24.00|45|apron|Stonewashed linen with two deep pockets.
TEE-ORGANIC-M|Organic Tee (M)|Apparel|19.00|200|tee|Organic cotton T-shirt, medium.
BOOK-RUST|The Rust Book|Books|39.00|80|book|The programming language, in print.
BOOK-SAGAS|Sagas in Practice|Books|29.00|35|book-sagas|Distributed transactions without two-phase commit.
KBD-MECH-TKL|Mechanical Keyboard|Electronics|89.00|30|keyboard|Tenkeyless, hot-swappable switches.
HEADPHONES-NC|Noise-cancelling Headphones|Electronics|149.00|20|headphones|Over-ear, 30 hours of battery.
LAMP-DESK|Desk Lamp|Electronics|34.00|25|lamp|Dimmable warm light, USB-C powered.
CABLE-USBC-2M|USB-C Cable 2 m|Electronics|9.90|150|cable|Braided, 100 W charging.
PLANT-POT-M|Terracotta Pot (M)|Garden|14.00|70|pot|Hand-thrown, with drainage hole.
SEEDS-HERBS|Kitchen Herb Seeds|Garden|6.50|90|seeds|Basil, parsley, chives and thyme.
PRODUCTS

# --- customers --------------------------------------------------------------
say "customers"
customer_id() {
  [ "$(admin GET "$CUSTOMER_API/api/v1/customers?email=$(uri "$1")" "")" = 200 ] || die "looking up $1 failed: $(cat "$body_file")"
  answer '.items[0].id'
}
# with_limit LIMIT: the JSON object on stdin, with credit_limit when LIMIT is given.
with_limit() { jq -c --arg limit "$1" 'if $limit == "" then . else . + {credit_limit: $limit} end'; }
ensure_customer() { # email name [credit_limit] [status]
  local email="$1" name="$2" limit="${3:-}" status="${4:-active}" body id
  body=$(jq -n --arg email "$email" --arg name "$name" '{email: $email, name: $name}' | with_limit "$limit")
  case "$(admin POST "$CUSTOMER_API/api/v1/customers" "$body")" in
    201) echo "  created $email" ;;
    409) echo "  $email is already there" ;;
    *) die "creating $email failed: $(cat "$body_file")" ;;
  esac
  id="$(customer_id "$email")"
  [ -n "$id" ] || die "customer $email is not found after creating it: $(cat "$body_file")"
  body=$(jq -n --arg status "$status" '{status: $status}' | with_limit "$limit")
  [ "$(admin PATCH "$CUSTOMER_API/api/v1/customers/$id" "$body")" = 200 ] \
    || echo "  (could not set $email to $status${limit:+, limit $limit}: $(error_message))"
}
ensure_customer "demo@example.com" "Demo Shopper"
ensure_customer "vip@example.com" "Very Important Person" "20000.00"
ensure_customer "mallory@example.com" "Mallory Blocked" "" "blocked"
ensure_customer "penny@example.com" "Penny Lowcredit" "25.00"

# An account with a password, to sign in with (the UI's "Sign in").
DEMO_ACCOUNT_EMAIL="account@example.com"
DEMO_ACCOUNT_PASSWORD="demo-password-2026"
body=$(jq -n --arg email "$DEMO_ACCOUNT_EMAIL" --arg password "$DEMO_ACCOUNT_PASSWORD" \
  '{email: $email, name: "Alex Account", password: $password}')
case "$(call POST "$CUSTOMER_API/api/v1/customers" "$body")" in
  201) echo "  created $DEMO_ACCOUNT_EMAIL (an account: password $DEMO_ACCOUNT_PASSWORD)" ;;
  409) echo "  $DEMO_ACCOUNT_EMAIL is already there" ;;
  *) die "creating $DEMO_ACCOUNT_EMAIL failed: $(cat "$body_file")" ;;
esac
body=$(jq -n --arg email "$DEMO_ACCOUNT_EMAIL" --arg password "$DEMO_ACCOUNT_PASSWORD" \
  '{email: $email, password: $password}')
[ "$(call POST "$CUSTOMER_API/api/v1/sessions" "$body")" = 200 ] \
  || die "signing in as $DEMO_ACCOUNT_EMAIL failed: $(cat "$body_file")"
DEMO_ACCOUNT_TOKEN="$(answer .access_token)"

# --- orders -----------------------------------------------------------------
say "orders (each with a fixed Idempotency-Key)"
product_id() {
  [ "$(call GET "$ORDER_API/api/v1/products?q=$(uri "$1")&per_page=100")" = 200 ] || die "looking up $1 failed"
  jq -r --arg sku "$1" 'first(.items[] | select(.sku == $sku) | .id) // empty' "$body_file"
}
place_order() { # key email name sku:qty... (ORDER_TOKEN set: placed signed in)
  local key="$1" email="$2" name="$3" items="[]" line sku qty id
  shift 3
  for line in "$@"; do
    sku="${line%%:*}" qty="${line##*:}"
    id="$(product_id "$sku")"
    [ -n "$id" ] || die "product $sku is not on sale"
    items=$(jq -c --arg id "$id" --argjson quantity "$qty" '. + [{product_id: $id, quantity: $quantity}]' <<<"$items")
  done
  local body
  body=$(jq -n --arg email "$email" --arg name "$name" --argjson items "$items" \
    '{customer: {email: $email, name: $name}, items: $items}')
  local status reason
  local auth=()
  [ -n "${ORDER_TOKEN:-}" ] && auth=(-H "authorization: Bearer $ORDER_TOKEN")
  status="$(call POST "$ORDER_API/api/v1/orders" "$body" -H "idempotency-key: $key" "${auth[@]}")"
  case "$status" in
    201|202)
      reason="$(answer .reason)"
      echo "  $key: $(answer .status)${reason:+ ($reason)} — order $(answer .id)" ;;
    *) echo "  $key: HTTP $status $(error_code): $(error_message)" ;;
  esac
}
place_order seed-order-1 demo@example.com "Demo Shopper" MUG-CLASSIC:2 BOOK-RUST:1
place_order seed-order-2 vip@example.com "Very Important Person" HEADPHONES-NC:1 KBD-MECH-TKL:1
place_order seed-order-3 demo@example.com "Demo Shopper" SEEDS-HERBS:3 PLANT-POT-M:1
place_order seed-order-4 mallory@example.com "Mallory Blocked" TEE-ORGANIC-M:1
place_order seed-order-5 penny@example.com "Penny Lowcredit" KETTLE-STEEL:1
ORDER_TOKEN="$DEMO_ACCOUNT_TOKEN" place_order seed-order-6 "$DEMO_ACCOUNT_EMAIL" "Alex Account" BOOK-SAGAS:1 LAMP-DESK:1

say "demo data in place: the shop is at $ORDER_API/"
