-- The correlation id of the request that placed the order, so that what the system does to the
-- order later on its own (the saga deadline) joins the same timeline without reading the outbox.
ALTER TABLE orders ADD COLUMN correlation_id text;
