-- Customers and their credit. The database, not the code, guarantees that no
-- customer ever has less than zero credit available and that an email is
-- registered once (emails are stored lower-cased).
CREATE TABLE customers (
    id             uuid PRIMARY KEY,
    email          text NOT NULL UNIQUE
                   CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    name           text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked')),
    credit_limit   numeric(12, 2) NOT NULL CHECK (credit_limit BETWEEN 0 AND 1000000),
    -- Credit held by sagas in flight plus credit settled by confirmed orders.
    credit_used    numeric(12, 2) NOT NULL DEFAULT 0 CHECK (credit_used >= 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT credit_available_not_negative CHECK (credit_used <= credit_limit)
);

CREATE INDEX customers_name_search ON customers (lower(name) text_pattern_ops);
CREATE INDEX customers_created_at ON customers (created_at DESC, id);

-- One row per saga: what the saga holds, or why it was refused. The primary
-- key makes every RPC idempotent per saga and gives a release that arrives
-- before its reserve a row to leave behind (state 'released', no customer),
-- which fences that later reserve.
CREATE TABLE credit_reservations (
    saga_id          uuid PRIMARY KEY,
    customer_id      uuid REFERENCES customers (id) ON DELETE CASCADE,
    amount           numeric(12, 2) NOT NULL DEFAULT 0 CHECK (amount >= 0),
    currency         text,
    state            text NOT NULL
                     CHECK (state IN ('held', 'settled', 'released', 'lapsed', 'refused')),
    refusal_reason   text,
    lease_expires_at timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = 'held') = (lease_expires_at IS NOT NULL)),
    CHECK ((state = 'refused') = (refusal_reason IS NOT NULL))
);

CREATE INDEX credit_reservations_held_lease ON credit_reservations (lease_expires_at)
    WHERE state = 'held';
CREATE INDEX credit_reservations_customer ON credit_reservations (customer_id);

-- The customer's order history, kept from order events.
CREATE TABLE order_history (
    order_id     uuid PRIMARY KEY,
    customer_id  uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    saga_id      uuid NOT NULL,
    status       text NOT NULL CHECK (status IN ('confirmed', 'cancelled')),
    total        numeric(12, 2) NOT NULL CHECK (total >= 0),
    currency     text NOT NULL,
    item_count   integer NOT NULL CHECK (item_count >= 0),
    placed_at    timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX order_history_customer ON order_history (customer_id, placed_at DESC, order_id);

-- Per-customer statistics, derived from the history so they cannot drift.
CREATE VIEW customer_order_stats AS
SELECT customer_id,
       count(*)::bigint                                               AS order_count,
       coalesce(sum(total) FILTER (WHERE status = 'confirmed'), 0)     AS total_spent,
       max(placed_at)                                                  AS last_order_at
FROM order_history
GROUP BY customer_id;

-- Messages already applied: the inbox row is written in the same transaction
-- as the change, so a redelivered event changes nothing twice.
CREATE TABLE processed_messages (
    message_id   text PRIMARY KEY,
    message_type text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
