-- The outbox is the service's event log (docs/decisions.md, "The outbox is the event log").
--
-- 1. Append-only, whatever the role. A trigger refuses UPDATE, DELETE and TRUNCATE on the log
--    for every role, the table's owner and superusers included: grants alone would not bind the
--    owner, and which role the application connects as is a deployment's choice. The one way out
--    is the archive: rows of a month whose export is on record (event_log_archives) may be
--    deleted by a transaction that says so (SET LOCAL eventflow.archiving = 'on').
-- 2. A gap-free position per service. outbox.seq comes from a sequence: a rolled-back insert burns
--    its value, and values commit out of order. Positions are given after commit instead, by one
--    sequencer at a time (shared/messaging/event-log.ts), to the rows that have become visible,
--    in seq order: 1, 2, 3… without a hole, and in the order a reader could first see them, so a
--    reader that has read up to position n and sees n+1 has missed nothing. Writers are not
--    serialised: they only stamp their transaction id (xact), which tells the sequencer which
--    rows may still appear (those of transactions not yet finished when it last looked).

REVOKE UPDATE, DELETE, TRUNCATE ON outbox FROM PUBLIC;

-- Months exported (shared/history/archive.ts): written part by part (a month can hold millions of
-- events), complete once exported_at is set; only then may the month's rows be dropped.
CREATE TABLE event_log_archives (
  month             date PRIMARY KEY CHECK (date_trunc('month', month) = month),
  location          text NOT NULL,
  events            bigint NOT NULL DEFAULT 0,
  parts             jsonb NOT NULL DEFAULT '[]',
  exported_through  bigint NOT NULL DEFAULT 0,
  first_position    bigint,
  last_position     bigint,
  checksum          text,
  started_at        timestamptz NOT NULL DEFAULT now(),
  exported_at       timestamptz,
  dropped_at        timestamptz
);

-- The month an outbox row belongs to, as the archive counts it (UTC).
CREATE FUNCTION event_log_month(created_at timestamptz) RETURNS date LANGUAGE sql IMMUTABLE AS
  $$ SELECT date_trunc('month', created_at AT TIME ZONE 'UTC')::date $$;

CREATE FUNCTION event_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  written timestamptz;
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('eventflow.archiving', true) = 'on' THEN
    -- event_log rows go first, while their outbox row still says which month they are of.
    IF TG_TABLE_NAME = 'outbox' THEN
      written := OLD.created_at;
    ELSE
      SELECT o.created_at INTO written FROM outbox o WHERE o.seq = OLD.seq;
    END IF;
    IF EXISTS (SELECT 1 FROM event_log_archives a WHERE a.month = event_log_month(written) AND a.exported_at IS NOT NULL) THEN
      RETURN OLD;
    END IF;
  END IF;
  RAISE EXCEPTION 'the event log (%) is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'events are never changed; only a month whose export is recorded in event_log_archives may be dropped';
END $$;

CREATE TRIGGER outbox_append_only BEFORE UPDATE OR DELETE ON outbox
  FOR EACH ROW EXECUTE FUNCTION event_log_refuse_change();
CREATE TRIGGER outbox_no_truncate BEFORE TRUNCATE ON outbox
  FOR EACH STATEMENT EXECUTE FUNCTION event_log_refuse_change();

-- The writer's transaction. Added without a default first (no table rewrite); new rows get it
-- from the default, the rows already there are numbered below.
ALTER TABLE outbox ADD COLUMN xact xid8;
ALTER TABLE outbox ALTER COLUMN xact SET DEFAULT pg_current_xact_id();
CREATE INDEX outbox_by_xact ON outbox (xact);

-- Position → outbox row. Written by the sequencer only; append-only like the log.
CREATE TABLE event_log (
  position bigint PRIMARY KEY,
  seq      bigint NOT NULL UNIQUE
);
CREATE TRIGGER event_log_append_only BEFORE UPDATE OR DELETE ON event_log
  FOR EACH ROW EXECUTE FUNCTION event_log_refuse_change();
CREATE TRIGGER event_log_no_truncate BEFORE TRUNCATE ON event_log
  FOR EACH STATEMENT EXECUTE FUNCTION event_log_refuse_change();
REVOKE UPDATE, DELETE, TRUNCATE ON event_log FROM PUBLIC;

-- The sequencer's state: the last position given, and the transaction horizon below which every
-- transaction has finished and its rows are numbered. One row; sequencers take turns on its lock.
CREATE TABLE event_log_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  position  bigint NOT NULL,
  horizon   xid8 NOT NULL
);

-- The rows already there (this migration holds the table's lock, so every one is committed).
INSERT INTO event_log (position, seq) SELECT row_number() OVER (ORDER BY seq), seq FROM outbox;
INSERT INTO event_log_head (position, horizon)
  SELECT (SELECT count(*) FROM outbox), pg_snapshot_xmin(pg_current_snapshot());

-- The sequencer looks for rows of transactions at or above the horizon; older rows have none.
-- (A NULL xact is a row from before this migration: numbered above.)
