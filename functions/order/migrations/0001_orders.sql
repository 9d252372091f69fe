-- The order service's copy of the product catalog, kept from inventory.updated events.
CREATE TABLE catalog_products (
  id              uuid PRIMARY KEY,
  sku             text NOT NULL,
  name            text NOT NULL,
  price_cents     integer NOT NULL CHECK (price_cents >= 0),
  currency        text NOT NULL,
  product_version integer NOT NULL,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
  id                uuid PRIMARY KEY,
  customer_id       uuid NOT NULL,
  status            text NOT NULL,
  total_cents       bigint NOT NULL CHECK (total_cents >= 0),
  currency          text NOT NULL,
  failure_reason    text,
  payment_token     text NOT NULL,
  stock_reserved    boolean NOT NULL DEFAULT false,
  payment_processed boolean NOT NULL DEFAULT false,
  version           integer NOT NULL DEFAULT 1,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_by_created ON orders (created_at DESC, id DESC);
CREATE INDEX orders_by_customer ON orders (customer_id, created_at DESC, id DESC);
CREATE INDEX orders_by_status ON orders (status, created_at DESC, id DESC);

CREATE TABLE order_items (
  order_id         uuid NOT NULL REFERENCES orders (id),
  line_no          integer NOT NULL,
  product_id       uuid NOT NULL,
  name             text NOT NULL,
  quantity         integer NOT NULL CHECK (quantity > 0),
  unit_price_cents integer NOT NULL CHECK (unit_price_cents >= 0),
  line_total_cents bigint NOT NULL,
  PRIMARY KEY (order_id, line_no)
);

-- Idempotency-Key of POST /orders: the request it first came with and the order it made.
CREATE TABLE idempotency_keys (
  key          text PRIMARY KEY,
  request_hash text NOT NULL,
  order_id     uuid NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
