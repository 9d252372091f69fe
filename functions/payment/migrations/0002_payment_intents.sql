-- A payment is recorded as an intent (CHARGING, REFUNDING) in its own committed step before the
-- card gateway is called, so a charge can never be taken without a record of it; the outcome is
-- written once the gateway has answered. An intent whose outcome is unknown (the process died in
-- between) is settled later by asking the gateway, which is idempotent by key.
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
  CHECK (status IN ('CHARGING', 'PROCESSED', 'FAILED', 'REFUNDING', 'REFUNDED', 'VOIDED'));
ALTER TABLE payments
  ADD COLUMN payment_token        text,
  ADD COLUMN order_version        integer NOT NULL DEFAULT 1,
  -- Set when the order ended (cancelled, out of stock) while the payment was in flight or processed.
  ADD COLUMN refund_reason        text,
  ADD COLUMN refund_order_version integer;
CREATE INDEX payments_unsettled ON payments (updated_at) WHERE status IN ('CHARGING', 'REFUNDING');
-- What caused the charge and the refund, so their outcomes, written later, join the same timeline.
ALTER TABLE payments
  ADD COLUMN correlation_id        text,
  ADD COLUMN causation_id          uuid,
  ADD COLUMN refund_correlation_id text,
  ADD COLUMN refund_causation_id   uuid;
