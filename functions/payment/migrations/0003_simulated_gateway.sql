-- The books of the simulated card gateway (payment providers' test mode). A real gateway keeps
-- these on its side; the simulator keeps them here, written outside the payment service's own
-- transactions, so that what it charged survives whatever the service rolls back, and a retried
-- call with the same idempotency key gets the first answer instead of a second charge.
CREATE SCHEMA gateway;
CREATE TABLE gateway.operations (
  idempotency_key text PRIMARY KEY,
  kind            text NOT NULL CHECK (kind IN ('charge', 'refund')),
  amount_cents    bigint NOT NULL,
  succeeded       boolean NOT NULL,
  reference       text,
  decline_reason  text,
  created_at      timestamptz NOT NULL DEFAULT now()
);
