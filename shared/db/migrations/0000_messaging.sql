-- Outbox: the events a service publishes, written in the same transaction as the state change
-- that causes them. Rows are kept after publishing: they are the service's event history.
CREATE TABLE outbox (
  seq          bigserial PRIMARY KEY,
  event_id     uuid NOT NULL UNIQUE,
  type         text NOT NULL,
  order_id     uuid,
  envelope     jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  -- A publisher's lease on the row: others leave it alone until then (see publishOutbox).
  claimed_until timestamptz,
  attempts     integer NOT NULL DEFAULT 0,
  last_error   text
);
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;
CREATE INDEX outbox_by_order ON outbox (order_id, seq) WHERE order_id IS NOT NULL;

-- Inbox: every event this service has taken into account, inserted in the same transaction
-- as its effects, so a redelivered event is recognised and takes effect once.
CREATE TABLE inbox (
  event_id    uuid PRIMARY KEY,
  type        text NOT NULL,
  order_id    uuid,
  envelope    jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbox_by_order ON inbox (order_id) WHERE order_id IS NOT NULL;
