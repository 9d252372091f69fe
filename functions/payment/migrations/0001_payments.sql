CREATE TABLE payments (
  id                uuid PRIMARY KEY,
  order_id          uuid NOT NULL UNIQUE,
  amount_cents      bigint NOT NULL CHECK (amount_cents >= 0),
  currency          text NOT NULL,
  status            text NOT NULL CHECK (status IN ('PROCESSED', 'FAILED', 'REFUNDED')),
  failure_reason    text,
  charge_reference  text,
  refund_reference  text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_by_created ON payments (created_at DESC, id DESC);

-- Orders that failed or were cancelled before their payment was taken: never charge them.
CREATE TABLE payment_blocks (
  order_id   uuid PRIMARY KEY,
  reason     text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
