CREATE TABLE products (
  id                  uuid PRIMARY KEY,
  sku                 text NOT NULL UNIQUE,
  name                text NOT NULL,
  price_cents         integer NOT NULL CHECK (price_cents >= 0),
  currency            text NOT NULL,
  stock               integer NOT NULL CHECK (stock >= 0),
  reserved            integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  low_stock_threshold integer NOT NULL DEFAULT 0 CHECK (low_stock_threshold >= 0),
  version             integer NOT NULL DEFAULT 1,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  -- Available stock (stock - reserved) can never go below zero, whatever the code above does.
  CONSTRAINT reserved_within_stock CHECK (reserved <= stock)
);

-- One row per order the service has heard of. A RELEASED row without items is a tombstone:
-- the order was cancelled or its payment failed before its reservation arrived.
CREATE TABLE reservations (
  order_id   uuid PRIMARY KEY,
  status     text NOT NULL CHECK (status IN ('ACTIVE', 'FAILED', 'RELEASED', 'COMMITTED')),
  items      jsonb NOT NULL,
  reason     text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reservations_active ON reservations (order_id) WHERE status = 'ACTIVE';
