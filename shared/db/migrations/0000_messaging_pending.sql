-- Publishing state lives apart from the event history: the outbox keeps each event once, as
-- written, and outbox_pending holds a narrow row per event not yet published (its publisher's
-- lease, attempts, last error), deleted once the broker has confirmed the event. Marking an event
-- published is then a small delete instead of rewriting the whole event row and its indexes.
CREATE TABLE outbox_pending (
  seq           bigint PRIMARY KEY, -- outbox.seq
  claim_id      uuid,
  claimed_until timestamptz,
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text
);
INSERT INTO outbox_pending (seq, claim_id, claimed_until, attempts, last_error)
  SELECT seq, claim_id, claimed_until, attempts, last_error FROM outbox WHERE published_at IS NULL;
DROP INDEX outbox_unpublished;
ALTER TABLE outbox DROP COLUMN published_at, DROP COLUMN claimed_until, DROP COLUMN claim_id,
  DROP COLUMN attempts, DROP COLUMN last_error;

-- Only services that read their inbox's envelopes keep them (the order service's timeline);
-- the others record ids alone.
ALTER TABLE inbox ALTER COLUMN envelope DROP NOT NULL;
