-- The catalogue: stock can never go below zero, whatever the code does.
CREATE TABLE products (
    id          uuid PRIMARY KEY,
    sku         text NOT NULL UNIQUE CHECK (sku ~ '^[A-Za-z0-9._-]{1,64}$'),
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
    price       numeric(12, 2) NOT NULL CHECK (price >= 0),
    currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    stock       integer NOT NULL CHECK (stock >= 0),
    category    text NOT NULL CHECK (char_length(category) BETWEEN 1 AND 100),
    image_url   text CHECK (image_url IS NULL OR char_length(image_url) <= 2048),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX products_listing ON products (category, name) WHERE active;
CREATE INDEX products_name_search ON products (lower(name) text_pattern_ops) WHERE active;

-- Orders keep the price of each line at the time of sale.
CREATE TABLE orders (
    id             uuid PRIMARY KEY,
    customer_id    uuid,
    customer_email text NOT NULL,
    customer_name  text NOT NULL,
    status         text NOT NULL CHECK (status IN ('pending', 'confirmed', 'rejected', 'cancelled')),
    reason         text,
    total          numeric(12, 2) NOT NULL CHECK (total >= 0),
    currency       text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'rejected') = (reason IS NOT NULL))
);

CREATE INDEX orders_by_customer ON orders (customer_id, created_at DESC, id);
CREATE INDEX orders_by_status ON orders (status, created_at DESC, id);
CREATE INDEX orders_by_created ON orders (created_at DESC, id);

CREATE TABLE order_lines (
    order_id   uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no    integer NOT NULL,
    product_id uuid NOT NULL REFERENCES products (id),
    sku        text NOT NULL,
    name       text NOT NULL,
    quantity   integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    unit_price numeric(12, 2) NOT NULL CHECK (unit_price >= 0),
    line_total numeric(12, 2) NOT NULL CHECK (line_total >= 0),
    PRIMARY KEY (order_id, line_no)
);

-- The checkout saga's persisted state: the source of truth after a crash.
-- `step` is where it stands, `attempt` numbers the tries of that step (a late
-- outcome of an older attempt changes nothing), and the lease says which
-- instance drives it until when.
CREATE TABLE sagas (
    id               uuid PRIMARY KEY,
    order_id         uuid NOT NULL UNIQUE REFERENCES orders (id) ON DELETE CASCADE,
    step             text NOT NULL
                     CHECK (step IN ('verify_customer', 'reserve_stock', 'release_credit', 'done')),
    status           text NOT NULL
                     CHECK (status IN ('running', 'compensating', 'confirmed', 'rejected')),
    attempt          integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    deadline         timestamptz,
    customer_id      uuid,
    reason           text,
    lease_owner      text,
    lease_expires_at timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((step = 'done') = (status IN ('confirmed', 'rejected')))
);

CREATE INDEX sagas_unfinished ON sagas (lease_expires_at) WHERE step <> 'done';

-- Each saga's timeline: every step, when, what happened.
CREATE TABLE saga_steps (
    id      bigserial PRIMARY KEY,
    saga_id uuid NOT NULL REFERENCES sagas (id) ON DELETE CASCADE,
    step    text NOT NULL,
    status  text NOT NULL,
    detail  text,
    at      timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX saga_steps_by_saga ON saga_steps (saga_id, id);

-- Events leave through the outbox, written in the business transaction and
-- published by the relay, which marks a row sent only after the broker
-- confirmed it. The row's id is the message id, so a message published twice
-- is recognised as one.
CREATE TABLE outbox (
    id           uuid PRIMARY KEY,
    message_type text NOT NULL,
    saga_id      uuid,
    envelope     jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    sent_at      timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text
);

CREATE INDEX outbox_unsent ON outbox (created_at) WHERE sent_at IS NULL;

-- Wakes the relay at once when a row is written, in any instance.
CREATE FUNCTION notify_outbox_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox_written', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_written AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox_written();

-- Checkout idempotency: the same key with the same request is the same order.
CREATE TABLE idempotency_keys (
    key          text PRIMARY KEY CHECK (char_length(key) BETWEEN 1 AND 200),
    request_hash text NOT NULL,
    order_id     uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now()
);
